//! Tables of finished runs for size laws: model size N, training tokens D (or compute C), loss,
//! from CSV, JSON lines or Parquet (detected by content: `PAR1` magic, a leading `{`, else CSV).
//!
//! Scaling-law data rarely comes with tidy names (`Model Size`, `Training FLOP` in Epoch's
//! digitised Chinchilla points), so columns are matched case-insensitively with spaces and
//! underscores treated alike. When only C and N are given, D = C/(6N), and the table says so,
//! because that assumption is part of the fit's definition.

use super::condition::Condition;
use super::csv_text::CsvText;
use super::{header_of, sha256_hex, Required};
use crate::error::{Error, Result};
use polars::prelude::{DataFrame, DataType, ParquetReader, SerReader};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

const N_NAMES: &[&str] = &[
    "n",
    "params",
    "parameters",
    "model size",
    "n params",
    "num params",
];
const D_NAMES: &[&str] = &["d", "tokens", "training tokens", "num tokens", "n tokens"];
const C_NAMES: &[&str] = &["c", "flops", "compute", "training flop", "training flops"];
const LOSS_NAMES: &[&str] = &["loss", "final loss", "val loss", "eval loss"];

/// Column names given by the user (`--n-col` etc.); `None` means auto-detect.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TableColumns {
    pub n: Option<String>,
    pub d: Option<String>,
    pub c: Option<String>,
    pub loss: Option<String>,
    /// Row conditions (`--where`), e.g. `dataset=rw`; all must hold for a row to be read.
    #[serde(default, rename = "where", skip_serializing_if = "Vec::is_empty")]
    pub rows_where: Vec<String>,
}

/// A table of runs read from disk.
#[derive(Debug, Clone)]
pub struct RunTable {
    pub path: PathBuf,
    pub sha256: String,
    pub n: Vec<f64>,
    pub d: Vec<f64>,
    /// Compute: the C column when the table has one (budgets as written), else 6·N·D.
    pub c: Vec<f64>,
    pub loss: Vec<f64>,
    /// How the columns were read, e.g. "N from 'Model Size'", "D = C/(6N) from 'Training FLOP'".
    pub notes: Vec<String>,
}

fn normalise(name: &str) -> String {
    name.trim().to_ascii_lowercase().replace(['_', '-'], " ")
}

/// The given column, or the first of `names` the header has; an error when two header cells
/// match that name (`n` and `N`), since picking one silently fitted a row index as N.
fn find(
    path: &Path,
    header: &[String],
    given: &Option<String>,
    names: &[&str],
    flag: &str,
) -> Result<Option<String>> {
    if let Some(g) = given {
        return Ok(header.iter().find(|h| *h == g).cloned());
    }
    for want in names {
        let hits: Vec<&String> = header.iter().filter(|h| normalise(h) == *want).collect();
        match hits.as_slice() {
            [] => continue,
            [one] => return Ok(Some((*one).clone())),
            many => {
                let names: Vec<String> = many.iter().map(|h| format!("'{h}'")).collect();
                return Err(Error::file(
                    path,
                    format!(
                        "columns {} could each be the same quantity; name one with {flag}",
                        names.join(" and ")
                    ),
                ));
            }
        }
    }
    Ok(None)
}

/// Where a table's cells come from: CSV (Polars, with line and column in errors) or JSON lines
/// (one object per line, as many loggers and `pandas.to_json(lines=True)` write).
enum Source<'a> {
    Csv(CsvText<'a>, DataFrame),
    Jsonl(Vec<(usize, serde_json::Map<String, serde_json::Value>)>),
    /// Typed columns (a Parquet file, or a frame handed over in memory); errors name the row.
    Parquet(DataFrame),
}

