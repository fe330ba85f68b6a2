//! A setting read from the database and kept in the process for a few
//! seconds: values needed by every request (session limits, how texts are
//! rendered) without a query each time. A change made by another process
//! (another server, the CLI) arrives once the cached copy is older than
//! [`CACHE_SECONDS`]; a change made here is put in at once.

use std::sync::RwLock;
use std::time::{Duration, Instant};

/// How long this process trusts a cached copy.
pub(crate) const CACHE_SECONDS: u64 = 10;

/// One value with when it was read.
pub(crate) struct Cached<T>(RwLock<Option<(Instant, T)>>);

impl<T> Default for Cached<T> {
    fn default() -> Self {
        Cached(RwLock::new(None))
    }
}

impl<T: Copy> Cached<T> {
    pub(crate) fn fresh(&self) -> Option<T> {
        let guard = self
            .0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        guard
            .as_ref()
            .filter(|(at, _)| at.elapsed() < Duration::from_secs(CACHE_SECONDS))
            .map(|(_, value)| *value)
    }

    pub(crate) fn put(&self, value: T) {
        let mut guard = self
            .0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *guard = Some((Instant::now(), value));
    }
}
