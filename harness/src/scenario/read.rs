//! Reading input files safely: only regular files (never a FIFO, a socket or a device, also not
//! through a symlink), at most a size limit checked before a byte is read, and UTF-8 checked
//! with the place of the first bad byte.
//!
//! The type and size come from `stat` before the file is opened, so opening a FIFO (which
//! blocks until a writer appears) never happens; reading is capped at the limit as well, in case
//! the file grows in between.

// A located error is a cold-path value a person reads; boxing it would only add noise.
#![allow(clippy::result_large_err)]

use super::error::ScenarioError;
use std::io::Read as _;
use std::path::Path;

/// Scenario files larger than this are rejected before they are read.
pub const MAX_SCENARIO_BYTES: u64 = 1 << 20;

/// Report files (`replay`, `merge` inputs) larger than this are rejected before they are read.
pub const MAX_REPORT_BYTES: u64 = 64 << 20;

/// The text of the regular file `path`, at most `limit` bytes, valid UTF-8.
pub fn read_source(path: &Path, limit: u64) -> Result<String, ScenarioError> {
    let whole = |m: String| ScenarioError::whole_file(path, m);
    let meta = std::fs::metadata(path).map_err(|e| whole(format!("cannot read the file: {e}")))?;
    if !meta.is_file() {
        return Err(whole(format!(
            "not a regular file ({}): only regular files are read",
            kind_of(&meta)
        )));
    }
    if meta.len() > limit {
        return Err(whole(too_big(meta.len(), limit)));
    }
    let file =
        std::fs::File::open(path).map_err(|e| whole(format!("cannot read the file: {e}")))?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| whole(format!("cannot read the file: {e}")))?;
    if bytes.len() as u64 > limit {
        return Err(whole(too_big(bytes.len() as u64, limit)));
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
        ScenarioError::at(path, &text, at..at + 1, "", "the file is not valid UTF-8")
            .with_hint("scenario files and reports are UTF-8 text")
    })
}

fn too_big(len: u64, limit: u64) -> String {
    format!("the file is {len} bytes; at most {limit} are read")
}

fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
    }
    if meta.is_dir() {
        "a folder"
    } else {
        "not a plain file"
    }
}