impl<'a> Source<'a> {
    fn open(path: &'a Path, bytes: &'a [u8]) -> Result<Self> {
        if bytes.starts_with(b"PAR1") {
            let df = ParquetReader::new(std::io::Cursor::new(bytes))
                .finish()
                .map_err(|e| Error::file(path, format!("not a readable Parquet file: {e}")))?;
            if df.height() == 0 {
                return Err(Error::file(path, "no rows"));
            }
            return Ok(Source::Parquet(df));
        }
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        if first != Some(&b'{') {
            let text = CsvText::new(path, bytes)?;
            let raw = text.frame()?;
            return Ok(Source::Csv(text, raw));
        }
        let text = std::str::from_utf8(bytes)
            .map_err(|_| Error::file(path, "not UTF-8 text; is this a JSON-lines file?"))?;
        let mut rows = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<serde_json::Value>(line) {
                Ok(serde_json::Value::Object(m)) => rows.push((i + 1, m)),
                Ok(_) => return Err(Error::at(path, i + 1, 1, "expected a JSON object per line")),
                Err(e) => return Err(Error::at(path, i + 1, e.column(), format!("not JSON: {e}"))),
            }
        }
        if rows.is_empty() {
            return Err(Error::file(path, "no rows"));
        }
        Ok(Source::Jsonl(rows))
    }

    fn header(&self) -> Vec<String> {
        match self {
            Source::Csv(_, raw) | Source::Parquet(raw) => header_of(raw),
            Source::Jsonl(rows) => {
                let mut keys: Vec<String> = Vec::new();
                for (_, m) in rows {
                    for k in m.keys() {
                        if !keys.contains(k) {
                            keys.push(k.clone());
                        }
                    }
                }
                keys
            }
        }
    }

    fn rows(&self) -> usize {
        match self {
            Source::Csv(_, df) | Source::Parquet(df) => df.height(),
            Source::Jsonl(rows) => rows.len(),
        }
    }

    /// A column's cells as text, for `--where`; `None` for an empty or absent cell.
    fn text(&self, path: &Path, col: &str) -> Result<Vec<Option<String>>> {
        match self {
            Source::Csv(text, raw) => text.strings(raw, col),
            Source::Jsonl(rows) => Ok(rows
                .iter()
                .map(|(_, m)| match m.get(col) {
                    None | Some(serde_json::Value::Null) => None,
                    Some(serde_json::Value::String(s)) => Some(s.clone()),
                    Some(v) => Some(v.to_string()),
                })
                .collect()),
            Source::Parquet(df) => {
                let cast = df
                    .column(col)
                    .and_then(|c| c.cast(&DataType::String))
                    .map_err(|e| Error::file(path, format!("column '{col}': {e}")))?;
                let s = cast
                    .str()
                    .map_err(|e| Error::file(path, format!("column '{col}': {e}")))?;
                Ok(s.iter().map(|v| v.map(str::to_string)).collect())
            }
        }
    }

    /// A column as positive finite numbers over the kept rows, or an error at the first kept cell
    /// that is not one.
    fn positive(&self, path: &Path, col: &str, keep: &[bool]) -> Result<Vec<f64>> {
        let bad = |x: f64| !(x.is_finite() && x > 0.0);
        match self {
            Source::Csv(text, raw) => {
                let v = text.floats_kept(raw, col, Required::Yes, Some(keep))?;
                let rows = (0..keep.len()).filter(|r| keep[*r]);
                v.iter()
                    .zip(rows)
                    .map(|(x, r)| {
                        let x = x.unwrap_or(f64::NAN);
                        if bad(x) {
                            Err(text.err_at(
                                r,
                                col,
                                format!(
                                    "{} is not a positive, finite number",
                                    crate::base::numbers::num(x)
                                ),
                            ))
                        } else {
                            Ok(x)
                        }
                    })
                    .collect()
            }
            Source::Jsonl(rows) => rows
                .iter()
                .zip(keep)
                .filter(|(_, k)| **k)
                .map(|((line, m), _)| match m.get(col).and_then(|v| v.as_f64()) {
                    Some(x) if !bad(x) => Ok(x),
                    Some(x) => Err(Error::at(
                        path,
                        *line,
                        1,
                        format!(
                            "key '{col}': {} is not a positive, finite number",
                            crate::base::numbers::num(x)
                        ),
                    )),
                    None => Err(Error::at(
                        path,
                        *line,
                        1,
                        format!("key '{col}' is missing or not a number"),
                    )),
                })
                .collect(),
            Source::Parquet(df) => {
                let cast = df
                    .column(col)
                    .and_then(|c| c.cast(&DataType::Float64))
                    .map_err(|e| {
                        Error::file(path, format!("column '{col}' is not numeric: {e}"))
                    })?;
                let v = cast
                    .f64()
                    .map_err(|e| Error::file(path, format!("column '{col}': {e}")))?;
                v.iter()
                    .enumerate()
                    .filter(|(r, _)| keep[*r])
                    .map(|(r, x)| match x {
                        Some(x) if !bad(x) => Ok(x),
                        other => Err(Error::file(
                            path,
                            format!(
                                "row {}, column '{col}': {} is not a positive, finite number",
                                r + 1,
                                other.map_or("null".to_string(), |x| x.to_string())
                            ),
                        )),
                    })
                    .collect()
            }
        }
    }
}

