//! The complete part of a log that a trainer is still writing.
//!
//! A trainer appends: a line of text, a JSON line, a CSV row, a TensorBoard record. Whatever
//! is read while it writes can end inside one, and a torn line parses as a wrong number ("3.9"
//! from a half-written "3.9363") or as a bad cell. Only the bytes up to the last complete
//! record are handed to the readers; the rest waits for the next poll.

use crate::ingest::formats::{self, Format};
use std::path::Path;

/// The longest prefix of `bytes` (the log at `path`) made of complete records.
pub fn complete_prefix<'a>(path: &Path, bytes: &'a [u8]) -> &'a [u8] {
    let head = &bytes[..bytes.len().min(formats::SNIFF_BYTES)];
    match formats::detect_file(path, head) {
        Some(Format::Tensorboard) => &bytes[..complete_records(bytes)],
        // A whole document, rewritten in place: it parses or it is not ready.
        Some(Format::HfTrainerState | Format::Parquet) => bytes,
        _ => match bytes.iter().rposition(|&b| b == b'\n') {
            Some(i) => &bytes[..=i],
            None => &[],
        },
    }
}

/// Bytes of the TFRecord framing (8-byte length, 4-byte CRC, data, 4-byte CRC) that form whole
/// records; the checksums are the reader's job.
fn complete_records(bytes: &[u8]) -> usize {
    let mut pos = 0usize;
    while bytes.len() - pos >= 12 {
        let len = u64::from_le_bytes(bytes[pos..pos + 8].try_into().expect("8 bytes"));
        let Some(end) = usize::try_from(len)
            .ok()
            .and_then(|l| pos.checked_add(16)?.checked_add(l))
        else {
            break;
        };
        if end > bytes.len() {
            break;
        }
        pos = end;
    }
    pos
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_last_line_waits() {
        let p = Path::new("log.csv");
        assert_eq!(
            complete_prefix(p, b"step,loss\n1,3.5\n2,3.4"),
            b"step,loss\n1,3.5\n"
        );
        assert_eq!(complete_prefix(p, b"step,lo"), b"");
        let whole = b"step,loss\n1,3.5\n";
        assert_eq!(complete_prefix(p, whole), whole);
    }

    #[test]
    fn a_cut_record_waits() {
        // Two records of 3 and 2 data bytes, the second cut short.
        let mut b = Vec::new();
        for data in [&b"abc"[..], &b"de"[..]] {
            b.extend((data.len() as u64).to_le_bytes());
            b.extend([0u8; 4]);
            b.extend(data);
            b.extend([0u8; 4]);
        }
        assert_eq!(complete_records(&b), b.len());
        assert_eq!(complete_records(&b[..b.len() - 1]), 19);
        assert_eq!(complete_records(&b[..5]), 0);
    }
}
