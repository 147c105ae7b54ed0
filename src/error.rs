//! The error of a check that cannot run as configured.

use std::fmt;

/// A setting of a [`crate::Builder`] that cannot be used (an unknown invariant name, an empty
/// budget, a report that cannot be read), said in words that name the field and what would be
/// valid there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    message: String,
}

impl Error {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
        }
    }

    /// What is wrong, and what would be valid.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
