//! Where the command line's text goes: the process's stdout and stderr, or, while an embedding
//! program (the Python module) runs a command in-process, two buffers it reads back. Commands
//! print through [`out!`], [`outln!`] and [`errln!`] so that the same code serves both: a
//! notebook gets exactly the CLI's JSON, summaries and warnings, and nothing is written to the
//! kernel's file descriptors behind its back.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::io::Write as _;

/// What a command printed while captured.
#[derive(Debug, Default, Clone)]
pub struct Captured {
    pub stdout: String,
    pub stderr: String,
}

thread_local! {
    // Per thread: two Python threads may each run a command; the commands print on the thread
    // that called them (workers only compute).
    static CAPTURE: RefCell<Option<Captured>> = const { RefCell::new(None) };
}

/// Run `f` with this thread's command output captured; nested captures are not needed.
pub fn capture<T>(f: impl FnOnce() -> T) -> (T, Captured) {
    CAPTURE.with(|c| *c.borrow_mut() = Some(Captured::default()));
    let value = f();
    let captured = CAPTURE.with(|c| c.borrow_mut().take()).unwrap_or_default();
    (value, captured)
}

/// Whether this thread's output is being captured (progress bars stay off then).
pub fn capturing() -> bool {
    CAPTURE.with(|c| c.borrow().is_some())
}

#[doc(hidden)]
pub fn write_out(args: std::fmt::Arguments) {
    write(args, false);
}

#[doc(hidden)]
pub fn write_err(args: std::fmt::Arguments) {
    write(args, true);
}

fn write(args: std::fmt::Arguments, to_err: bool) {
    let captured = CAPTURE.with(|c| match c.borrow_mut().as_mut() {
        Some(cap) => {
            let buf = if to_err {
                &mut cap.stderr
            } else {
                &mut cap.stdout
            };
            let _ = buf.write_fmt(args);
            true
        }
        None => false,
    });
    // A closed pipe (`losscast predict | head`) is not an error worth a panic.
    if !captured && to_err {
        let _ = std::io::stderr().lock().write_fmt(args);
    } else if !captured {
        let _ = std::io::stdout().lock().write_fmt(args);
    }
}

/// `print!` through the console.
macro_rules! out {
    ($($t:tt)*) => { $crate::cli::console::write_out(format_args!($($t)*)) };
}

/// `println!` through the console.
macro_rules! outln {
    () => { $crate::cli::console::write_out(format_args!("\n")) };
    ($($t:tt)*) => {{
        $crate::cli::console::write_out(format_args!($($t)*));
        $crate::cli::console::write_out(format_args!("\n"));
    }};
}

/// `eprintln!` through the console.
macro_rules! errln {
    ($($t:tt)*) => {{
        $crate::cli::console::write_err(format_args!($($t)*));
        $crate::cli::console::write_err(format_args!("\n"));
    }};
}
