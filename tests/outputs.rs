//! Output files never destroy data: an output may not be an input, two outputs may not share a
//! path, every output is checked before any work, a command writes all its outputs or none, and
//! devices, FIFOs, symlinks and file modes are respected.

mod common;
use common::{data, losscast_ok, refused};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn sha(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

fn copy_data(dir: &Path, rel: &str, name: &str) {
    std::fs::copy(data(rel), dir.join(name)).unwrap();
}

const SCHED: &str = "cosine:peak=3e-4,end=3e-5,warmup=2160,total=24000";

fn fit_small(dir: &Path) {
    copy_data(dir, "mpl/csv_25/cosine_24000.csv", "x.csv");
    losscast_ok(
        dir,
        &["fit", "x.csv", "--schedule", SCHED, "--out", "f.json"],
    );
}

#[test]
fn an_output_that_is_an_input_is_refused_and_the_input_is_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fit_small(d);
    let (log, fit) = (sha(&d.join("x.csv")), sha(&d.join("f.json")));
    refused(
        d,
        &["fit", "x.csv", "--schedule", SCHED, "--out", "x.csv"],
        "is also an input",
    );
    refused(
        d,
        &[
            "fit",
            "x.csv",
            "--schedule",
            SCHED,
            "--out",
            "./sub/../x.csv",
        ],
        "is also an input",
    );
    refused(
        d,
        &[
            "predict",
            "--fit",
            "f.json",
            "--schedule",
            SCHED,
            "--out",
            "f.json",
        ],
        "is also an input",
    );
    refused(
        d,
        &[
            "plan",
            "--fit",
            "f.json",
            "--total",
            "24000",
            "--peak",
            "3e-4",
            "--free",
            "--free-out",
            "f.json",
        ],
        "is also an input",
    );
    refused(
        d,
        &[
            "plot",
            "--fit",
            "f.json",
            "x.csv",
            "--schedule",
            SCHED,
            "--out",
            "x.csv",
        ],
        ".png or .svg",
    );
    copy_data(d, "porian2024/isoflop_points.csv", "t.csv");
    let table = sha(&d.join("t.csv"));
    refused(
        d,
        &["isoflop", "t.csv", "--c-col", "flops", "--out", "t.csv"],
        "is also an input",
    );
    assert_eq!(sha(&d.join("x.csv")), log);
    assert_eq!(sha(&d.join("f.json")), fit);
    assert_eq!(sha(&d.join("t.csv")), table);
}

#[test]
fn two_outputs_on_one_path_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fit_small(d);
    refused(
        d,
        &[
            "plan",
            "--fit",
            "f.json",
            "--total",
            "24000",
            "--peak",
            "3e-4",
            "--free",
            "--free-out",
            "same.svg",
            "--plot",
            "same.svg",
        ],
        "same file as --plot",
    );
    copy_data(d, "porian2024/isoflop_points.csv", "t.csv");
    refused(
        d,
        &[
            "isoflop", "t.csv", "--c-col", "flops", "--out", "a.svg", "--plot", "./a.svg",
        ],
        "same file as --out",
    );
    assert!(!d.join("same.svg").exists() && !d.join("a.svg").exists());
}

#[test]
fn every_output_is_checked_before_computing_and_written_all_or_none() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    copy_data(d, "porian2024/isoflop_points.csv", "t.csv");
    // A bad figure extension used to leave a.json behind.
    refused(
        d,
        &[
            "isoflop", "t.csv", "--c-col", "flops", "--out", "a.json", "--plot", "bad.jpg",
        ],
        ".png or .svg",
    );
    assert!(!d.join("a.json").exists());
    // `fit` checks --out before the fit: a path under a regular file fails at once.
    std::fs::write(d.join("file"), "x").unwrap();
    copy_data(d, "mpl/csv_25/cosine_24000.csv", "x.csv");
    refused(
        d,
        &["fit", "x.csv", "--schedule", SCHED, "--out", "file/f.json"],
        "is not a folder",
    );
    // plan writes its free schedule and its figure together or not at all.
    fit_small(d);
    refused(
        d,
        &[
            "plan",
            "--fit",
            "f.json",
            "--total",
            "24000",
            "--peak",
            "3e-4",
            "--free",
            "--free-out",
            "free.csv",
            "--plot",
            "file/plan.png",
        ],
        "is not a folder",
    );
    assert!(!d.join("free.csv").exists());
    // Nothing is left under a temporary name.
    let tmp: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(tmp.is_empty(), "{tmp:?}");
}

