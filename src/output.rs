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

use crate::error::{Error, Result};
use std::fs::Metadata;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

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

/// Where bytes for a path really go.
#[derive(Debug, Clone, PartialEq)]
enum Target {
    Stdout,
    Stderr,
    /// An existing device, FIFO or socket: written in place, never replaced.
    Through(PathBuf),
    /// A regular file (existing or not) at its real path, after symlinks.
    Replace(PathBuf),
}

fn target(path: &Path) -> Result<Target> {
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
fn identity(path: &Path) -> PathBuf {
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
fn same_file(a: &Path, b: &Path) -> bool {
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

/// Whether an output at `out` would replace or join the log an input folder holds (an event
/// file in a TensorBoard folder, a metric in an MLflow run). Other files in the folder, such as
/// a fit file written beside the logs, are not read and may be written.
fn part_of_folder_log(out: &Path, folder: &Path) -> bool {
    folder.is_dir()
        && identity(out).starts_with(identity(folder))
        && crate::ingest::formats::is_log_file_in_folder(&identity(out))
}

/// Check a command's outputs before it computes anything: formats by extension, no folder as a
/// file, the parent folder creatable and writable, no output on an input, no two outputs on one
/// path. Exit code 2 on any of them.
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
