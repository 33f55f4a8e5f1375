//! A CSV file held as text and as a Polars frame of strings, so that every bad cell can be
//! reported at its line and column.
//!
//! Polars tokenises; we parse the cells ourselves. Type inference would turn a column with one
//! stray `oops` into strings (or, with `ignore_errors`, into a silent null), and the user would
//! get no line to look at. Parsing strings ourselves costs little and gives exact positions.

use crate::error::{Error, Result};
use polars::prelude::*;
use std::borrow::Cow;
use std::io::Cursor;
use std::path::Path;

pub(crate) struct CsvText<'a> {
    path: &'a Path,
    bytes: &'a [u8],
    /// Byte offset and 1-based line number of each non-blank line; entry 0 is the header.
    lines: Vec<(usize, usize)>,
    /// What Polars reads: the file itself, or, when it has blank lines or CRs, the non-blank
    /// lines alone, `\n`-terminated. A blank line (often at the end, as editors leave it) would
    /// otherwise become a row of empty cells, and rows would no longer match `lines`.
    clean: Cow<'a, [u8]>,
}

impl<'a> CsvText<'a> {
    pub fn new(path: &'a Path, bytes: &'a [u8]) -> Result<Self> {
        if std::str::from_utf8(bytes).is_err() {
            let bad = String::from_utf8_lossy(bytes)
                .char_indices()
                .find(|(_, c)| *c == char::REPLACEMENT_CHARACTER)
                .map(|(i, _)| i)
                .unwrap_or(0);
            let line = bytes[..bad.min(bytes.len())]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                + 1;
            return Err(Error::at(
                path,
                line,
                1,
                "not UTF-8 text; is this a CSV file?",
            ));
        }
        // memchr finds line ends many bytes at a time; a per-byte split closure was a tenth of
        // reading a million-row log.
        let mut lines = Vec::new();
        let mut needs_clean = false;
        let mut start = 0;
        let ends = memchr::memchr_iter(b'\n', bytes).chain(std::iter::once(bytes.len()));
        for (no, end) in ends.enumerate() {
            let line = &bytes[start..end];
            if line.iter().all(|b| b.is_ascii_whitespace()) {
                // The empty tail after a final newline is no line at all; any other blank
                // line would become a row of empty cells.
                needs_clean |= end < bytes.len() || !line.is_empty();
            } else {
                needs_clean |= line.last() == Some(&b'\r');
                lines.push((start, no + 1));
            }
            start = end + 1;
        }
        if lines.is_empty() {
            return Err(Error::file(path, "empty file"));
        }
        // Most logs are clean already: Polars reads them as they are, without a copy.
        let clean = if needs_clean {
            let mut clean = Vec::with_capacity(bytes.len());
            for &(offset, _) in &lines {
                let line = Self::line_at(bytes, offset);
                clean.extend_from_slice(line.strip_suffix(b"\r").unwrap_or(line));
                clean.push(b'\n');
            }
            Cow::Owned(clean)
        } else {
            Cow::Borrowed(bytes)
        };
        Ok(CsvText {
            path,
            bytes,
            lines,
            clean,
        })
    }

    /// The line starting at byte `offset`, without its newline.
    fn line_at(bytes: &[u8], offset: usize) -> &[u8] {
        let rest = &bytes[offset..];
        &rest[..memchr::memchr(b'\n', rest).unwrap_or(rest.len())]
    }

