//! The server's log, captured in memory: the tests that check a cause was
//! logged (and not shown) read it back. One subscriber for the whole test
//! binary, errors only; tests find their lines by request id.

use std::io::Write;
use std::sync::{Mutex, Once};

use tracing_subscriber::prelude::*;

static CAPTURED: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct Capture;

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CAPTURED.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Starts capturing (once per test binary); call before the request whose
/// log line the test wants to see.
pub fn capture() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let subscriber = tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(|| Capture)
                    .with_ansi(false),
            )
            .with(tracing_subscriber::filter::Targets::new().with_default(tracing::Level::ERROR));
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other log subscriber in the test binary");
    });
}

/// The captured lines that contain every one of `needles`.
pub fn lines_with(needles: &[&str]) -> Vec<String> {
    let text = String::from_utf8_lossy(&CAPTURED.lock().unwrap()).into_owned();
    text.lines()
        .filter(|l| needles.iter().all(|n| l.contains(n)))
        .map(str::to_string)
        .collect()
}
