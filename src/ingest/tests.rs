use super::*;
use std::path::PathBuf;

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn read(p: &Path) -> Result<RunLog> {
    read_log(p, &ReadOptions::default())
}

#[test]
fn reads_crlf_and_detects_columns() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        &dir,
        "a.csv",
        "step,lr,loss\r\n2160,0.0003,3.5563\r\n2288,0.00029,3.5272\r\n",
    );
    let log = read(&p).unwrap();
    assert_eq!(log.steps(), vec![2160, 2288]);
    assert_eq!(log.loss(), vec![3.5563, 3.5272]);
    assert_eq!(log.lr().unwrap(), vec![Some(0.0003), Some(0.00029)]);
    assert_eq!(log.columns.loss, "loss");
    assert_eq!(log.sha256.len(), 64);
}

#[test]
fn detects_common_spellings_case_insensitively() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        &dir,
        "w.csv",
        "_step,train/loss,train/learning_rate,tokens\n1,9.5,1e-5,4096\n2,9.1,2e-5,8192\n",
    );
    let log = read(&p).unwrap();
    assert_eq!(log.columns.step, "_step");
    assert_eq!(log.columns.loss, "train/loss");
    assert_eq!(log.columns.lr.as_deref(), Some("train/learning_rate"));
    assert_eq!(log.columns.tokens.as_deref(), Some("tokens"));
    let p = write(&dir, "m.csv", "Iteration,Eval_Loss\n10,3.0\n20,2.9\n");
    let log = read(&p).unwrap();
    assert_eq!(
        (log.columns.step.as_str(), log.columns.loss.as_str()),
        ("Iteration", "Eval_Loss")
    );
}

#[test]
fn explicit_column_names_win() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "a.csv", "it,loss,my_loss\n1,5.0,3.0\n2,4.0,2.0\n");
    let opts = ReadOptions {
        names: ColumnNames {
            step: Some("it".into()),
            loss: Some("my_loss".into()),
            lr: None,
        },
        ..Default::default()
    };
    let log = read_log(&p, &opts).unwrap();
    assert_eq!(log.loss(), vec![3.0, 2.0]);
    let opts = ReadOptions {
        names: ColumnNames {
            step: Some("it".into()),
            loss: Some("nope".into()),
            lr: None,
        },
        ..Default::default()
    };
    let e = read_log(&p, &opts).unwrap_err().to_string();
    assert!(e.contains("missing loss column 'nope'"), "{e}");
}

#[test]
fn select_keeps_one_run_of_a_multi_run_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "r.csv", "run,step,loss\na,1,3\nb,1,4\na,2,2\n");
    let opts = ReadOptions {
        select: Some(("run".into(), "a".into())),
        ..Default::default()
    };
    let log = read_log(&p, &opts).unwrap();
    assert_eq!(log.steps(), vec![1, 2]);
    assert_eq!(log.loss(), vec![3.0, 2.0]);
    let opts = ReadOptions {
        select: Some(("run".into(), "zzz".into())),
        ..Default::default()
    };
    assert!(read_log(&p, &opts)
        .unwrap_err()
        .to_string()
        .contains("no row has run=zzz"));
}

/// Each bad input names the file, the line and the column, and is a bad-input error (exit 2).
#[test]
fn bad_inputs_are_located() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "nan.csv",
            "step,loss\n1,3.0\n2,nan\n",
            "nan.csv:3:3:",
            "loss is NaN",
        ),
        (
            "neg.csv",
            "step,loss\n1,3.0\n2,-1\n",
            "neg.csv:3:3:",
            "expected > 0",
        ),
        (
            "zero.csv",
            "step,loss\n1,0\n",
            "zero.csv:2:3:",
            "expected > 0",
        ),
        (
            "text.csv",
            "step,loss\n1,3.0\n2,oops\n",
            "text.csv:3:3:",
            "'oops' is not a number",
        ),
        (
            "order.csv",
            "step,loss\n1,3.0\n5,2.9\n5,2.8\n",
            "order.csv:4:1:",
            "5 follows 5",
        ),
        (
            "back.csv",
            "step,loss\n1,3.0\n5,2.9\n4,2.8\n",
            "back.csv:4:1:",
            "4 follows 5",
        ),
        (
            "empty_cell.csv",
            "step,loss\n1,\n",
            "empty_cell.csv:2:",
            "empty",
        ),
        (
            "frac.csv",
            "step,loss\n1.5,3\n",
            "frac.csv:2:1:",
            "not a whole step",
        ),
        (
            "nostep.csv",
            "when,loss\n1,3\n",
            "nostep.csv:",
            "missing step column",
        ),
        (
            "noloss.csv",
            "step,value\n1,3\n",
            "noloss.csv:",
            "missing loss column",
        ),
        (
            "header_only.csv",
            "step,loss\n",
            "header_only.csv:",
            "no data rows",
        ),
        ("empty.csv", "", "empty.csv:", "empty file"),
        (
            "lr.csv",
            "step,loss,lr\n1,3,-1e-4\n",
            "lr.csv:2:5:",
            "lr is -0.0001",
        ),
    ];
    for (name, text, at, what) in cases {
        let p = write(&dir, name, text);
        let e = read(&p).unwrap_err();
        assert_eq!(e.exit_code(), 2, "{name}");
        let msg = e.to_string();
        assert!(msg.contains(at), "{name}: {msg}");
        assert!(msg.contains(what), "{name}: {msg}");
    }
    let e = read(Path::new("/nonexistent/run.csv"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("/nonexistent/run.csv: file not found"), "{e}");
}

