//! The one place the pool gets its concurrency from: poolcheck's std mirror when checking,
//! std otherwise (the pattern of tokio's `src/loom`).

#[cfg(feature = "poolcheck")]
pub(crate) use poolcheck::{
    sync::{Condvar, Mutex},
    thread,
};
#[cfg(not(feature = "poolcheck"))]
pub(crate) use std::{
    sync::{Condvar, Mutex},
    thread,
};
