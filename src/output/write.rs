//! Writing a command's files all together or not at all: each is staged under a temporary name
//! beside its target and renamed into place once every one is written; a signal removes what is
//! staged ([`remove_staged`]).

use super::paths::{target, Target};
use crate::error::{Error, Result};
use std::fs::Metadata;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A temporary path in the same folder as `path`, keeping its extension.
pub fn temp_path_for(path: &Path) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let name = match path.extension() {
        Some(ext) => format!(
            ".{stem}.tmp{}.{}",
            std::process::id(),
            ext.to_string_lossy()
        ),
        None => format!(".{stem}.tmp{}", std::process::id()),
    };
    path.with_file_name(name)
}

/// Create the parent folder of `path` if needed.
pub fn ensure_parent(path: &Path) -> Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir)
            .map_err(|e| Error::file(dir, format!("cannot create folder: {e}"))),
        _ => Ok(()),
    }
}

/// A file written under its temporary name, not yet in place.
struct Staged {
    tmp: PathBuf,
    real: PathBuf,
    shown: PathBuf,
}

/// Temp files being written now, for [`remove_staged`] when a signal ends the process.
static STAGED: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

/// Remove every temp output not yet renamed into place: the signal handler's job, so that
/// Ctrl-C during a large write leaves no `.name.tmpPID` file behind.
pub fn remove_staged() {
    if let Ok(mut staged) = STAGED.lock() {
        for p in staged.drain(..) {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Removes staged temp files unless they were committed, and keeps [`STAGED`] in step.
struct Cleanup(Vec<PathBuf>);

impl Cleanup {
    fn stage(&mut self, tmp: PathBuf) {
        if let Ok(mut staged) = STAGED.lock() {
            staged.push(tmp.clone());
        }
        self.0.push(tmp);
    }

    fn committed(&mut self, tmp: &Path) {
        if let Ok(mut staged) = STAGED.lock() {
            staged.retain(|p| p != tmp);
        }
        self.0.retain(|p| p != tmp);
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for p in std::mem::take(&mut self.0) {
            let _ = std::fs::remove_file(&p);
            self.committed(&p);
        }
    }
}

/// Write several files as one: every regular file is staged first, and only when all are
/// written are they renamed into place (devices and stdout are written last, in order).
pub fn write_all(files: &[(&Path, &[u8])]) -> Result<()> {
    let targets: Vec<Target> = files
        .iter()
        .map(|(p, _)| target(p))
        .collect::<Result<_>>()?;
    let mut cleanup = Cleanup(Vec::new());
    let mut staged = Vec::new();
    for ((path, bytes), t) in files.iter().zip(&targets) {
        let Target::Replace(real) = t else { continue };
        ensure_parent(real)?;
        let tmp = temp_path_for(real);
        cleanup.stage(tmp.clone());
        let existing = std::fs::metadata(real).ok();
        write_temp(&tmp, bytes, existing.as_ref())
            .map_err(|e| Error::file(path, format!("cannot write: {e}")))?;
        staged.push(Staged {
            tmp,
            real: real.clone(),
            shown: path.to_path_buf(),
        });
    }
    for s in &staged {
        std::fs::rename(&s.tmp, &s.real)
            .map_err(|e| Error::file(&s.shown, format!("cannot write: {e}")))?;
        cleanup.committed(&s.tmp);
    }
    for ((path, bytes), t) in files.iter().zip(&targets) {
        let written = match t {
            Target::Replace(_) => continue,
            Target::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(bytes).and_then(|_| out.flush())
            }
            Target::Stderr => std::io::stderr().write_all(bytes),
            Target::Through(real) => std::fs::OpenOptions::new()
                .write(true)
                .open(real)
                .and_then(|mut f| f.write_all(bytes)),
        };
        written.map_err(|e| Error::file(path, format!("cannot write: {e}")))?;
    }
    Ok(())
}

/// Write `bytes` to a new temp file with the mode and owner of the file it will replace.
fn write_temp(tmp: &Path, bytes: &[u8], existing: Option<&Metadata>) -> std::io::Result<()> {
    let mut f = std::fs::File::create(tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    if let Some(m) = existing {
        use std::os::unix::fs::MetadataExt;
        std::fs::set_permissions(tmp, m.permissions())?;
        // Only root can give a file away; for anyone else the owner is already theirs.
        let _ = std::os::unix::fs::chown(tmp, Some(m.uid()), Some(m.gid()));
    }
    Ok(())
}

/// Write `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_all(&[(path, bytes)])
}
