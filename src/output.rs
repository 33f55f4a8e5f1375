//! Writing output files so that a failure never leaves a partial file behind: write next to the
//! target under a temporary name, then rename (atomic on one file system).

use crate::error::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A temporary path in the same folder as `path`, keeping its extension (plotters picks the image
/// format from it).
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

/// Move a finished temp file into place; on failure remove it.
pub fn commit_temp(tmp: &Path, path: &Path) -> Result<()> {
    std::fs::rename(tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(tmp);
        Error::file(path, format!("cannot write: {e}"))
    })
}

/// Write `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    ensure_parent(path)?;
    let tmp = temp_path_for(path);
    let written =
        std::fs::File::create(&tmp).and_then(|mut f| f.write_all(bytes).and_then(|_| f.sync_all()));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::file(path, format!("cannot write: {e}")));
    }
    commit_temp(&tmp, path)
}