#[test]
fn devices_symlinks_and_modes_are_respected() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fit_small(d);
    // --out /dev/stdout prints the CSV.
    let out = losscast_ok(
        d,
        &[
            "predict",
            "--fit",
            "f.json",
            "--schedule",
            SCHED,
            "--steps",
            "1000,2000",
            "--out",
            "/dev/stdout",
        ],
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("step,lr,loss_pred,lo,hi\n1000,"), "{text}");
    assert_eq!(text.lines().count(), 3);
    // /dev/null stays a device.
    losscast_ok(
        d,
        &[
            "predict",
            "--fit",
            "f.json",
            "--schedule",
            SCHED,
            "--out",
            "/dev/null",
        ],
    );
    assert!(!std::fs::metadata("/dev/null").unwrap().is_file());
    // A symlinked output keeps the link and writes its target; a 0600 file stays 0600.
    std::fs::write(d.join("target.csv"), "old").unwrap();
    std::fs::set_permissions(d.join("target.csv"), std::fs::Permissions::from_mode(0o600)).unwrap();
    std::os::unix::fs::symlink("target.csv", d.join("link.csv")).unwrap();
    losscast_ok(
        d,
        &[
            "predict",
            "--fit",
            "f.json",
            "--schedule",
            SCHED,
            "--out",
            "link.csv",
        ],
    );
    assert!(std::fs::symlink_metadata(d.join("link.csv"))
        .unwrap()
        .file_type()
        .is_symlink());
    let written = std::fs::read_to_string(d.join("target.csv")).unwrap();
    assert!(written.starts_with("step,lr,loss_pred"), "{written}");
    let mode = std::fs::metadata(d.join("target.csv"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

/// SIGTERM (or Ctrl-C) while an output is being written removes the temp file and exits 130.
#[test]
fn a_signal_mid_write_leaves_no_temp_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tmp_exists = || {
        std::fs::read_dir(d)
            .unwrap()
            .filter_map(|e| e.ok())
            .any(|e| e.file_name().to_string_lossy().starts_with(".big.tmp"))
    };
    let mut caught = 0;
    for _ in 0..3 {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_losscast"))
            .current_dir(d)
            .args([
                "predict",
                "--law",
                "annealing",
                "--params",
                "L0=2.4,A=0.6,alpha=0.5,C=0.5",
                "--schedule",
                "constant:peak=3e-4,warmup=0,total=100",
                "--steps",
                "1:4000000:1",
                "--out",
                "big.csv",
            ])
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Wait for the staged file, then signal; the window is the write of ~120 MB.
        let mut signalled = false;
        while child.try_wait().unwrap().is_none() {
            if tmp_exists() {
                let ok = std::process::Command::new("kill")
                    .args(["-TERM", &child.id().to_string()])
                    .status()
                    .unwrap();
                assert!(ok.success());
                signalled = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_micros(500));
        }
        let status = child.wait().unwrap();
        if signalled {
            caught += 1;
            assert_eq!(status.code(), Some(130), "{status:?}");
            assert!(!tmp_exists(), "a temp file survived the signal");
            assert!(
                !d.join("big.csv").exists(),
                "a partial output was put in place"
            );
        }
        let _ = std::fs::remove_file(d.join("big.csv"));
        if caught > 0 {
            break;
        }
    }
    assert!(caught > 0, "never saw the temp file to signal during");
}
