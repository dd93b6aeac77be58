//! The edge every request crosses before a door sees it: which dialect it speaks (from the path
//! prefix, so even a request refused here is answered in its own format), a catch-panic guard
//! that answers 500 instead of dropping the connection, the per-address and failed-
//! authentication throttles, the global concurrency limit (load shedding), the request timeout
//! and the body limit (the body is read here, once, so every route has the same 4 MiB limit and
//! the same 413). Per-credential throttling needs to know who is calling, so the doors' auth
//! extractors report each authentication outcome through one hook, `admit`; the rate logic
//! itself lives only in `throttle`. Limits and their defaults: `EdgeLimits` and
//! docs/SECURITY.md.

mod guard;
mod throttle;

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use numbers_core::error::{Error, Limit};

pub use guard::{Edge, guard};
pub use throttle::{Rate, admit, note_auth_failure};

/// The door a request is for, decided from its path alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Native,
    Bandwidth,
    Sinch,
    MessageMedia,
}

impl Dialect {
    pub fn of_path(path: &str) -> Dialect {
        if path.starts_with("/api/") || path == "/api" {
            Dialect::Bandwidth
        } else if path.starts_with("/v1/projects/") {
            Dialect::Sinch
        } else if path.starts_with("/v1/messaging/numbers/dedicated") {
            Dialect::MessageMedia
        } else {
            Dialect::Native
        }
    }

    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Native => "native",
            Dialect::Bandwidth => "bandwidth",
            Dialect::Sinch => "sinch",
            Dialect::MessageMedia => "messagemedia",
        }
    }

    /// `error` in this dialect's own error format, through the dialect's one error mapping.
    pub fn render(self, error: Error) -> Response {
        match self {
            Dialect::Native => crate::native::problem::ApiError(error).into_response(),
            Dialect::Bandwidth => {
                crate::bandwidth::BwError::core(crate::bandwidth::Area::Generic, error)
                    .into_response()
            }
            Dialect::Sinch => crate::sinch::SinchError::from(error).into_response(),
            Dialect::MessageMedia => crate::messagemedia::MmError::Core(error).into_response(),
        }
    }
}

/// The limits of the edge. A rate of `None` switches that throttle off; so does a
/// `max_in_flight` of 0.
#[derive(Debug, Clone)]
pub struct EdgeLimits {
    /// Largest accepted request body, every route.
    pub body_limit_bytes: usize,
    /// Time from the request's headers to its response (reading the body included).
    pub request_timeout: Duration,
    /// Requests handled at once; beyond it a request is answered 503 at once.
    pub max_in_flight: usize,
    /// Requests per authenticated account (or the operator), whatever the key or door.
    pub per_credential: Option<Rate>,
    /// Requests per source address (IPv6: per /64), authenticated or not.
    pub per_address: Option<Rate>,
    /// Failed authentications per source address; once used up, every request from the address
    /// is refused until the bucket refills.
    pub auth_failures: Option<Rate>,
}

pub const DEFAULT_BODY_LIMIT_BYTES: usize = 4 * 1024 * 1024;

impl Default for EdgeLimits {
    fn default() -> Self {
        EdgeLimits {
            body_limit_bytes: DEFAULT_BODY_LIMIT_BYTES,
            request_timeout: Duration::from_secs(60),
            max_in_flight: 1024,
            per_credential: Some(Rate {
                per_second: 200.0,
                burst: 400,
            }),
            per_address: Some(Rate {
                per_second: 1000.0,
                burst: 2000,
            }),
            auth_failures: Some(Rate {
                per_second: 1.0,
                burst: 20,
            }),
        }
    }
}

impl EdgeLimits {
    /// No throttling and no load shedding (body limit and timeout kept): for benchmarks and
    /// contract tests that send far more than one client would.
    pub fn unthrottled() -> Self {
        EdgeLimits {
            max_in_flight: 0,
            per_credential: None,
            per_address: None,
            auth_failures: None,
            ..EdgeLimits::default()
        }
    }
}

/// Every refusal of the edge, by reason (`per_address`, `per_credential`, `auth_failures`,
/// `overloaded`, `request_timeout`, `body_timeout`, `body_too_large`, `panic`) and dialect.
pub(crate) fn count_refusal(reason: &'static str, dialect: Dialect) {
    metrics::counter!("numbersd_edge_refusals_total", "reason" => reason, "dialect" => dialect.as_str())
        .increment(1);
}

pub(crate) fn status_of(limit: Limit) -> StatusCode {
    StatusCode::from_u16(limit.http_status()).unwrap_or(StatusCode::SERVICE_UNAVAILABLE)
}

/// The native problem `type` suffix of a limit.
pub(crate) fn problem_kind(limit: Limit) -> &'static str {
    match limit {
        Limit::TooManyRequests { .. } => "rate-limited",
        Limit::Overloaded { .. } => "overloaded",
        Limit::BodyTooLarge { .. } => "body-too-large",
        Limit::BodyTimeout => "body-timeout",
        Limit::SearchTooBroad => "search-too-broad",
    }
}

pub(crate) fn title(limit: Limit) -> &'static str {
    match limit {
        Limit::TooManyRequests { .. } => "Too many requests",
        Limit::Overloaded { .. } => "Server busy",
        Limit::BodyTooLarge { .. } => "Request body too large",
        Limit::BodyTimeout => "Request body timeout",
        Limit::SearchTooBroad => "Search too broad",
    }
}

/// Adds `Retry-After` to a dialect's answer when its error says when to come back.
pub(crate) fn add_retry_after(error: &Error, response: &mut Response) {
    if let Error::OverLimit(limit) = error {
        set_retry_after(limit.retry_after_seconds(), response);
    }
}

pub(crate) fn set_retry_after(seconds: Option<u64>, response: &mut Response) {
    if let Some(seconds) = seconds {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialect_from_path_prefix() {
        assert_eq!(
            Dialect::of_path("/api/accounts/x/orders"),
            Dialect::Bandwidth
        );
        assert_eq!(Dialect::of_path("/api"), Dialect::Bandwidth);
        assert_eq!(Dialect::of_path("/apiary"), Dialect::Native);
        assert_eq!(
            Dialect::of_path("/v1/projects/p/activeNumbers"),
            Dialect::Sinch
        );
        assert_eq!(
            Dialect::of_path("/v1/messaging/numbers/dedicated/assignments"),
            Dialect::MessageMedia
        );
        assert_eq!(Dialect::of_path("/v1/reservations"), Dialect::Native);
        assert_eq!(Dialect::of_path("/oauth2/token"), Dialect::Native);
        assert_eq!(Dialect::of_path(""), Dialect::Native);
    }

    #[test]
    fn every_dialect_answers_a_limit_with_its_status_and_retry_after() {
        for dialect in [
            Dialect::Native,
            Dialect::Bandwidth,
            Dialect::Sinch,
            Dialect::MessageMedia,
        ] {
            let r = dialect.render(Error::OverLimit(Limit::TooManyRequests {
                retry_after_seconds: 7,
            }));
            assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "{dialect:?}");
            assert_eq!(r.headers()[header::RETRY_AFTER], "7", "{dialect:?}");
            let r = dialect.render(Error::OverLimit(Limit::BodyTooLarge { limit_bytes: 10 }));
            assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE, "{dialect:?}");
            assert!(r.headers().get(header::RETRY_AFTER).is_none());
            let r = dialect.render(Error::OverLimit(Limit::Overloaded {
                retry_after_seconds: 0,
            }));
            assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(r.headers()[header::RETRY_AFTER], "1", "never 0");
        }
    }
}