#[test]
fn binary_garbage_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bin.csv");
    std::fs::write(&p, [0xff, 0xfe, 0x00, 0x12, 0x0a, 0x80]).unwrap();
    let e = read(&p).unwrap_err().to_string();
    assert!(e.contains("binary data (NUL bytes)"), "{e}");
    std::fs::write(&p, [0xff, 0xfe, 0x12, 0x0a, 0x80]).unwrap();
    let e = read(&p).unwrap_err().to_string();
    assert!(e.contains("not UTF-8"), "{e}");
}

#[test]
fn lr_shift_moves_the_logged_lr_by_whole_steps() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("run.csv");
    std::fs::write(&p, "step,loss,lr\n1,3.0,0.1\n2,2.5,0.2\n3,2.2,0.3\n").unwrap();
    let lr = |shift: i64| {
        let opts = ReadOptions {
            lr_shift: shift,
            ..Default::default()
        };
        read_log(&p, &opts).unwrap().lr().unwrap()
    };
    assert_eq!(lr(0), vec![Some(0.1), Some(0.2), Some(0.3)]);
    // Value logged at step s is the LR of step s + 1 (older HF releases).
    assert_eq!(lr(1), vec![None, Some(0.1), Some(0.2)]);
    assert_eq!(lr(-1), vec![Some(0.2), Some(0.3), None]);
}

/// Polars reads a clean log straight from the file's bytes and a log with blank lines or CRLF
/// from a cleaned copy: both give the same run, and a bad cell is named at its line in the file
/// as the user sees it, blank lines counted.
#[test]
fn blank_lines_and_crlf_read_as_the_clean_log_does() {
    let dir = tempfile::tempdir().unwrap();
    let clean = read(&write(
        &dir,
        "clean.csv",
        "step,loss\n1,3.0\n2,2.9\n3,2.8\n",
    ))
    .unwrap();
    for (name, text) in [
        ("no_final_newline.csv", "step,loss\n1,3.0\n2,2.9\n3,2.8"),
        ("blank.csv", "step,loss\n\n1,3.0\n  \n2,2.9\n3,2.8\n\n\n"),
        ("crlf.csv", "step,loss\r\n1,3.0\r\n2,2.9\r\n3,2.8\r\n"),
        ("mixed.csv", "step,loss\r\n1,3.0\n\r\n2,2.9\r\n3,2.8"),
    ] {
        let log = read(&write(&dir, name, text)).unwrap();
        assert_eq!(log.steps(), clean.steps(), "{name}");
        assert_eq!(log.loss(), clean.loss(), "{name}");
    }
    for (name, text, at) in [
        (
            "bad_clean.csv",
            "step,loss\n1,3.0\n2,oops\n",
            "bad_clean.csv:3:3:",
        ),
        (
            "bad_blank.csv",
            "step,loss\n\n1,3.0\n\n2,oops\n",
            "bad_blank.csv:5:3:",
        ),
        (
            "bad_crlf.csv",
            "step,loss\r\n1,3.0\r\n2,oops\r\n",
            "bad_crlf.csv:3:3:",
        ),
        (
            "ragged.csv",
            "step,loss\n1,3.0\n\n2,2.9,7\n",
            "ragged.csv:4:",
        ),
    ] {
        let e = read(&write(&dir, name, text)).unwrap_err().to_string();
        assert!(e.contains(at), "{name}: {e}");
    }
}
