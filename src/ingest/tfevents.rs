//! TensorBoard event files (`events.out.tfevents.*`): TFRecord framing with masked CRC-32C
//! checks, and a minimal protobuf walker for the few `Event`/`Summary` fields that carry
//! scalars (log-formats.md §3).
//!
//! Why our own ~300 lines: the crates that read event files either need `protoc` at build time
//! or bring a large, dormant dependency tree, and we only need varints, fixed-width numbers and
//! length-delimited fields. Every scalar encoding seen in the wild is decoded: `simple_value`
//! (PyTorch, Lightning, HF), DT_FLOAT `float_val` and DT_DOUBLE `double_val` (PyTorch
//! `new_style`), and DT_FLOAT/DT_DOUBLE `tensor_content` (TF2, Keras).
//!
//! A checksum mismatch is an error naming the record's byte offset: a silently skipped record
//! would be a silently missing point. A record cut off at the end of the file is what a writer
//! that is still running leaves behind, so it ends the read with a warning instead.

use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::path::Path;

/// One scalar point of a tag.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scalar {
    pub step: i64,
    pub wall_time: f64,
    pub value: f64,
}

/// The scalars of one event file, by tag, in file order.
#[derive(Debug, Clone, Default)]
pub struct EventFile {
    pub scalars: BTreeMap<String, Vec<Scalar>>,
    pub records: usize,
    /// Tags seen that are not scalars (histograms, text, hparams), with what they were.
    pub skipped: BTreeMap<String, String>,
    pub warnings: Vec<String>,
}

/// CRC-32C (Castagnoli) masked as TFRecord does, so that a CRC of data holding CRCs stays
/// well-distributed.
fn masked_crc(bytes: &[u8]) -> u32 {
    let c = crc32c::crc32c(bytes);
    (c.rotate_right(15)).wrapping_add(0xA282_EAD8)
}

fn u32_le(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// Whether `bytes` start with a TFRecord header whose length checksum holds: how an event file
/// is recognised whatever its name.
/// Whether the first record's payload looks like TensorBoard's opening Event
/// (`file_version: "brain.Event:2"`), which a damaged length or checksum does not change.
pub fn mentions_event(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(128)]
        .windows(11)
        .any(|w| w == b"brain.Event")
}

pub fn header_ok(bytes: &[u8]) -> bool {
    bytes.len() >= 12 && masked_crc(&bytes[..8]) == u32_le(&bytes[8..12])
}

/// Split a file into its records' payloads, checking both checksums of each.
pub fn records<'a>(
    path: &Path,
    bytes: &'a [u8],
    warnings: &mut Vec<String>,
) -> Result<Vec<&'a [u8]>> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos < bytes.len() {
        let rest = &bytes[pos..];
        if rest.len() < 12 {
            warnings.push(format!(
                "{}: {} trailing byte(s) at offset {pos} are a cut-off record header \
                 (file still being written?); ignored",
                path.display(),
                rest.len()
            ));
            break;
        }
        let len_bytes = &rest[..8];
        if masked_crc(len_bytes) != u32_le(&rest[8..12]) {
            return Err(Error::file(
                path,
                format!(
                    "record at byte offset {pos}: length checksum mismatch; the file is \
                     corrupt or not a TensorBoard event file"
                ),
            ));
        }
        let len = u64::from_le_bytes(len_bytes.try_into().expect("8 bytes"));
        let need = 12u64.saturating_add(len).saturating_add(4);
        if need > rest.len() as u64 {
            warnings.push(format!(
                "{}: the record at byte offset {pos} is cut off ({len} data bytes announced, \
                 {} present; file still being written?); ignored",
                path.display(),
                rest.len().saturating_sub(16)
            ));
            break;
        }
        let len = len as usize;
        let data = &rest[12..12 + len];
        if masked_crc(data) != u32_le(&rest[12 + len..16 + len]) {
            return Err(Error::file(
                path,
                format!(
                    "record at byte offset {pos}: data checksum mismatch; the record is corrupt"
                ),
            ));
        }
        out.push(data);
        pos += 16 + len;
    }
    Ok(out)
}

/// One protobuf field's payload.
enum Wire<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
}