/// Read a table of runs (CSV, JSON lines or Parquet), keeping the rows `cols.rows_where` selects.
pub fn read_table(path: &Path, cols: &TableColumns) -> Result<RunTable> {
    let bytes = super::read_bytes_checked(path, |head| {
        if head.starts_with(b"PAR1") {
            Ok(())
        } else {
            super::refuse_binary(path, head)
        }
    })?;
    let sha256 = sha256_hex(&bytes);
    let source = Source::open(path, &bytes)?;
    read_source(path, sha256, &source, cols)
}

/// A table of runs handed over in memory (`ingest::memory`), read as a Parquet file with the
/// same columns; `path` is the label messages and the record name it by.
pub fn read_table_frame(
    path: &Path,
    frame: &super::memory::MemFrame,
    cols: &TableColumns,
) -> Result<RunTable> {
    let df = frame.to_polars(path)?;
    read_source(path, frame.sha256(), &Source::Parquet(df), cols)
}

fn read_source(
    path: &Path,
    sha256: String,
    source: &Source,
    cols: &TableColumns,
) -> Result<RunTable> {
    let header = source.header();
    let listing = header.join(", ");
    let missing = |what: &str, given: &Option<String>, names: &[&str], flag: &str| match given {
        Some(g) => Error::file(
            path,
            format!("missing {what} column '{g}' (from {flag}); columns are: {listing}"),
        ),
        None => Error::file(
            path,
            format!(
                "missing {what} column: looked for {}; columns are: {listing}. Name it with {flag}",
                names.join(", ")
            ),
        ),
    };
    let n_col = find(path, &header, &cols.n, N_NAMES, "--n-col")?
        .ok_or_else(|| missing("model-size", &cols.n, N_NAMES, "--n-col"))?;
    let loss_col = find(path, &header, &cols.loss, LOSS_NAMES, "--loss-col")?
        .ok_or_else(|| missing("loss", &cols.loss, LOSS_NAMES, "--loss-col"))?;
    if cols.d.is_some() && cols.c.is_some() {
        return Err(Error::input(
            "--d-col and --c-col both say where D comes from (D, or D = C/(6N)); give one",
        ));
    }
    // A compute column the user names wins over a tokens column found by name.
    let d_col = if cols.c.is_some() {
        None
    } else {
        find(path, &header, &cols.d, D_NAMES, "--d-col")?
    };
    if cols.d.is_some() && d_col.is_none() {
        return Err(missing("tokens", &cols.d, D_NAMES, "--d-col"));
    }
    let c_col = find(path, &header, &cols.c, C_NAMES, "--c-col")?;
    if cols.c.is_some() && c_col.is_none() {
        return Err(missing("compute", &cols.c, C_NAMES, "--c-col"));
    }
    if d_col.is_none() && c_col.is_none() {
        return Err(missing(
            "tokens (or compute)",
            &cols.c,
            &[D_NAMES, C_NAMES].concat(),
            "--d-col or --c-col",
        ));
    }

    let mut keep = vec![true; source.rows()];
    let mut notes = Vec::new();
    if !cols.rows_where.is_empty() {
        for text in &cols.rows_where {
            let cond = Condition::parse(text)?;
            if !header.contains(&cond.column) {
                return Err(Error::file(
                    path,
                    format!(
                        "--where '{cond}': no column '{}'; columns are: {listing}",
                        cond.column
                    ),
                ));
            }
            for (k, cell) in keep.iter_mut().zip(source.text(path, &cond.column)?) {
                *k &= cond.matches(cell.as_deref());
            }
        }
        let kept = keep.iter().filter(|k| **k).count();
        if kept == 0 {
            return Err(Error::file(
                path,
                format!("no row satisfies --where {}", cols.rows_where.join(",")),
            ));
        }
        notes.push(format!(
            "kept {kept} of {} rows where {}",
            keep.len(),
            cols.rows_where.join(" and ")
        ));
    }

    let positive = |col: &str| source.positive(path, col, &keep);
    let n = positive(&n_col)?;
    let loss = positive(&loss_col)?;
    notes.push(format!("N from column '{n_col}'"));
    notes.push(format!("loss from column '{loss_col}'"));
    let c_given = c_col.as_deref().map(positive).transpose()?;
    let d = match (&d_col, &c_given) {
        (Some(dc), _) => {
            notes.push(format!("D from column '{dc}'"));
            positive(dc)?
        }
        (None, Some(c)) => {
            notes.push(format!(
                "D = C/(6N), C from column '{}'",
                c_col.as_deref().unwrap_or_default()
            ));
            c.iter().zip(&n).map(|(c, n)| c / (6.0 * n)).collect()
        }
        (None, None) => unreachable!("checked above"),
    };
    let c = match c_given {
        Some(c) => c,
        None => n.iter().zip(&d).map(|(n, d)| 6.0 * n * d).collect(),
    };
    Ok(RunTable {
        path: path.to_path_buf(),
        sha256,
        n,
        d,
        c,
        loss,
        notes,
    })
}

