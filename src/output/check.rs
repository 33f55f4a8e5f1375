//! What [`check`] refuses before a command does any work: a bad extension, a folder, an
//! unwritable place, an output that is also an input, two outputs on one path.

use super::paths::{identity, same_file, target, Target};
use super::registry;
use super::{image_format, Kind, Output};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// Whether an output at `out` would replace or join the log an input folder holds (an event
/// file in a TensorBoard folder, a metric in an MLflow run). Other files in the folder, such as
/// a fit file written beside the logs, are not read and may be written.
fn part_of_folder_log(out: &Path, folder: &Path) -> bool {
    folder.is_dir()
        && identity(out).starts_with(identity(folder))
        && crate::ingest::formats::is_log_file_in_folder(&identity(out))
}

/// Check a command's outputs before it computes anything: formats by extension, a file name the
/// file system takes, no folder as a file, the parent folder creatable and writable, no output
/// on an input, no two outputs on one path, and none on what an enclosing command (`report`
/// running `plan` for its `--plan`) reads or writes. Exit code 2 on any of them. The outputs
/// and inputs are then claimed in the [`registry`] for the commands this one runs.
pub fn check(outputs: &[Output], inputs: &[PathBuf]) -> Result<()> {
    let bad =
        |o: &Output, msg: String| Error::input(format!("{} {}: {msg}", o.flag, o.path.display()));
    for (i, o) in outputs.iter().enumerate() {
        if o.path.as_os_str().is_empty() {
            return Err(Error::input(format!("{}: empty path", o.flag)));
        }
        if o.kind == Kind::Image {
            image_format(&o.path).map_err(|_| {
                bad(
                    o,
                    "a figure must be named .png or .svg (the extension picks the format)".into(),
                )
            })?;
        }
        check_name(&o.path).map_err(|m| bad(o, m))?;
        if let Some(why) = registry::conflict_with_enclosing(&o.path) {
            return Err(bad(o, why));
        }
        let t = target(&o.path).map_err(|e| bad(o, strip_path(&e, &o.path)))?;
        if let Target::Replace(real) = &t {
            check_folder(real).map_err(|m| bad(o, m))?;
        }
        for input in inputs {
            let what = if input.is_dir() {
                part_of_folder_log(&o.path, input)
                    .then_some("would be part of the log in the input folder")
            } else {
                same_file(&o.path, input).then_some("is also an input")
            };
            if let Some(what) = what {
                return Err(bad(
                    o,
                    format!(
                        "{what} {}; refusing to overwrite what this command reads",
                        input.display()
                    ),
                ));
            }
        }
        for other in &outputs[..i] {
            let same = match (&t, target(&other.path)) {
                (Target::Stdout, Ok(Target::Stdout)) | (Target::Stderr, Ok(Target::Stderr)) => true,
                (Target::Stdout | Target::Stderr, _) | (_, Ok(Target::Stdout | Target::Stderr)) => {
                    false
                }
                _ => same_file(&o.path, &other.path),
            };
            if same {
                return Err(bad(
                    o,
                    format!(
                        "same file as {} {}; give each output its own path",
                        other.flag,
                        other.path.display()
                    ),
                ));
            }
        }
    }
    registry::claim(outputs, inputs);
    Ok(())
}

/// Longest file name (bytes) Linux file systems take; the staged temp name adds to the target's.
const NAME_MAX: usize = 255;

/// The file name, and the temp name it is staged under, must fit the file system, or the
/// write would fail after all the work with "File name too long".
fn check_name(path: &Path) -> std::result::Result<(), String> {
    let staged = super::write::temp_path_for(path);
    for p in [path, staged.as_path()] {
        if let Some(name) = p.file_name() {
            if name.len() > NAME_MAX {
                return Err(format!(
                    "the file name is {} bytes{}; file systems take at most {NAME_MAX}",
                    name.len(),
                    if p == path {
                        String::new()
                    } else {
                        " once staged under its temporary name".to_string()
                    }
                ));
            }
        }
    }
    Ok(())
}

/// An error's text without the leading path (the caller names the flag and path itself).
fn strip_path(e: &Error, path: &Path) -> String {
    let text = e.to_string();
    let prefix = format!("{}: ", path.display());
    text.strip_prefix(&prefix).unwrap_or(&text).to_string()
}

/// The folder a new file at `real` goes into must exist or be creatable, and be writable.
fn check_folder(real: &Path) -> std::result::Result<(), String> {
    let dir = match real.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut existing = dir.as_path();
    while !existing.exists() {
        match existing.parent() {
            Some(p) if !p.as_os_str().is_empty() => existing = p,
            _ => {
                existing = Path::new(".");
                break;
            }
        }
    }
    if !existing.is_dir() {
        return Err(format!(
            "{} is not a folder, so the output cannot be created under it",
            existing.display()
        ));
    }
    // Permission bits do not tell root's or ACL's answer; creating a file does.
    let probe = existing.join(format!(".losscast-probe-{}", std::process::id()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(format!("cannot write in {}: {e}", existing.display())),
    }
}
