//! The one error type of the domain. Each variant means something to an API client; every
//! dialect maps it to its own wire format in exactly one place. What a dialect decides on is
//! typed — a field error's `FieldErrorKind`, a conflict's `ConflictKind`, a missing
//! `Resource` — so rewording a human message never changes a vendor's error code.

use serde::Serialize;

use crate::number::ClaimRefusal;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What is wrong with a field, as far as a dialect's error codes tell the cases apart (Bandwidth
/// has codes for a missing value, a repeated list entry, a list that is too long and an option it
/// does not support; everything else is one "invalid value" code per field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldErrorKind {
    /// The field is missing (or empty where a value is needed).
    Required,
    /// A list names the same entry more than once.
    Duplicate,
    /// A list holds more entries than allowed.
    TooMany,
    /// A well-formed value this server does not support (here, or in this combination).
    Unsupported,
    /// Any other bad value: malformed, out of range, not one of the allowed values.
    Invalid,
}

/// A problem with one input field: `field` names it as the client sent it (dotted path for nested
/// fields, e.g. `search.npa`), `reason` says what is wrong in plain words, `kind` says it for
/// code (not sent: the wire shows `field` and `reason` only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub reason: String,
    #[serde(skip)]
    pub kind: FieldErrorKind,
}

impl FieldError {
    /// An `Invalid` field error.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::of(FieldErrorKind::Invalid, field, reason)
    }

    pub fn of(kind: FieldErrorKind, field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
            kind,
        }
    }

    /// The field is missing: `Required`, "is required".
    pub fn required(field: impl Into<String>) -> Self {
        Self::of(FieldErrorKind::Required, field, "is required")
    }

    /// The same error, reported under a parent field (`search` + `npa` → `search.npa`).
    pub fn nested_under(mut self, parent: &str) -> Self {
        self.field = format!("{parent}.{}", self.field);
        self
    }
}

/// The kinds of thing a `NotFound` can name. `as_str` is the name shown in messages (and, where a
/// dialect has no name of its own for it, on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Account,
    Key,
    Number,
    Order,
    Reservation,
    Disconnect,
    Event,
    Webhook,
    Subscription,
    Site,
    SipPeer,
    NumberOrder,
    Attachment,
    /// An unknown `:verb` of a resource (Sinch's custom methods).
    Method,
    /// No route matches the request path.
    Route,
}

impl Resource {
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Account => "account",
            Resource::Key => "key",
            Resource::Number => "number",
            Resource::Order => "order",
            Resource::Reservation => "reservation",
            Resource::Disconnect => "disconnect",
            Resource::Event => "event",
            Resource::Webhook => "webhook",
            Resource::Subscription => "subscription",
            Resource::Site => "site",
            Resource::SipPeer => "sip peer",
            Resource::NumberOrder => "number order",
            Resource::Attachment => "attachment",
            Resource::Method => "method",
            Resource::Route => "route",
        }
    }
}

impl std::fmt::Display for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why the current state forbids a well-formed request. `code` is the stable machine-readable
/// name the native and Sinch doors send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictKind {
    /// The store lost a race with another transaction and rolled back; the same call may succeed
    /// if made again (the order service retries fulfilment on it).
    Retry,
    /// Another call changed the resource while this one read-modify-wrote it, repeatedly.
    ConcurrentUpdate,
    AccountExists,
    KeyExists,
    OrderExists,
    /// The idempotency key was used before with a different request.
    IdempotencyKeyReused,
    OrderNotBackordered,
    ReservationNotActive,
    /// Some of the numbers asked for cannot be reserved or ordered (the message lists them).
    NumbersUnavailable,
    /// One number could not be taken, for this reason.
    Claim(ClaimRefusal),
    /// One number could not be taken, for no reason the order recorded.
    NumberUnavailable,
    /// An order did not complete and no per-number reason explains it.
    InsufficientInventory,
    NumberOrderNotEditable,
    NumberOrderExpired,
    /// A number order is not in the state the action needs.
    NumberOrderState,
    /// A webhook format renders nothing for the event.
    EventNotRendered,
    /// An order names no SIP peer and its site has no default one.
    NoDefaultPeer,
    SiteHasPeers,
    PeerNameTaken,
}

