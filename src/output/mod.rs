//! Writing a command's output files: checked before any work, written all together or not at all.
//!
//! A fit with a long bootstrap must not be lost to a typo in `--plot`, so every command states
//! its outputs up front and [`check`] refuses a bad extension, a folder, an output that is also
//! an input (`fit x.csv --out x.csv`), or two outputs on one path, before computing anything.
//! [`write_all`] then stages every file under a temporary name beside its target and only
//! renames them into place once all are written: a failure leaves no partial file and no half of
//! a command's outputs.
//!
//! A target is written the way a careful `cp` would: through a symlink to the file it names,
//! keeping an existing file's mode and owner, and straight into a device or FIFO (`/dev/null`,
//! `/dev/stdout`) instead of renaming a regular file over it.

//!
//! [`check`] is in `check.rs`, [`write_all`] in `write.rs`, what both must know about a path
//! (where its bytes really go, whether two spellings name one file) in `paths.rs`, and the
//! paths every command of one invocation claimed (so that a nested `--plan '… --free-out X'`
//! cannot write over the enclosing command's files) in `registry.rs`.

mod check;
mod paths;
pub mod registry;
mod write;

pub use check::check;
pub use paths::same_place;
pub use registry::Scope;
pub use write::{ensure_parent, remove_staged, temp_path_for, write_all, write_atomic};

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// What an output holds, which decides the extensions it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// JSON or CSV text: any name.
    Text,
    /// A figure: `.png` or `.svg`, which picks the format.
    Image,
}

/// One output of a command, named by the flag that set it, for messages.
#[derive(Debug, Clone)]
pub struct Output {
    pub flag: String,
    pub path: PathBuf,
    pub kind: Kind,
}

impl Output {
    pub fn new(flag: &str, path: &Path, kind: Kind) -> Self {
        Output {
            flag: flag.to_string(),
            path: path.to_path_buf(),
            kind,
        }
    }
}

/// Image formats by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
    Svg,
}

/// The image format a path's extension asks for.
pub fn image_format(path: &Path) -> Result<ImageFormat> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "png" => Ok(ImageFormat::Png),
        "svg" => Ok(ImageFormat::Svg),
        _ => Err(Error::file(
            path,
            "a figure must be named .png or .svg (the extension picks the format)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_symlinked_output_writes_its_target_and_keeps_the_link() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.json");
        std::fs::write(&real, "old").unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink("real.json", &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
        // A dangling link creates the file it names.
        let dangling = dir.path().join("dangling.json");
        std::os::unix::fs::symlink("made.json", &dangling).unwrap();
        write_atomic(&dangling, b"made").unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("made.json")).unwrap(),
            "made"
        );
    }

    #[test]
    fn an_existing_files_mode_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("secret.json");
        std::fs::write(&p, "old").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        write_atomic(&p, b"new").unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
    }

    #[test]
    fn devices_are_written_through_not_replaced() {
        write_atomic(Path::new("/dev/null"), b"nothing").unwrap();
        let m = std::fs::metadata("/dev/null").unwrap();
        assert!(!m.is_file(), "/dev/null is still a device");
        // A FIFO gets the bytes and stays a FIFO.
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read(fifo).unwrap())
        };
        write_atomic(&fifo, b"through").unwrap();
        assert_eq!(reader.join().unwrap(), b"through");
        assert!(!std::fs::metadata(&fifo).unwrap().is_file());
    }

    #[test]
    fn outputs_are_checked_before_any_work() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("x.csv");
        std::fs::write(&input, "step,loss\n1,2\n").unwrap();
        let out = |flag: &str, p: &Path, kind| Output::new(flag, p, kind);
        // An output that is an input, spelt differently.
        let spelt = dir.path().join("sub/../x.csv");
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let e = check(
            &[out("--out", &spelt, Kind::Text)],
            std::slice::from_ref(&input),
        )
        .unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("is also an input"), "{e}");
        // Two outputs on one path.
        let a = dir.path().join("a.json");
        let e = check(
            &[
                out("--out", &a, Kind::Text),
                out("--free-out", &a, Kind::Text),
            ],
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("same file as --out"), "{e}");
        // A figure needs .png or .svg; a folder is not a file; a file is not a folder.
        let e = check(
            &[out("--plot", &dir.path().join("p.jpg"), Kind::Image)],
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains(".png or .svg"), "{e}");
        let e = check(&[out("--out", dir.path(), Kind::Text)], &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("is a folder"), "{e}");
        let e = check(&[out("--out", &input.join("f.json"), Kind::Text)], &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("is not a folder"), "{e}");
        // A file the reader of an input folder would take as part of the log; a fit file
        // beside the logs is fine.
        let sub = dir.path().join("sub");
        let e = check(
            &[out(
                "--out",
                &sub.join("events.out.tfevents.1.host"),
                Kind::Text,
            )],
            std::slice::from_ref(&sub),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("part of the log in the input folder"), "{e}");
        assert!(check(
            &[out("--out", &sub.join("fit.json"), Kind::Text)],
            std::slice::from_ref(&sub)
        )
        .is_ok());
        // Nothing was created by the checks.
        assert!(!a.exists());
    }

    #[test]
    fn a_failed_write_leaves_none_of_the_outputs() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.json");
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, "x").unwrap();
        let b = blocker.join("b.json");
        assert!(write_all(&[(&a, b"a"), (&b, b"b")]).is_err());
        assert!(!a.exists(), "the first output was not put in place");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temp files left: {left:?}");
    }
}
