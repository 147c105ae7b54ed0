//! Keeping third-party text off stderr while explorations run.
//!
//! shuttle's runtime prints `Test deadlocked, and SHUTTLE_CAPTURE_BACKTRACE is not set...` with
//! `eprintln!` (no setting turns it off but one that captures a backtrace on every block) when no
//! task can run, just before it fails the execution with a panic, and `test panicked in task ...`
//! when a task panics. Model explorations normally never get there: the facade owns blocking
//! under shuttle and `dpor`, sees every live actor blocked on a facade primitive (when one blocks,
//! joins, or ends), and ends the execution itself with a `request-answered` violation naming who
//! waits for what (`poolcheck_models::sync`, `controlled` and `deadlock`); loom reports a
//! deadlock with a panic only, which the quiet panic hook keeps silent. The real h2/hyper crates
//! (`realstack`) block on shuttle's own primitives, which the facade does not see. So the
//! harness still points the process's file descriptor 2 at the null device while any
//! exploration runs ([`silence`], nested and shared by every thread), as a backstop for what the
//! facade does not see, and poolcheck writes its own messages to [`original`], a copy of stderr as
//! it was before the first silence. Outside explorations fd 2 is the original again.
//!
//! # Limitations
//! The descriptor is process-wide: while one thread explores, anything else written to fd 2 by
//! any code that does not use [`original`] is lost. The harness's panic hook writes
//! panics that are not verdicts to [`original`] while silenced, so a harness bug still shows.
//! Unix only, like the rest of poolcheck (file descriptors and `dup2`).

use std::fs::File;
use std::sync::{Mutex, OnceLock};

/// While alive, fd 2 points at the null device (when this is the outermost guard).
#[must_use = "stderr is silenced only while the guard lives"]
pub struct Silenced(());

static DEPTH: Mutex<usize> = Mutex::new(0);

/// Silence third-party writes to stderr until the guard drops. Nested and concurrent guards
/// share one silence; the last one to drop restores fd 2.
pub fn silence() -> Silenced {
    let _ = original_fd();
    let mut depth = DEPTH.lock().unwrap_or_else(|p| p.into_inner());
    if *depth == 0 {
        redirect(Target::Null);
    }
    *depth += 1;
    Silenced(())
}

impl Drop for Silenced {
    fn drop(&mut self) {
        let mut depth = DEPTH.lock().unwrap_or_else(|p| p.into_inner());
        *depth -= 1;
        if *depth == 0 {
            redirect(Target::Original);
        }
    }
}

/// Is stderr silenced right now?
pub fn is_silenced() -> bool {
    *DEPTH.lock().unwrap_or_else(|p| p.into_inner()) > 0
}

/// A handle on stderr as it was before the first [`silence`]: poolcheck's own messages, progress
/// bar included, go here. `None` when the descriptor cannot be duplicated.
pub fn original() -> Option<File> {
    let fd = original_fd().as_ref()?;
    fd.try_clone().ok().map(File::from)
}

/// Write `text` to [`original`] (falling back to `eprint!`): for messages of poolcheck's own that
/// must show while an exploration may be running.
pub fn eprint_original(text: &str) {
    use std::io::Write as _;
    match original() {
        Some(mut f) => {
            let _ = f.write_all(text.as_bytes());
        }
        None => eprint!("{text}"),
    }
}

fn original_fd() -> &'static Option<std::os::fd::OwnedFd> {
    use std::os::fd::AsFd as _;
    static ORIGINAL: OnceLock<Option<std::os::fd::OwnedFd>> = OnceLock::new();
    ORIGINAL.get_or_init(|| std::io::stderr().as_fd().try_clone_to_owned().ok())
}

enum Target {
    Null,
    Original,
}

#[cfg(unix)]
fn redirect(to: Target) {
    let result = match to {
        Target::Null => File::options()
            .write(true)
            .open("/dev/null")
            .and_then(|null| Ok(rustix::stdio::dup2_stderr(&null)?)),
        Target::Original => match original_fd() {
            Some(fd) => rustix::stdio::dup2_stderr(fd).map_err(Into::into),
            None => Ok(()),
        },
    };
    if let Err(e) = result {
        eprint_original(&format!("warning: cannot redirect stderr: {e}\n"));
    }
}

#[cfg(not(unix))]
fn redirect(_: Target) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_guards_share_one_silence() {
        let outer = silence();
        let inner = silence();
        assert!(is_silenced());
        drop(inner);
        assert!(is_silenced());
        drop(outer);
        // Other tests of this binary may be exploring, so only the count is checked.
        assert!(original().is_some());
    }
}
