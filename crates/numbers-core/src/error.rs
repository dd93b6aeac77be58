//! The one error type of the domain. Each variant means something to an API client; every
//! dialect maps it to its own wire format in exactly one place.

use serde::Serialize;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A problem with one input field: `field` names it as the client sent it (dotted path for nested
/// fields, e.g. `search.npa`), `reason` says what is wrong in plain words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The same error, reported under a parent field (`search` + `npa` → `search.npa`).
    pub fn nested_under(mut self, parent: &str) -> Self {
        self.field = format!("{parent}.{}", self.field);
        self
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Unknown, or belonging to another tenant: both answer the same, so ids do not leak.
    #[error("{resource} {id} not found")]
    NotFound { resource: &'static str, id: String },
    /// The request is well formed but the current state forbids it (number taken, order closed…).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("invalid request: {}", summarize(.0))]
    Validation(Vec<FieldError>),
    #[error("authentication required")]
    Unauthorized,
    #[error("not allowed: {0}")]
    Forbidden(String),
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// Refused at the edge before or instead of doing the work: too many requests, too busy, a
    /// body too large or too slow. Each dialect answers it with the limit's HTTP status (and
    /// `Retry-After` where the limit says when to come back).
    #[error("{0}")]
    OverLimit(Limit),
    /// Detail is logged, never sent to clients.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Which edge limit refused a request (see docs/SECURITY.md for each limit and its default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Over a request-rate or failed-authentication limit (429).
    TooManyRequests { retry_after_seconds: u64 },
    /// Load shedding or a request that ran out of time in the server (503).
    Overloaded { retry_after_seconds: u64 },
    /// The request body is larger than the server accepts (413).
    BodyTooLarge { limit_bytes: usize },
    /// The client did not send its body in time (408).
    BodyTimeout,
    /// A search read more of the inventory than a search may (`store::SearchBudget`) without
    /// filling its page: narrowing it helps, retrying the same does not (400).
    SearchTooBroad,
}

impl Limit {
    /// The HTTP status every dialect answers this limit with.
    pub fn http_status(self) -> u16 {
        match self {
            Limit::TooManyRequests { .. } => 429,
            Limit::Overloaded { .. } => 503,
            Limit::BodyTooLarge { .. } => 413,
            Limit::BodyTimeout => 408,
            Limit::SearchTooBroad => 400,
        }
    }

    /// Seconds for the `Retry-After` header, when the limit says when to come back.
    pub fn retry_after_seconds(self) -> Option<u64> {
        match self {
            Limit::TooManyRequests {
                retry_after_seconds,
            }
            | Limit::Overloaded {
                retry_after_seconds,
            } => Some(retry_after_seconds),
            Limit::BodyTooLarge { .. } | Limit::BodyTimeout | Limit::SearchTooBroad => None,
        }
    }
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Limit::TooManyRequests {
                retry_after_seconds,
            } => write!(f, "too many requests; retry after {retry_after_seconds} s"),
            Limit::Overloaded {
                retry_after_seconds,
            } => write!(f, "the server is busy; retry after {retry_after_seconds} s"),
            Limit::BodyTooLarge { limit_bytes } => {
                write!(f, "the request body is larger than {limit_bytes} bytes")
            }
            Limit::BodyTimeout => write!(f, "the request body was not received in time"),
            Limit::SearchTooBroad => write!(
                f,
                "the search reads too much of the inventory for what it finds: narrow it (an area \
                 code, NPA-NXX, rate center, ZIP or a longer digit pattern)"
            ),
        }
    }
}

fn summarize(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.reason))
        .collect::<Vec<_>>()
        .join("; ")
}

impl Error {
    pub fn not_found(resource: &'static str, id: impl ToString) -> Self {
        Error::NotFound {
            resource,
            id: id.to_string(),
        }
    }

    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Validation(vec![FieldError::new(field, reason)])
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Error::Conflict {
            code,
            message: message.into(),
        }
    }

    pub fn internal(detail: impl std::fmt::Display) -> Self {
        Error::Internal(detail.to_string())
    }
}

/// Collects field errors while parsing a whole request, so a client learns every problem at once.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, field: impl Into<String>, reason: impl Into<String>) {
        self.0.push(FieldError::new(field, reason));
    }

    pub fn extend(&mut self, errors: impl IntoIterator<Item = FieldError>) {
        self.0.extend(errors);
    }

    /// Keeps the value if parsing succeeded, records its field errors otherwise.
    pub fn take<T>(&mut self, result: Result<T>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(Error::Validation(errors)) => {
                self.0.extend(errors);
                None
            }
            Err(other) => {
                self.0.push(FieldError::new("request", other.to_string()));
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_result(self) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(self.0))
        }
    }
}
