//! The edge middleware: one function every request passes, in this order — dialect from the path,
//! catch-panic around everything below, the address throttles, the concurrency limit, then the
//! request deadline over reading the body (limited; a refused body of up to twice the limit is
//! read on and thrown away first, so the client sees the 413) and running the handler. Every refusal is
//! answered in the request's dialect and counted in `numbersd_edge_refusals_total{reason,dialect}`.

use std::any::Any;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, BodyDataStream, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{CONTENT_LENGTH, EXPECT};
use axum::middleware::Next;
use axum::response::Response;
use futures::FutureExt;
use futures::StreamExt;
use numbers_core::error::{Error, Limit};
use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::throttle::{AddressKey, REQUEST_EDGE, RequestEdge, Throttle};
use super::{Dialect, EdgeLimits, count_refusal};

/// The edge's shared state: its limits, the throttles and the in-flight permits.
pub struct Edge {
    limits: EdgeLimits,
    throttle: Arc<Throttle>,
    in_flight: Option<Arc<Semaphore>>,
}

impl Edge {
    pub fn new(limits: EdgeLimits) -> Self {
        Edge {
            throttle: Arc::new(Throttle::new(&limits)),
            in_flight: (limits.max_in_flight > 0)
                .then(|| Arc::new(Semaphore::new(limits.max_in_flight))),
            limits,
        }
    }

    pub fn limits(&self) -> &EdgeLimits {
        &self.limits
    }
}

/// The middleware (`axum::middleware::from_fn_with_state(edge, guard)`).
pub async fn guard(State(edge): State<Arc<Edge>>, request: Request, next: Next) -> Response {
    let dialect = Dialect::of_path(request.uri().path());
    match AssertUnwindSafe(admitted(&edge, dialect, request, next))
        .catch_unwind()
        .await
    {
        Ok(response) => response,
        Err(payload) => {
            // The panic hook has logged where and why (one line); this only answers and counts.
            count_refusal("panic", dialect);
            tracing::debug!(panic = panic_message(payload.as_ref()), "answered 500");
            dialect.render(Error::internal("a request handler panicked"))
        }
    }
}

async fn admitted(edge: &Edge, dialect: Dialect, request: Request, next: Next) -> Response {
    let address = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| AddressKey::of(peer.ip()));
    if let Some(address) = address
        && let Err(refused) = edge.throttle.admit_address(address, dialect)
    {
        return dialect.render(refused);
    }
    let _permit = match &edge.in_flight {
        Some(permits) => match permits.clone().try_acquire_owned() {
            Ok(permit) => Some(permit),
            Err(_) => {
                count_refusal("overloaded", dialect);
                return dialect.render(Error::OverLimit(Limit::Overloaded {
                    retry_after_seconds: 1,
                }));
            }
        },
        None => None,
    };
    let deadline = Instant::now() + edge.limits.request_timeout;
    let (parts, body) = request.into_parts();
    let limit = edge.limits.body_limit_bytes;
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    // A client that asked to be told before sending (`Expect: 100-continue`) has sent nothing:
    // reading its body would invite it to send what is about to be refused.
    let expects_continue = parts
        .headers
        .get(EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let mut stream = body.into_data_stream();
    if let Some(declared) = declared.filter(|n| *n > limit as u64) {
        count_refusal("body_too_large", dialect);
        if !expects_continue && declared <= (limit as u64).saturating_mul(2) {
            drain(&mut stream, deadline).await;
        }
        return dialect.render(Error::OverLimit(Limit::BodyTooLarge { limit_bytes: limit }));
    }
    let body = match tokio::time::timeout_at(deadline, read_body(&mut stream, limit)).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(BodyError::TooLarge(read))) => {
            count_refusal("body_too_large", dialect);
            if read <= limit.saturating_mul(2) {
                drain(&mut stream, deadline).await;
            }
            return dialect.render(Error::OverLimit(Limit::BodyTooLarge { limit_bytes: limit }));
        }
        Ok(Err(BodyError::Unreadable(why))) => {
            return dialect.render(Error::invalid("body", format!("could not be read: {why}")));
        }
        Err(_) => {
            count_refusal("body_timeout", dialect);
            return dialect.render(Error::OverLimit(Limit::BodyTimeout));
        }
    };
    drop(stream);
    let request = Request::from_parts(parts, Body::from(body));
    let context = RequestEdge {
        throttle: edge.throttle.clone(),
        address,
        dialect,
    };
    match tokio::time::timeout_at(deadline, REQUEST_EDGE.scope(context, next.run(request))).await {
        Ok(response) => response,
        Err(_) => {
            count_refusal("request_timeout", dialect);
            tracing::warn!(
                dialect = dialect.as_str(),
                timeout_seconds = edge.limits.request_timeout.as_secs(),
                "request timed out"
            );
            dialect.render(Error::OverLimit(Limit::Overloaded {
                retry_after_seconds: 1,
            }))
        }
    }
}

enum BodyError {
    /// Past the limit after reading this many bytes.
    TooLarge(usize),
    Unreadable(String),
}

/// The whole body, refused as soon as it passes `limit` (a chunked body declares no length).
async fn read_body(stream: &mut BodyDataStream, limit: usize) -> Result<Bytes, BodyError> {
    let Some(first) = stream.next().await else {
        return Ok(Bytes::new());
    };
    let first = first.map_err(|e| BodyError::Unreadable(e.to_string()))?;
    if first.len() > limit {
        return Err(BodyError::TooLarge(first.len()));
    }
    let Some(second) = stream.next().await else {
        // One chunk (the usual case): no copy.
        return Ok(first);
    };
    let mut buffer = Vec::with_capacity(first.len() * 2);
    buffer.extend_from_slice(&first);
    let mut next = Some(second);
    while let Some(chunk) = next {
        let chunk = chunk.map_err(|e| BodyError::Unreadable(e.to_string()))?;
        if buffer.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge(buffer.len() + chunk.len()));
        }
        buffer.extend_from_slice(&chunk);
        next = stream.next().await;
    }
    Ok(Bytes::from(buffer))
}

/// Longest a refused body is read on (and thrown away) before the answer goes out.
const DRAIN_TIME: Duration = Duration::from_secs(5);

/// Reads the rest of a refused body and throws it away, for at most `DRAIN_TIME` and the
/// request's deadline, so the client — still sending — reads the 413 instead of losing it to
/// the connection reset that closing on unread data causes. Only bodies up to twice the limit
/// are drained (the callers check); beyond that the answer goes out at once and the connection
/// is closed.
async fn drain(stream: &mut BodyDataStream, deadline: Instant) {
    let until = deadline.min(Instant::now() + DRAIN_TIME);
    let _ = tokio::time::timeout_at(until, async {
        while let Some(Ok(_)) = stream.next().await {}
    })
    .await;
}

fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}