/// Point filters, part of a fit's definition (Epoch drops the 5 highest losses).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TableFilters {
    pub drop_top_loss: usize,
    pub min_n: Option<f64>,
    pub max_n: Option<f64>,
    /// The `--where` conditions the table was read with (applied by [`read_table`], recorded
    /// here so that the fit file states every filter in one place).
    #[serde(default, rename = "where", skip_serializing_if = "Vec::is_empty")]
    pub rows_where: Vec<String>,
}

impl RunTable {
    /// Apply filters; returns the kept table and a description of what each filter removed.
    pub fn filtered(&self, f: &TableFilters) -> Result<(RunTable, Vec<String>)> {
        let mut keep: Vec<usize> = (0..self.n.len())
            .filter(|&i| {
                f.min_n.is_none_or(|lo| self.n[i] >= lo) && f.max_n.is_none_or(|hi| self.n[i] <= hi)
            })
            .collect();
        let mut notes = Vec::new();
        let by_n = self.n.len() - keep.len();
        if by_n > 0 {
            notes.push(format!(
                "dropped {by_n} point(s) outside N in [{}, {}]",
                f.min_n.map_or("-inf".into(), |x| format!("{x:e}")),
                f.max_n.map_or("inf".into(), |x| format!("{x:e}"))
            ));
        }
        if f.drop_top_loss > 0 {
            if f.drop_top_loss >= keep.len() {
                return Err(Error::input(format!(
                    "--drop-top-loss {} leaves no points (only {} remain)",
                    f.drop_top_loss,
                    keep.len()
                )));
            }
            keep.sort_by(|&a, &b| self.loss[a].total_cmp(&self.loss[b]));
            keep.truncate(keep.len() - f.drop_top_loss);
            keep.sort_unstable();
            notes.push(format!(
                "dropped the {} highest-loss point(s)",
                f.drop_top_loss
            ));
        }
        Ok((self.subset(&keep), notes))
    }

