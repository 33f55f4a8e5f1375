//! What a path means for an output: where its bytes really go (through symlinks, into a device,
//! to stdout), and whether two spellings name one file before either exists.

use crate::error::{Error, Result};
use std::path::{Component, Path, PathBuf};

/// Where bytes for a path really go.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Target {
    Stdout,
    Stderr,
    /// An existing device, FIFO or socket: written in place, never replaced.
    Through(PathBuf),
    /// A regular file (existing or not) at its real path, after symlinks.
    Replace(PathBuf),
}

pub(super) fn target(path: &Path) -> Result<Target> {
    let text = path.to_string_lossy();
    match text.as_ref() {
        "/dev/stdout" | "/dev/fd/1" | "/proc/self/fd/1" => return Ok(Target::Stdout),
        "/dev/stderr" | "/dev/fd/2" | "/proc/self/fd/2" => return Ok(Target::Stderr),
        _ => {}
    }
    let real = follow_symlinks(path)?;
    match std::fs::metadata(&real) {
        Ok(m) if m.is_dir() => Err(Error::file(path, "is a folder; give a file name")),
        Ok(m) if m.is_file() => Ok(Target::Replace(real)),
        Ok(_) => Ok(Target::Through(real)),
        Err(_) => Ok(Target::Replace(real)),
    }
}

/// The path a chain of symlinks ends at, whether or not that file exists yet.
fn follow_symlinks(path: &Path) -> Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = std::fs::read_link(&p)
                    .map_err(|e| Error::file(path, format!("cannot read symlink: {e}")))?;
                p = match p.parent() {
                    Some(dir) if to.is_relative() => dir.join(to),
                    _ => to,
                };
            }
            _ => return Ok(p),
        }
    }
    Err(Error::file(path, "too many levels of symlinks"))
}

/// An absolute path with `.`, `..` and symlinks resolved as far as the path exists, so two
/// spellings of one file compare equal before it is created.
pub(super) fn identity(path: &Path) -> PathBuf {
    let real = follow_symlinks(path).unwrap_or_else(|_| path.to_path_buf());
    if let Ok(c) = std::fs::canonicalize(&real) {
        return c;
    }
    let abs = if real.is_absolute() {
        real
    } else {
        std::env::current_dir().unwrap_or_default().join(real)
    };
    // Canonicalise the longest existing ancestor, then append the rest lexically.
    let mut rest = Vec::new();
    let mut base = abs.as_path();
    loop {
        if let Ok(c) = std::fs::canonicalize(base) {
            let mut out = c;
            for part in rest.iter().rev() {
                match part {
                    Component::ParentDir => {
                        out.pop();
                    }
                    Component::CurDir => {}
                    other => out.push(other.as_os_str()),
                }
            }
            return out;
        }
        match (base.parent(), base.components().next_back()) {
            (Some(parent), Some(last)) => {
                rest.push(last);
                base = parent;
            }
            _ => return abs.clone(),
        }
    }
}

/// Whether `a` and `b` name the same file.
pub(super) fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    if let (Ok(ma), Ok(mb)) = (std::fs::metadata(a), std::fs::metadata(b)) {
        if ma.dev() == mb.dev() && ma.ino() == mb.ino() {
            return true;
        }
    }
    identity(a) == identity(b)
}

/// Whether two paths name the same file or folder, however spelt.
pub fn same_place(a: &Path, b: &Path) -> bool {
    same_file(a, b)
}
