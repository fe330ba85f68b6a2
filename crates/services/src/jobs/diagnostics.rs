//! Jobs for operators checking that workers run: `diagnostics.sleep`
//! waits and succeeds, `diagnostics.fail` fails (and so shows retries and
//! the failed list). Both are safe to repeat.

use std::time::Duration;

use serde_json::Value;

use crate::Services;

pub const SLEEP: &str = "diagnostics.sleep";
pub const FAIL: &str = "diagnostics.fail";

/// The longest sleep accepted: a day.
pub const MAX_SLEEP_SECONDS: f64 = 86_400.0;

/// Payload `{"seconds": N}` (N from 0 to 86400, fractions allowed).
pub(crate) async fn sleep(_: Services, payload: Value) -> Result<(), String> {
    let seconds = match payload.get("seconds") {
        None | Some(Value::Null) => 0.0,
        Some(v) => v
            .as_f64()
            .filter(|s| (0.0..=MAX_SLEEP_SECONDS).contains(s))
            .ok_or_else(|| {
                format!("diagnostics.sleep: \"seconds\" must be a number from 0 to {MAX_SLEEP_SECONDS}, not {v}")
            })?,
    };
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    tracing::info!(seconds, "diagnostics.sleep: slept");
    Ok(())
}

/// Payload `{"message": "..."}`, optional: the error to fail with.
pub(crate) async fn fail(_: Services, payload: Value) -> Result<(), String> {
    let message = payload
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("failed on purpose");
    Err(format!("diagnostics.fail: {message}"))
}
