//! One error type for the whole library, turned into a message and an exit code at the CLI edge.
//!
//! Two kinds matter to a user: their input was wrong (exit 2, they must fix a file or a flag), or
//! losscast could not do the job on valid input (exit 1, e.g. every fit start failed). Messages
//! always name the file and, where there is one, the line and column.

use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The user's input (a file, a flag, a spec) is wrong. Exit code 2.
    #[error("{0}")]
    BadInput(String),
    /// Valid input, but the computation could not give a usable answer. Exit code 1.
    #[error("{0}")]
    Failed(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::BadInput(_) => 2,
            Error::Failed(_) => 1,
        }
    }

    /// A problem with a file as a whole (missing, unreadable, missing column).
    pub fn file(path: &Path, msg: impl std::fmt::Display) -> Self {
        Error::BadInput(format!("{}: {msg}", path.display()))
    }

    /// A problem at one place in a text file. Lines and columns are 1-based, as editors show them.
    pub fn at(path: &Path, line: usize, column: usize, msg: impl std::fmt::Display) -> Self {
        Error::BadInput(format!("{}:{line}:{column}: {msg}", path.display()))
    }

    pub fn input(msg: impl std::fmt::Display) -> Self {
        Error::BadInput(msg.to_string())
    }

    pub fn failed(msg: impl std::fmt::Display) -> Self {
        Error::Failed(msg.to_string())
    }
}
