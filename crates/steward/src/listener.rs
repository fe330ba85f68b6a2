//! The accept loop: HTTP/1.1 connections served within bounds, so that
//! clients that connect and then say nothing (or a byte at a time) cannot
//! pile up. Bounded are: how many connections are open at once (more wait
//! in the kernel's listen queue), how long a request's head may take, how
//! long its body may take, how long a connection may stay silent, and how
//! long a handler may run.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::response::{IntoResponse, Response};
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use steward_api::error::ApiError;
use steward_http::error_document::BodyReadTimeout;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tower::ServiceExt as _;

/// The bounds, from the `[server]` settings.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub header_read_timeout: Duration,
    pub body_read_timeout: Duration,
    pub keep_alive_timeout: Duration,
    pub max_connections: usize,
    pub handler_timeout: Duration,
}

/// Serves `app` on `listener` until `stop` resolves, then stops accepting,
/// lets every open connection finish its request in flight and returns.
pub async fn serve<S>(
    listener: TcpListener,
    app: S,
    limits: Limits,
    stop: impl Future<Output = ()>,
) -> std::io::Result<()>
where
    S: tower::Service<Request<Body>, Response = Response, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let (closing, closing_seen) = watch::channel(false);
    tokio::pin!(stop);
    loop {
        // A free slot first: at the cap, new connections wait in the
        // listen queue instead of being accepted and starved.
        let slot = tokio::select! {
            _ = &mut stop => break,
            slot = slots.clone().acquire_owned() => slot.expect("the slots are never closed"),
        };
        let (stream, remote) = tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, most likely: wait for some to
                    // be freed rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve_connection(
            stream,
            remote,
            app.clone(),
            limits,
            closing_seen.clone(),
            slot,
        ));
    }
    drop(listener);
    let _ = closing.send(true);
    // Every connection gives its slot back when it ends.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = slots.acquire_many(all).await;
    Ok(())
}

async fn serve_connection<S>(
    stream: TcpStream,
    remote: SocketAddr,
    app: S,
    limits: Limits,
    mut closing: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
) where
    S: tower::Service<Request<Body>, Response = Response, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched {
        inner: stream,
        activity: activity.clone(),
    });
    let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
        let app = app.clone();
        async move { Ok::<_, Infallible>(handle(app, req, remote, limits).await) }
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    let mut ending = false;
    let mut ticks = tokio::time::interval(limits.keep_alive_timeout / 4);
    loop {
        tokio::select! {
            done = conn.as_mut() => {
                if let Err(e) = done {
                    tracing::debug!(error = %e, %remote, "connection ended");
                }
                break;
            }
            _ = closing.changed(), if !ending => {
                ending = true;
                conn.as_mut().graceful_shutdown();
            }
            _ = ticks.tick(), if !ending => {
                // Silent for the keep-alive timeout: close it, after the
                // response in flight if there is one.
                if activity.silent_for() >= limits.keep_alive_timeout {
                    ending = true;
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// One request: the client's address for the handlers, a deadline on the
/// body, and the handler's time bounded.
async fn handle<S>(
    app: S,
    req: Request<hyper::body::Incoming>,
    remote: SocketAddr,
    limits: Limits,
) -> Response
where
    S: tower::Service<Request<Body>, Response = Response, Error = Infallible>,
{
    let (mut parts, body) = req.into_parts();
    parts.extensions.insert(ConnectInfo(remote));
    let body = if body.is_end_stream() {
        Body::empty()
    } else {
        Body::new(BodyDeadline::new(body, limits.body_read_timeout))
    };
    let req = Request::from_parts(parts, body);
    match tokio::time::timeout(limits.handler_timeout, app.oneshot(req)).await {
        Ok(Ok(res)) => res,
        Ok(Err(never)) => match never {},
        Err(_) => {
            tracing::warn!(
                seconds = limits.handler_timeout.as_secs(),
                "a request ran past server.handler_timeout_seconds and was cancelled"
            );
            ApiError::Unavailable(format!(
                "The request took longer than {} seconds and was cancelled; nothing it \
                 started was saved. Try again later.",
                limits.handler_timeout.as_secs()
            ))
            .into_response()
        }
    }
}

/// When the connection last received bytes.
struct Activity {
    opened: Instant,
    last_read_ms: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Activity {
            opened: Instant::now(),
            last_read_ms: AtomicU64::new(0),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_read_ms.store(ms, Ordering::Relaxed);
    }

    fn silent_for(&self) -> Duration {
        let last = Duration::from_millis(self.last_read_ms.load(Ordering::Relaxed));
        self.opened.elapsed().saturating_sub(last)
    }
}

/// The socket, noting each read that brings bytes.
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// A request body that fails with [`BodyReadTimeout`] once its time is up,
/// so that the handler reading it answers instead of waiting for good.
struct BodyDeadline<B> {
    inner: B,
    deadline: Pin<Box<tokio::time::Sleep>>,
    limit: Duration,
}

impl<B> BodyDeadline<B> {
    fn new(inner: B, limit: Duration) -> Self {
        BodyDeadline {
            inner,
            deadline: Box::pin(tokio::time::sleep(limit)),
            limit,
        }
    }
}

impl<B> HttpBody for BodyDeadline<B>
where
    B: HttpBody + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = B::Data;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            let seconds = self.limit.as_secs();
            return Poll::Ready(Some(Err(Box::new(BodyReadTimeout { seconds }))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