/// Walks the fields of one protobuf message; `None` means malformed bytes.
struct Fields<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Fields<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Fields { buf, pos: 0 }
    }

    fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.buf.get(self.pos)?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    /// The next field, `Some(None)` at the end, `None` when malformed.
    fn next_field(&mut self) -> Option<Option<(u64, Wire<'a>)>> {
        if self.pos == self.buf.len() {
            return Some(None);
        }
        let key = self.varint()?;
        let (field, wire) = (key >> 3, key & 7);
        let value = match wire {
            0 => Wire::Varint(self.varint()?),
            1 => Wire::Fixed64(u64::from_le_bytes(self.take(8)?.try_into().ok()?)),
            2 => {
                let n = usize::try_from(self.varint()?).ok()?;
                Wire::Bytes(self.take(n)?)
            }
            5 => Wire::Fixed32(u32::from_le_bytes(self.take(4)?.try_into().ok()?)),
            _ => return None, // groups (3, 4) are not used by these messages
        };
        Some(Some((field, value)))
    }

    /// Every field, or `None` if the message is malformed.
    fn all(mut self) -> Option<Vec<(u64, Wire<'a>)>> {
        let mut out = Vec::new();
        while let Some(f) = self.next_field()? {
            out.push(f);
        }
        Some(out)
    }
}

const DT_FLOAT: u64 = 1;
const DT_DOUBLE: u64 = 2;

/// The value of a rank-0 DT_FLOAT/DT_DOUBLE `TensorProto`, or why it is not a scalar.
fn tensor_scalar(bytes: &[u8]) -> std::result::Result<f64, String> {
    let fields = Fields::new(bytes).all().ok_or("malformed tensor")?;
    let mut dtype = 0;
    let mut rank = 0usize;
    let mut content: Option<&[u8]> = None;
    let (mut floats, mut doubles) = (Vec::new(), Vec::new());
    for (f, w) in fields {
        match (f, w) {
            (1, Wire::Varint(d)) => dtype = d,
            (2, Wire::Bytes(shape)) => {
                let dims = Fields::new(shape).all().ok_or("malformed tensor shape")?;
                rank += dims.iter().filter(|(f, _)| *f == 2).count();
            }
            (4, Wire::Bytes(c)) => content = Some(c),
            (5, Wire::Bytes(packed)) => floats.extend(
                packed
                    .chunks_exact(4)
                    .map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]]))),
            ),
            (5, Wire::Fixed32(v)) => floats.push(f64::from(f32::from_bits(v))),
            (6, Wire::Bytes(packed)) => doubles.extend(
                packed
                    .chunks_exact(8)
                    .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))),
            ),
            (6, Wire::Fixed64(v)) => doubles.push(f64::from_bits(v)),
            _ => {}
        }
    }
    if rank != 0 {
        return Err(format!("a tensor of rank {rank}, not a scalar"));
    }
    match dtype {
        DT_FLOAT => match (floats.first(), content) {
            (Some(&v), _) => Ok(v),
            (None, Some(c)) if c.len() == 4 => {
                Ok(f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]])))
            }
            _ => Err("a DT_FLOAT tensor without a value".into()),
        },
        DT_DOUBLE => match (doubles.first(), content) {
            (Some(&v), _) => Ok(v),
            (None, Some(c)) if c.len() == 8 => Ok(f64::from_le_bytes(c.try_into().expect("8"))),
            _ => Err("a DT_DOUBLE tensor without a value".into()),
        },
        other => Err(format!("a tensor of dtype {other}, not float or double")),
    }
}

/// `SummaryMetadata.plugin_data.plugin_name`, if any.
fn plugin_name(metadata: &[u8]) -> Option<String> {
    let fields = Fields::new(metadata).all()?;
    fields.into_iter().find_map(|(f, w)| match (f, w) {
        (1, Wire::Bytes(pd)) => {
            Fields::new(pd)
                .all()?
                .into_iter()
                .find_map(|(f, w)| match (f, w) {
                    (1, Wire::Bytes(name)) => Some(String::from_utf8_lossy(name).into_owned()),
                    _ => None,
                })
        }
        _ => None,
    })
}

