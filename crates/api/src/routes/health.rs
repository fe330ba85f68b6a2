//! `GET /health`: answers 200 when the database answers, 503 when not.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::hal::Hal;
use crate::AppState;

#[derive(Serialize)]
struct Health {
    status: &'static str,
    database: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

pub async fn health(State(state): State<AppState>) -> Response {
    let db = &state.services.db;
    let check = async {
        let mut conn = db.conn().await?;
        // A bare `1` is an INTEGER on PostgreSQL, which the BIGINT row reader
        // refuses; the cast makes the probe read the same on both engines.
        conn.query_one::<i64>("SELECT CAST(1 AS BIGINT)", Vec::new())
            .await
    };
    let engine = db.engine().name();
    match tokio::time::timeout(std::time::Duration::from_secs(5), check).await {
        Ok(Ok(_)) => Hal(
            StatusCode::OK,
            Health {
                status: "ok",
                database: engine,
                message: None,
            },
        )
        .into_response(),
        Ok(Err(e)) => unavailable(engine, e.to_string()),
        Err(_) => unavailable(
            engine,
            "the database did not answer within 5 seconds".into(),
        ),
    }
}

fn unavailable(engine: &'static str, why: String) -> Response {
    tracing::error!(%why, "health check failed");
    Hal(
        StatusCode::SERVICE_UNAVAILABLE,
        Health {
            status: "unavailable",
            database: engine,
            message: Some(why),
        },
    )
    .into_response()
}