impl ConflictKind {
    pub fn code(self) -> &'static str {
        match self {
            ConflictKind::Retry => "RETRY",
            ConflictKind::ConcurrentUpdate => "CONCURRENT_UPDATE",
            ConflictKind::AccountExists => "ACCOUNT_EXISTS",
            ConflictKind::KeyExists => "KEY_EXISTS",
            ConflictKind::OrderExists => "ORDER_EXISTS",
            ConflictKind::IdempotencyKeyReused => "IDEMPOTENCY_KEY_REUSED",
            ConflictKind::OrderNotBackordered => "ORDER_NOT_BACKORDERED",
            ConflictKind::ReservationNotActive => "RESERVATION_NOT_ACTIVE",
            ConflictKind::NumbersUnavailable => "NUMBERS_UNAVAILABLE",
            ConflictKind::Claim(refusal) => refusal.code(),
            ConflictKind::NumberUnavailable => "NUMBER_UNAVAILABLE",
            ConflictKind::InsufficientInventory => crate::order::INSUFFICIENT_INVENTORY,
            ConflictKind::NumberOrderNotEditable => "NUMBER_ORDER_NOT_EDITABLE",
            ConflictKind::NumberOrderExpired => "NUMBER_ORDER_EXPIRED",
            ConflictKind::NumberOrderState => "NUMBER_ORDER_STATE",
            ConflictKind::EventNotRendered => "EVENT_NOT_RENDERED",
            ConflictKind::NoDefaultPeer => "NO_DEFAULT_PEER",
            ConflictKind::SiteHasPeers => "SITE_HAS_PEERS",
            ConflictKind::PeerNameTaken => "PEER_NAME_TAKEN",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Unknown, or belonging to another tenant: both answer the same, so ids do not leak.
    #[error("{resource} {id} not found")]
    NotFound { resource: Resource, id: String },
    /// The request is well formed but the current state forbids it (number taken, order closed…).
    #[error("{message}")]
    Conflict { kind: ConflictKind, message: String },
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
    pub fn not_found(resource: Resource, id: impl ToString) -> Self {
        Error::NotFound {
            resource,
            id: id.to_string(),
        }
    }

    /// One `Invalid` field error.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Validation(vec![FieldError::new(field, reason)])
    }

    /// One field error of the given kind.
    pub fn invalid_as(
        kind: FieldErrorKind,
        field: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Error::Validation(vec![FieldError::of(kind, field, reason)])
    }

    /// One `Required` field error ("is required").
    pub fn required(field: impl Into<String>) -> Self {
        Error::Validation(vec![FieldError::required(field)])
    }

    pub fn conflict(kind: ConflictKind, message: impl Into<String>) -> Self {
        Error::Conflict {
            kind,
            message: message.into(),
        }
    }

    /// A store transaction lost a race and was rolled back: `Conflict` of kind `Retry`.
    pub fn retry(message: impl Into<String>) -> Self {
        Error::conflict(ConflictKind::Retry, message)
    }

    /// Whether this is a lost race the caller may simply try again.
    pub fn is_retry(&self) -> bool {
        matches!(
            self,
            Error::Conflict {
                kind: ConflictKind::Retry,
                ..
            }
        )
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

    /// Records an `Invalid` field error.
    pub fn push(&mut self, field: impl Into<String>, reason: impl Into<String>) {
        self.0.push(FieldError::new(field, reason));
    }

    /// Records a field error of the given kind.
    pub fn push_as(
        &mut self,
        kind: FieldErrorKind,
        field: impl Into<String>,
        reason: impl Into<String>,
    ) {
        self.0.push(FieldError::of(kind, field, reason));
    }

    /// Records a `Required` field error ("is required").
    pub fn push_required(&mut self, field: impl Into<String>) {
        self.0.push(FieldError::required(field));
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
