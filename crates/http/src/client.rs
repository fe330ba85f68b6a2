//! Where a request comes from, as sign-ins and sessions record it.

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::extract::connect_info::ConnectInfo;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use steward_services::auth::ClientInfo;

/// The peer's address and the user agent. Never rejects: both are optional.
pub struct Client(pub ClientInfo);

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(Client(ClientInfo {
            ip_address: parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string()),
            user_agent: parts
                .headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
        }))
    }
}