/// Decode the scalars of an event file's bytes.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<EventFile> {
    let mut file = EventFile::default();
    let recs = records(path, bytes, &mut file.warnings)?;
    file.records = recs.len();
    let malformed = |i: usize, what: &str| {
        Error::file(
            path,
            format!("record {} (0-based {i}): malformed {what}", i + 1),
        )
    };
    for (i, rec) in recs.iter().enumerate() {
        let fields = Fields::new(rec)
            .all()
            .ok_or_else(|| malformed(i, "Event"))?;
        let (mut step, mut wall_time, mut summary) = (0i64, 0.0f64, None);
        for (f, w) in fields {
            match (f, w) {
                (1, Wire::Fixed64(v)) => wall_time = f64::from_bits(v),
                (2, Wire::Varint(v)) => step = v as i64,
                (5, Wire::Bytes(s)) => summary = Some(s),
                _ => {}
            }
        }
        let Some(summary) = summary else { continue };
        let values = Fields::new(summary)
            .all()
            .ok_or_else(|| malformed(i, "Summary"))?;
        for (f, w) in values {
            let (1, Wire::Bytes(value)) = (f, w) else {
                continue;
            };
            let fields = Fields::new(value)
                .all()
                .ok_or_else(|| malformed(i, "Summary.Value"))?;
            let (mut tag, mut simple, mut tensor, mut plugin) = (String::new(), None, None, None);
            for (f, w) in fields {
                match (f, w) {
                    (1, Wire::Bytes(t)) => tag = String::from_utf8_lossy(t).into_owned(),
                    (2, Wire::Fixed32(v)) => simple = Some(f64::from(f32::from_bits(v))),
                    (8, Wire::Bytes(t)) => tensor = Some(t),
                    (9, Wire::Bytes(m)) => plugin = plugin_name(m),
                    _ => {}
                }
            }
            if matches!(plugin.as_deref(), Some(p) if p != "scalars") {
                let p = plugin.unwrap_or_default();
                file.skipped
                    .entry(tag)
                    .or_insert_with(|| format!("plugin '{p}'"));
                continue;
            }
            let value = match (simple, tensor) {
                (Some(v), _) => Ok(v),
                (None, Some(t)) => tensor_scalar(t),
                (None, None) => Err("no scalar value (image, histogram or audio)".to_string()),
            };
            match value {
                Ok(value) => file.scalars.entry(tag).or_default().push(Scalar {
                    step,
                    wall_time,
                    value,
                }),
                Err(why) => {
                    file.skipped.entry(tag).or_insert(why);
                }
            }
        }
    }
    if file.records == 0 {
        return Err(Error::file(
            path,
            "no complete record: not a TensorBoard event file?",
        ));
    }
    Ok(file)
}

/// Read one event file.
pub fn read(path: &Path) -> Result<EventFile> {
    let bytes = super::read_bytes(path)?;
    parse(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frame payloads as TFRecord does.
    pub(crate) fn frame(payloads: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for p in payloads {
            let len = (p.len() as u64).to_le_bytes();
            out.extend_from_slice(&len);
            out.extend_from_slice(&masked_crc(&len).to_le_bytes());
            out.extend_from_slice(p);
            out.extend_from_slice(&masked_crc(p).to_le_bytes());
        }
        out
    }

    #[test]
    fn decodes_the_tf2_reference_record_of_tensorboards_own_tests() {
        // log-formats.md §3: Event{step 77, summary{value{tag "accuracy", tensor{DT_FLOAT,
        // shape {}, tensor_content a4 70 7d 3f}, metadata{plugin "scalars"}}}}.
        let mut ev = vec![0x09];
        ev.extend_from_slice(&1.5e9f64.to_le_bytes());
        ev.extend_from_slice(&[0x10, 0x4d, 0x2a, 0x25, 0x0a, 0x23, 0x0a, 0x08]);
        ev.extend_from_slice(b"accuracy");
        ev.extend_from_slice(&[
            0x42, 0x0a, 0x08, 0x01, 0x12, 0x00, 0x22, 0x04, 0xa4, 0x70, 0x7d, 0x3f,
        ]);
        ev.extend_from_slice(&[0x4a, 0x0b, 0x0a, 0x09, 0x0a, 0x07]);
        ev.extend_from_slice(b"scalars");
        let bytes = frame(&[&ev]);
        let f = parse(Path::new("t"), &bytes).unwrap();
        let acc = &f.scalars["accuracy"];
        assert_eq!(acc.len(), 1);
        assert_eq!(acc[0].step, 77);
        assert_eq!(
            acc[0].value,
            f64::from(f32::from_le_bytes([0xa4, 0x70, 0x7d, 0x3f]))
        );
        assert!((acc[0].value - 0.99).abs() < 1e-6);
    }

    #[test]
    fn corruption_is_an_error_and_a_cut_off_tail_a_warning() {
        let ev = [0x10u8, 0x05]; // Event{step 5}
        let bytes = frame(&[&ev, &ev]);
        let mut flipped = bytes.clone();
        flipped[13] ^= 0x01; // a data byte of the first record
        let e = parse(Path::new("t"), &flipped).unwrap_err().to_string();
        assert!(e.contains("byte offset 0: data checksum mismatch"), "{e}");
        let mut flipped = bytes.clone();
        flipped[3] ^= 0x40; // the first length
        let e = parse(Path::new("t"), &flipped).unwrap_err().to_string();
        assert!(e.contains("length checksum mismatch"), "{e}");
        let f = parse(Path::new("t"), &bytes[..bytes.len() - 3]).unwrap();
        assert_eq!(f.records, 1);
        assert!(f.warnings[0].contains("cut off"), "{:?}", f.warnings);
        assert!(parse(Path::new("t"), b"step,loss\n1,2\n").is_err());
        // Every prefix of a valid file reads or fails cleanly, never panics.
        for n in 0..bytes.len() {
            let _ = parse(Path::new("t"), &bytes[..n]);
        }
    }
}
