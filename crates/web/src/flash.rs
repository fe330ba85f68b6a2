//! What a form's answer must show once but may not put in the URL (a new
//! API token's secret): kept in memory for the session that posted it,
//! taken by the page the form redirects to and gone after that read or a
//! short while. Every form that creates something answers with a redirect
//! (POST/redirect/GET), so reloading the page it lands on repeats a read,
//! never the creation.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long a flash waits for its page: the redirect follows at once, so
/// this only bounds how long a secret nobody fetched stays in memory.
const LIFETIME: Duration = Duration::from_secs(120);

/// One thing to show once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Flash {
    /// A new API token: its name and the secret, which Steward keeps only
    /// as a hash.
    NewToken { name: String, secret: String },
}

/// The flashes waiting, one per session at most.
#[derive(Clone, Default)]
pub struct Flashes(Arc<Mutex<HashMap<i64, (Instant, Flash)>>>);

impl Flashes {
    /// Keeps `flash` for the session's next page, replacing one not taken.
    pub fn put(&self, session: i64, flash: Flash) {
        let now = Instant::now();
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.retain(|_, (at, _)| now.duration_since(*at) < LIFETIME);
        map.insert(session, (now, flash));
    }

    /// The session's flash, if one is waiting and still fresh; it is gone
    /// afterwards.
    pub fn take(&self, session: i64) -> Option<Flash> {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.remove(&session)
            .filter(|(at, _)| at.elapsed() < LIFETIME)
            .map(|(_, f)| f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flash_is_read_once_and_only_by_its_session() {
        let flashes = Flashes::default();
        let flash = Flash::NewToken {
            name: "ci".into(),
            secret: "s3cret".into(),
        };
        flashes.put(1, flash.clone());
        assert_eq!(flashes.take(2), None);
        assert_eq!(flashes.take(1), Some(flash));
        assert_eq!(flashes.take(1), None);
    }
}