    /// The rows at `rows`, in that order, with the same provenance.
    pub fn subset(&self, rows: &[usize]) -> RunTable {
        let pick = |v: &[f64]| rows.iter().map(|&i| v[i]).collect::<Vec<f64>>();
        RunTable {
            path: self.path.clone(),
            sha256: self.sha256.clone(),
            n: pick(&self.n),
            d: pick(&self.d),
            c: pick(&self.c),
            loss: pick(&self.loss),
            notes: self.notes.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_epoch_style_columns_and_derives_d_from_c() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        std::fs::write(
            &p,
            "x,Model Size,Training FLOP,loss\n1,1e8,6e18,3.0\n2,1e9,6e20,2.5\n",
        )
        .unwrap();
        let t = read_table(&p, &TableColumns::default()).unwrap();
        assert_eq!(t.n, vec![1e8, 1e9]);
        assert_eq!(t.d, vec![1e10, 1e11]);
        assert!(t.notes.iter().any(|n| n.contains("D = C/(6N)")));
        let (kept, notes) = t
            .filtered(&TableFilters {
                drop_top_loss: 1,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(kept.loss, vec![2.5]);
        assert_eq!(
            notes,
            vec!["dropped the 1 highest-loss point(s)".to_string()]
        );
    }

    #[test]
    fn reads_json_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.jsonl");
        std::fs::write(
            &p,
            "{\"params\": 1e8, \"tokens\": 2e9, \"loss\": 3.1}\n\n{\"params\": 1e9, \"tokens\": 2e10, \"loss\": 2.6}\n",
        )
        .unwrap();
        let t = read_table(&p, &TableColumns::default()).unwrap();
        assert_eq!(t.n, vec![1e8, 1e9]);
        assert_eq!(t.d, vec![2e9, 2e10]);
        assert_eq!(t.loss, vec![3.1, 2.6]);
        std::fs::write(
            &p,
            "{\"params\": 1e8, \"tokens\": 2e9, \"loss\": 3.1}\n{\"params\": 1e9, \"loss\": 2.6}\n",
        )
        .unwrap();
        let e = read_table(&p, &TableColumns::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("t.jsonl:2:1: key 'tokens' is missing"), "{e}");
        std::fs::write(&p, "{\"params\": 1e8,\n").unwrap();
        let e = read_table(&p, &TableColumns::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("t.jsonl:1:"), "{e}");
    }

    #[test]
    fn missing_columns_and_bad_values_are_located() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        std::fs::write(&p, "N,loss\n1e8,3.0\n").unwrap();
        let e = read_table(&p, &TableColumns::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing tokens (or compute) column"), "{e}");
        std::fs::write(&p, "N,D,loss\n1e8,1e10,3.0\n-5,1e10,2.0\n").unwrap();
        let e = read_table(&p, &TableColumns::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("t.csv:3:1:"), "{e}");
    }

    #[test]
    fn where_selects_rows_and_skips_the_cells_of_dropped_ones() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        // The dropped row has an empty loss: it must not be an error.
        std::fs::write(
            &p,
            "cfg,N,flops,loss\nrw,1e8,6e18,3.0\nowt2,1e8,6e18,\nrw,1e9,6e20,2.5\n",
        )
        .unwrap();
        let cols = TableColumns {
            rows_where: vec!["cfg=rw".into(), "N>=1e8".into()],
            ..Default::default()
        };
        let t = read_table(&p, &cols).unwrap();
        assert_eq!(t.n, vec![1e8, 1e9]);
        assert_eq!(t.c, vec![6e18, 6e20]);
        assert!(t.notes[0].contains("kept 2 of 3 rows"), "{:?}", t.notes);
        let cols = TableColumns {
            rows_where: vec!["nope=1".into()],
            ..Default::default()
        };
        let e = read_table(&p, &cols).unwrap_err().to_string();
        assert!(e.contains("no column 'nope'"), "{e}");
        let cols = TableColumns {
            rows_where: vec!["cfg=none".into()],
            ..Default::default()
        };
        let e = read_table(&p, &cols).unwrap_err().to_string();
        assert!(e.contains("no row satisfies"), "{e}");
    }

    #[test]
    fn reads_parquet_like_csv() {
        use polars::prelude::{df, ParquetWriter};
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.parquet");
        let mut frame = df!(
            "params" => [1e8, 1e9, 3e9],
            "tokens" => [2e9, 2e10, 6e10],
            "loss" => [3.1, 2.6, 2.4],
            "cfg" => ["a", "b", "a"],
        )
        .unwrap();
        ParquetWriter::new(std::fs::File::create(&p).unwrap())
            .finish(&mut frame)
            .unwrap();
        let cols = TableColumns {
            rows_where: vec!["cfg=a".into()],
            ..Default::default()
        };
        let t = read_table(&p, &cols).unwrap();
        assert_eq!(t.n, vec![1e8, 3e9]);
        assert_eq!(t.d, vec![2e9, 6e10]);
        assert_eq!(t.loss, vec![3.1, 2.4]);
        // A non-positive value is reported with its row.
        let mut frame = df!("N" => [1e8, -1.0], "D" => [1e9, 1e9], "loss" => [3.0, 2.0]).unwrap();
        ParquetWriter::new(std::fs::File::create(&p).unwrap())
            .finish(&mut frame)
            .unwrap();
        let e = read_table(&p, &TableColumns::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("row 2, column 'N'"), "{e}");
        // A truncated file is an error, not a panic.
        let bytes = std::fs::read(&p).unwrap();
        std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
        assert!(read_table(&p, &TableColumns::default()).is_err());
    }
}
