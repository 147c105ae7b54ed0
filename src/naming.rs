//! Names for objects created without one: the file and line that created them.

use std::panic::Location;

/// `pool.rs:42`: the file name (not its folders, which make trace columns wide) and the line.
pub(crate) fn caller_name(at: &Location<'_>) -> String {
    let file = at.file();
    let base = file.rsplit(['/', '\\']).next().unwrap_or(file);
    format!("{base}:{}", at.line())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_is_named_by_its_file_name_and_line() {
        let here = Location::caller();
        assert_eq!(caller_name(here), format!("naming.rs:{}", here.line()));
    }
}
