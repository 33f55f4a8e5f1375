//! The output registry: every path a command invocation reads or writes, claimed in one place,
//! so that no nested option can write over what an enclosing command reads or writes.
//!
//! `report --plan '… --free-out X'` runs `plan` in-process; so does Python's
//! `losscast.report(plan=…)`. Each inner command checks its own outputs against its own inputs,
//! which it sees as nothing but a fit label, so without the registry X could be the report's
//! manifest, a training log or the page itself, and be overwritten with exit 0. Every
//! invocation opens a [`Scope`] (the command line does it in `cli::execute`); [`super::check`]
//! checks a command's outputs against everything the enclosing scopes claimed, then claims
//! them and the command's inputs for the scopes inside it.

use super::paths::same_file;
use super::Output;
use std::cell::RefCell;
use std::path::{Path, PathBuf};

/// What one invocation claimed: the files it reads, and those it will write.
#[derive(Default)]
struct Claims {
    command: String,
    inputs: Vec<PathBuf>,
    outputs: Vec<Output>,
}

thread_local! {
    static SCOPES: RefCell<Vec<Claims>> = const { RefCell::new(Vec::new()) };
}

/// One command invocation's claims, released when it ends (also on an error or a panic).
pub struct Scope(());

impl Scope {
    /// Open the scope of a command (`command` names it in messages, e.g. "report").
    pub fn open(command: &str) -> Scope {
        SCOPES.with(|s| {
            s.borrow_mut().push(Claims {
                command: command.to_string(),
                ..Claims::default()
            })
        });
        Scope(())
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        SCOPES.with(|s| {
            s.borrow_mut().pop();
        });
    }
}

/// Why `out` may not be written: it is an input or an output of an enclosing command.
pub(super) fn conflict_with_enclosing(out: &Path) -> Option<String> {
    SCOPES.with(|s| {
        let scopes = s.borrow();
        // The innermost scope is the command checking; the ones before it enclose it.
        let enclosing = scopes.len().saturating_sub(1);
        scopes[..enclosing].iter().rev().find_map(|c| {
            if let Some(i) = c.inputs.iter().find(|i| i.is_file() && same_file(out, i)) {
                return Some(format!(
                    "is also an input of the enclosing `{}` ({}); refusing to overwrite what it \
                     reads",
                    c.command,
                    i.display()
                ));
            }
            c.outputs.iter().find(|o| same_file(out, &o.path)).map(|o| {
                format!(
                    "is the same file as the enclosing `{}`'s {} {}; give each output its own \
                         path",
                    c.command,
                    o.flag,
                    o.path.display()
                )
            })
        })
    })
}

/// Claim `outputs` and `inputs` for the current scope, for the commands it runs inside it.
pub(super) fn claim(outputs: &[Output], inputs: &[PathBuf]) {
    SCOPES.with(|s| {
        if let Some(c) = s.borrow_mut().last_mut() {
            c.outputs.extend(outputs.iter().cloned());
            c.inputs.extend(inputs.iter().cloned());
        }
    });
}

/// Claim the files a command reads that it did not name when it checked its outputs (the logs
/// a manifest lists, found only once it is read).
pub fn claim_inputs(inputs: &[PathBuf]) {
    claim(&[], inputs);
}
