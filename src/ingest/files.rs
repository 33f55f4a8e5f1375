//! Opening an input safely: a folder, a device or an oversized file is refused before it is read,
//! and a reader sees the head first so that a file of the wrong kind is refused from 64 KB, not
//! after gigabytes of it are in memory. Errors are in plain words, naming the file.

use super::formats;
use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::path::Path;

/// Hex sha256 of a file's bytes, for provenance.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The largest input losscast reads: a per-step log of the longest run it represents is a few
/// hundred MB; more than this is not a log, or not one to read into memory.
pub const MAX_INPUT_BYTES: u64 = 4 << 30;

/// A file's bytes, refusing what cannot be a log before reading it: a folder, a device
/// (`/dev/zero` would be read forever), or more than [`MAX_INPUT_BYTES`] (a FIFO is read up to
/// that). Errors are in plain words, naming the file.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    open_input(path, 0)?.read_all(path)
}

/// [`read_bytes`] after `check` accepted the first [`formats::SNIFF_BYTES`]: what every reader
/// of a whole file does, so that a file of the wrong kind is refused from its head, not after
/// gigabytes of it are in memory.
pub fn read_bytes_checked(path: &Path, check: impl FnOnce(&[u8]) -> Result<()>) -> Result<Vec<u8>> {
    let opened = open_input(path, formats::SNIFF_BYTES)?;
    check(&opened.head)?;
    opened.read_all(path)
}

/// Refuse a text input (manifest, fit file, table) whose head holds NUL bytes: binary data,
/// which a text reader would otherwise echo back in its message.
pub fn refuse_binary(path: &Path, head: &[u8]) -> Result<()> {
    refuse_nul(path, head, "binary data (NUL bytes), not a text file")
}

/// An error at the line of the first NUL byte of `head`, saying `what`; `Ok` without one.
pub(crate) fn refuse_nul(path: &Path, head: &[u8], what: &str) -> Result<()> {
    match head.iter().position(|&b| b == 0) {
        Some(at) => Err(Error::at(
            path,
            head[..at].iter().filter(|b| **b == b'\n').count() + 1,
            1,
            what,
        )),
        None => Ok(()),
    }
}

/// An input opened for reading, with its first bytes already read, so that a format can be
/// sniffed from a pipe as well as from a file, and a file that is no log is refused without
/// reading it all.
pub(crate) struct Opened {
    pub head: Vec<u8>,
    rest: std::io::Take<std::fs::File>,
}

impl Opened {
    /// The head and everything after it, up to [`MAX_INPUT_BYTES`].
    pub fn read_all(mut self, path: &Path) -> Result<Vec<u8>> {
        use std::io::Read;
        self.rest
            .read_to_end(&mut self.head)
            .map_err(|e| io_error(path, &e))?;
        if self.head.len() as u64 > MAX_INPUT_BYTES {
            return Err(too_large(path));
        }
        Ok(self.head)
    }
}

/// Open `path` after refusing folders, devices and oversized files, and read its first
/// `head_bytes` bytes.
pub(crate) fn open_input(path: &Path, head_bytes: usize) -> Result<Opened> {
    use std::io::Read;
    use std::os::unix::fs::FileTypeExt;
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, &e))?;
    let kind = meta.file_type();
    if kind.is_dir() {
        return Err(Error::file(path, "is a folder, not a file"));
    }
    if kind.is_char_device() || kind.is_block_device() || kind.is_socket() {
        return Err(Error::file(
            path,
            "is a device, not a file losscast can read",
        ));
    }
    if meta.len() > MAX_INPUT_BYTES {
        return Err(too_large(path));
    }
    let f = std::fs::File::open(path).map_err(|e| io_error(path, &e))?;
    let mut rest = f.take(MAX_INPUT_BYTES + 1);
    let mut head = Vec::with_capacity(meta.len().min(MAX_INPUT_BYTES) as usize);
    (&mut rest)
        .take(head_bytes as u64)
        .read_to_end(&mut head)
        .map_err(|e| io_error(path, &e))?;
    Ok(Opened { head, rest })
}

fn too_large(path: &Path) -> Error {
    Error::file(
        path,
        format!(
            "larger than {} GiB, more than losscast reads into memory",
            MAX_INPUT_BYTES >> 30
        ),
    )
}

/// A text input (manifest, fit file): [`read_bytes`], UTF-8 with the line of the first bad
/// byte, a leading byte-order mark dropped.
pub fn read_text(path: &Path) -> Result<String> {
    read_text_checked(path, |_| Ok(()))
}

/// [`read_text`] after `check` accepted the head (which has no NUL bytes by then).
pub fn read_text_checked(path: &Path, check: impl FnOnce(&[u8]) -> Result<()>) -> Result<String> {
    let mut bytes = read_bytes_checked(path, |head| {
        refuse_binary(path, head)?;
        check(head)
    })?;
    let bom = bytes.len() - without_bom(&bytes).len();
    bytes.drain(..bom);
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..at].iter().filter(|b| **b == b'\n').count() + 1;
        Error::at(path, line, 1, "not UTF-8 text")
    })?;
    Ok(text)
}

/// `bytes` without a leading UTF-8 byte-order mark, which Excel and some exporters write and
/// which is no part of the first line's text.
pub fn without_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes)
}

/// An I/O error in plain words, naming the file.
pub fn io_error(path: &Path, e: &std::io::Error) -> Error {
    use std::io::ErrorKind as K;
    let what = match e.kind() {
        K::NotFound => "file not found".to_string(),
        K::PermissionDenied => "permission denied".to_string(),
        K::IsADirectory => "is a folder, not a file".to_string(),
        K::OutOfMemory => "too large to read into memory".to_string(),
        _ => {
            // Drop Rust's "(os error N)".
            let text = e.to_string();
            let plain = text.split(" (os error").next().unwrap_or(&text).to_string();
            format!("cannot read: {}", plain.to_lowercase())
        }
    };
    Error::file(path, what)
}