    /// [`line_at`](Self::line_at) of this file, as text for messages.
    fn line_text(&self, offset: usize) -> Cow<'_, str> {
        String::from_utf8_lossy(Self::line_at(self.bytes, offset))
    }

    /// Fields of the line starting at byte `offset`, counting commas outside double quotes;
    /// `None` when a quote is left open (a field spanning lines, which Polars then judges).
    fn field_count(&self, offset: usize) -> Option<usize> {
        let line = Self::line_at(self.bytes, offset);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if memchr::memchr(b'"', line).is_none() {
            // Almost every line of a log: no quotes, so every comma separates fields.
            return Some(line.iter().filter(|&&b| b == b',').count() + 1);
        }
        // A quote opens a field only at its start, as Polars reads it; inside a quoted field
        // `""` is a literal quote.
        let (mut fields, mut quoted, mut at_start) = (1usize, false, true);
        let mut i = 0;
        while i < line.len() {
            let b = line[i];
            if quoted {
                if b == b'"' {
                    if line.get(i + 1) == Some(&b'"') {
                        i += 1;
                    } else {
                        quoted = false;
                    }
                }
            } else if b == b'"' && at_start {
                quoted = true;
            } else if b == b',' {
                fields += 1;
                at_start = true;
                i += 1;
                continue;
            }
            at_start = false;
            i += 1;
        }
        (!quoted).then_some(fields)
    }

    /// Every data line must have as many cells as the header; Polars would say "found more
    /// fields than defined in 'Schema'" without a line. A header naming a column twice is
    /// refused too: which of the two is the loss would be a guess.
    fn check_ragged(&self) -> Result<()> {
        let (offset, line) = self.lines[0];
        let text = self.line_text(offset);
        let names: Vec<(usize, String)> = split_fields(&text)
            .map(|(start, f)| (start, f.trim().trim_matches('"').to_string()))
            .collect();
        if let [(_, only)] = names.as_slice() {
            for (sep, what) in [('\t', "tab"), (';', "semicolon")] {
                if only.contains(sep) {
                    return Err(Error::at(
                        self.path,
                        line,
                        1,
                        format!(
                            "the header looks {what}-separated; losscast reads comma-separated \
                             files (convert it, e.g. with tr '{}' ',')",
                            if sep == '\t' { "\\t" } else { ";" }
                        ),
                    ));
                }
            }
        }
        if names
            .iter()
            .all(|(_, n)| !n.is_empty() && parse_number(n).is_some())
        {
            return Err(Error::at(
                self.path,
                line,
                1,
                "the first line holds numbers, not column names; add a header line (e.g. \
                 step,loss,lr)",
            ));
        }
        for (k, (start, name)) in names.iter().enumerate() {
            if !name.is_empty() && names[..k].iter().any(|(_, n)| n == name) {
                return Err(Error::at(
                    self.path,
                    line,
                    text[..*start].chars().count() + 1,
                    format!("the header names column '{name}' twice"),
                ));
            }
        }
        let Some(header) = self.field_count(offset) else {
            return Err(Error::at(
                self.path,
                line,
                1,
                "a quote in the header is never closed",
            ));
        };
        for &(offset, line) in &self.lines[1..] {
            match self.field_count(offset) {
                Some(n) if n > header => {
                    return Err(Error::at(
                        self.path,
                        line,
                        self.column_of_field(offset, header),
                        format!("{n} cells, but the header has {header}"),
                    ))
                }
                Some(_) => {}
                None => {
                    return Err(Error::at(
                        self.path,
                        line,
                        1,
                        "a quote opened on this line is never closed",
                    ))
                }
            }
        }
        Ok(())
    }

    /// The 1-based column where field `k` (0-based) of the line at `offset` starts.
    fn column_of_field(&self, offset: usize, k: usize) -> usize {
        let text = self.line_text(offset);
        let column = split_fields(&text)
            .nth(k)
            .map_or(1, |(start, _)| text[..start].chars().count() + 1);
        column
    }

    /// All columns as strings.
    pub fn frame(&self) -> Result<DataFrame> {
        self.check_ragged()?;
        let df = CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .with_raise_if_empty(true)
            .map_parse_options(|o| o.with_truncate_ragged_lines(false))
            .into_reader_with_file_handle(Cursor::new(&*self.clean))
            .finish()
            .map_err(|e| Error::file(self.path, format!("not a readable CSV: {e}")))?;
        if df.height() == 0 {
            return Err(Error::file(self.path, "no data rows after the header"));
        }
        Ok(df)
    }

    /// The 1-based line and column where `column`'s cell of data row `row` starts.
    fn position(&self, row: usize, column: &str) -> (usize, usize) {
        let Some(&(offset, line)) = self.lines.get(row + 1) else {
            return (0, 0);
        };
        let header = self.line_text(self.lines[0].0);
        let header: Vec<&str> = split_fields(&header).map(|(_, f)| f).collect();
        let field = header
            .iter()
            .position(|h| h.trim().trim_matches('"') == column)
            .unwrap_or(0);
        let text = self.line_text(offset);
        let col = split_fields(&text)
            .nth(field)
            .map_or(1, |(start, _)| text[..start].chars().count() + 1);
        (line, col)
    }

    pub fn err_at(&self, row: usize, column: &str, msg: impl std::fmt::Display) -> Error {
        let (line, col) = self.position(row, column);
        Error::at(self.path, line, col, format!("column '{column}': {msg}"))
    }

    fn cells<'f>(&self, df: &'f DataFrame, column: &str) -> Result<&'f StringChunked> {
        let col = df.column(column).map_err(|_| {
            let names: Vec<String> = df
                .get_column_names()
                .iter()
                .map(|s| s.to_string())
                .collect();
            Error::file(
                self.path,
                format!(
                    "missing column '{column}'; columns are: {}",
                    names.join(", ")
                ),
            )
        })?;
        col.str()
            .map_err(|e| Error::file(self.path, format!("column '{column}': {e}")))
    }

    pub fn strings(&self, df: &DataFrame, column: &str) -> Result<Vec<Option<String>>> {
        Ok(self
            .cells(df, column)?
            .iter()
            .map(|v| v.map(|s| s.trim().to_string()))
            .collect())
    }

    /// The first non-empty cell of a column, to tell a text column from a metric without
    /// copying a million cells.
    pub(crate) fn first_cell(&self, df: &DataFrame, column: &str) -> Result<Option<String>> {
        Ok(self
            .cells(df, column)?
            .iter()
            .flatten()
            .map(str::trim)
            .find(|c| !c.is_empty())
            .map(String::from))
    }

    /// Parse a column as numbers. Empty cells are `None`; text that is not a number is an error.
    pub(crate) fn floats(
        &self,
        df: &DataFrame,
        column: &str,
        required: super::Required,
    ) -> Result<Vec<Option<f64>>> {
        self.floats_kept(df, column, required, None)
    }

    /// As [`floats`](Self::floats), over the rows `keep` marks (all rows when `None`): a row that
    /// `--where` dropped may hold anything.
    pub(crate) fn floats_kept(
        &self,
        df: &DataFrame,
        column: &str,
        required: super::Required,
        keep: Option<&[bool]>,
    ) -> Result<Vec<Option<f64>>> {
        let cells = self.cells(df, column)?;
        let mut out = Vec::with_capacity(cells.len());
        for (row, cell) in cells.iter().enumerate() {
            if keep.is_some_and(|k| !k[row]) {
                continue;
            }
            let cell = cell.map(str::trim).filter(|s| !s.is_empty());
            match cell {
                None if required == super::Required::Yes => {
                    return Err(self.err_at(row, column, "empty cell, expected a number"))
                }
                None => out.push(None),
                Some(s) => match parse_number(s) {
                    Some(x) => out.push(Some(x)),
                    None => return Err(self.err_at(row, column, format!("'{s}' is not a number"))),
                },
            }
        }
        Ok(out)
    }

    /// Parse a step column: whole numbers, written as `1000` or `1000.0` or `1e3`.
    pub fn steps(&self, df: &DataFrame, column: &str) -> Result<Vec<Option<i64>>> {
        let cells = self.cells(df, column)?;
        let mut out = Vec::with_capacity(cells.len());
        for (row, cell) in cells.iter().enumerate() {
            let cell = cell.map(str::trim).filter(|s| !s.is_empty());
            let Some(s) = cell else {
                return Err(self.err_at(row, column, "empty cell, expected a step number"));
            };
            let step = s.parse::<i64>().ok().or_else(|| {
                parse_number(s)
                    .filter(|x| x.fract() == 0.0 && x.abs() < 9e15)
                    .map(|x| x as i64)
            });
            match step {
                Some(v) if v >= 0 => out.push(Some(v)),
                Some(v) => return Err(self.err_at(row, column, format!("negative step {v}"))),
                None => {
                    return Err(self.err_at(
                        row,
                        column,
                        format!("'{s}' is not a whole step number"),
                    ))
                }
            }
        }
        Ok(out)
    }
}

/// Numbers as trainers write them, including Python's `nan`/`inf` spellings (which the caller
/// then rejects or drops with a precise message).
pub(crate) fn parse_number(s: &str) -> Option<f64> {
    let s = s.trim_matches('"');
    s.parse::<f64>()
        .ok()
        .or_else(|| match s.to_ascii_lowercase().as_str() {
            "nan" | "+nan" | "-nan" => Some(f64::NAN),
            "inf" | "+inf" | "infinity" | "+infinity" => Some(f64::INFINITY),
            "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
            _ => None,
        })
}

/// Split a CSV line into fields with their byte offsets, honouring double quotes.
fn split_fields(line: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut fields = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                fields.push((start, &line[start..i]));
                start = i + 1;
            }
            _ => {}
        }
    }
    fields.push((start, line[start..].trim_end_matches('\r')));
    fields.into_iter()
}
