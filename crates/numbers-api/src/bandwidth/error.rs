//! The one place core errors become Bandwidth errors. Bandwidth answers in three envelopes —
//! `<SearchResult><Error>` for search, `<…Response><ErrorList><Error>` for orders and
//! disconnects, `<…Response><ResponseStatus>` for everything else — with numeric codes per area
//! (4xxx search, 5xxx orders, 5040–5047 reservations, 12xxx sites…). Each endpoint names its
//! `Area`; the area picks the envelope and translates the core error (variant, field name and
//! `FieldErrorKind`, `ConflictKind`, `Resource`) into the code and HTTP status Bandwidth uses.
//! Every decision is a `match` on those types: no message text is inspected, so rewording a core
//! message never changes a Bandwidth code.

use axum::http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use numbers_core::error::{ConflictKind, Error, FieldError, FieldErrorKind, Resource};

use super::xml::El;

/// `Area` and, for each of its variants, a marker type of the same name in `area` (so a handler
/// can name its area in a type: `BwAccount<area::Orders>`).
macro_rules! areas {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Area {
            $($(#[$doc])* $name,)*
        }

        pub mod area {
            $(
                pub struct $name;
                impl super::InArea for $name {
                    const AREA: super::Area = super::Area::$name;
                }
            )*
        }
    };
}

areas!(
    Search,
    Orders,
    Disconnects,
    Reservations,
    Sites,
    SipPeers,
    Notes,
    Tns,
    Subscriptions,
    /// Lists and look-ups answering in the generic `<ErrorResponse>`.
    Generic,
);

/// A marker type naming the error area a handler answers in.
pub trait InArea {
    const AREA: Area;
}

#[derive(Debug)]
pub struct BwError {
    area: Area,
    status: StatusCode,
    errors: Vec<(u32, String)>,
    /// For order and disconnect creation: the submitted order, echoed after the ErrorList.
    echo: Option<El>,
    /// `Retry-After` seconds of an edge refusal.
    retry_after: Option<u64>,
}

pub type BwResult<T> = Result<T, BwError>;

impl BwError {
    pub fn new(area: Area, status: StatusCode, code: u32, description: impl Into<String>) -> Self {
        BwError {
            area,
            status,
            errors: vec![(code, description.into())],
            echo: None,
            retry_after: None,
        }
    }

    /// A body that is not XML, or not the document this endpoint takes.
    pub fn malformed(area: Area, description: impl Into<String>) -> Self {
        let code = match area {
            Area::Reservations => 5044,
            Area::Notes => 12500,
            Area::Subscriptions => 14501,
            _ => 1019,
        };
        BwError::new(area, StatusCode::BAD_REQUEST, code, description)
    }

    pub fn with_echo(mut self, echo: El) -> Self {
        self.echo = Some(echo);
        self
    }

    pub fn core(area: Area, error: Error) -> Self {
        let mut out = BwError {
            area,
            status: StatusCode::BAD_REQUEST,
            errors: Vec::new(),
            echo: None,
            retry_after: None,
        };
        match error {
            Error::Validation(fields) => {
                out.errors = fields
                    .iter()
                    .map(|f| {
                        // Combination errors name no single field; their reason says it all.
                        let description = if f.field == "search" {
                            f.reason.clone()
                        } else {
                            format!("{}: {}", f.field, f.reason)
                        };
                        (validation_code(area, f), description)
                    })
                    .collect();
            }
            Error::NotFound { resource, id } => {
                out.status = StatusCode::NOT_FOUND;
                let (code, description) = match (area, resource) {
                    (Area::Reservations, _) => {
                        (5042, format!("Reservation {id} for this account not found"))
                    }
                    (Area::Sites | Area::SipPeers, Resource::Site) => {
                        (12016, format!("Site '{id}' does not exist"))
                    }
                    (Area::SipPeers, _) => (13500, format!("SipPeer '{id}' does not exist")),
                    (Area::Tns, _) => (4017, format!("The telephone number '{id}' does not exist")),
                    (Area::Subscriptions, _) => (16000, format!("Subscription {id} not found")),
                    _ => (1016, format!("Resource {resource} {id} does not exist")),
                };
                out.errors = vec![(code, description)];
            }
            Error::Conflict { kind, message } => {
                let (status, bw) = conflict_code(area, kind);
                out.status = status;
                out.errors = vec![(bw, message)];
            }
            Error::Unauthorized => {
                out.status = StatusCode::UNAUTHORIZED;
                out.errors = vec![(1001, "Access Denied".into())];
            }
            Error::Forbidden(why) => {
                out.status = StatusCode::FORBIDDEN;
                out.errors = vec![(1001, format!("Access Denied: {why}"))];
            }
            // numbersd's own edge refusals carry their HTTP status as the code.
            Error::OverLimit(limit) => {
                out.status = crate::edge::status_of(limit);
                out.retry_after = limit.retry_after_seconds();
                out.errors = vec![(u32::from(limit.http_status()), limit.to_string())];
            }
            Error::Unavailable(why) => {
                tracing::warn!(%why, "bandwidth request: service unavailable");
                out.status = StatusCode::SERVICE_UNAVAILABLE;
                out.errors = vec![(1000, "The service is temporarily unavailable".into())];
            }
            Error::Internal(detail) => {
                tracing::error!(%detail, "bandwidth request failed");
                out.status = StatusCode::INTERNAL_SERVER_ERROR;
                out.errors = vec![(1000, "Internal server error".into())];
            }
        }
        out
    }

    fn root(&self) -> &'static str {
        match self.area {
            Area::Search => "SearchResult",
            Area::Orders => "OrderResponse",
            Area::Disconnects => "DisconnectTelephoneNumberOrderResponse",
            Area::Reservations => "ReservationResponse",
            Area::Sites => "SiteResponse",
            Area::SipPeers => "SipPeerResponse",
            Area::Notes => "NoteResponse",
            Area::Tns => "TelephoneNumberResponse",
            Area::Subscriptions => "SubscriptionsResponse",
            Area::Generic => "ErrorResponse",
        }
    }

    fn document(&self) -> El {
        let mut root = El::new(self.root());
        match self.area {
            Area::Search => {
                for (code, description) in &self.errors {
                    root.push(
                        El::new("Error")
                            .leaf_child("Code", code)
                            .leaf_child("Description", description),
                    );
                }
            }
            Area::Orders | Area::Disconnects => {
                let list = El::new("ErrorList").children(self.errors.iter().map(|(c, d)| {
                    El::new("Error")
                        .leaf_child("Code", c)
                        .leaf_child("Description", d)
                }));
                root.push(list);
                if let Some(echo) = &self.echo {
                    root.push(echo.clone());
                }
            }
            _ => {
                let (code, description) = self
                    .errors
                    .first()
                    .cloned()
                    .unwrap_or((1000, String::new()));
                root.push(
                    El::new("ResponseStatus")
                        .leaf_child("ErrorCode", code)
                        .leaf_child("Description", description),
                );
            }
        }
        root
    }
}

impl IntoResponse for BwError {
    fn into_response(self) -> Response {
        let body = self.document().document();
        let mut response =
            (self.status, [(CONTENT_TYPE, super::XML_CONTENT_TYPE)], body).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"numbersd\""),
            );
        }
        crate::edge::set_retry_after(self.retry_after, &mut response);
        response
    }
}

/// Renames core field names to this dialect's (e.g. `numbers` → `TelephoneNumberList`), so the
/// codes and descriptions below see Bandwidth's names.
pub fn renamed(error: Error, names: &[(&str, &str)]) -> Error {
    match error {
        Error::Validation(mut errors) => {
            for f in &mut errors {
                if let Some((_, to)) = names.iter().find(|(from, _)| f.field == *from) {
                    f.field = (*to).to_string();
                }
            }
            Error::Validation(errors)
        }
        other => other,
    }
}

/// Core names the list of numbers of an order or disconnect `numbers`; Bandwidth calls it
/// `TelephoneNumberList`.
pub const NUMBER_LIST: &[(&str, &str)] = &[("numbers", "TelephoneNumberList")];

/// The code of a field error, by area, the field's wire name and the error's kind.
fn validation_code(area: Area, f: &FieldError) -> u32 {
    use FieldErrorKind::{Duplicate, Invalid, Required, TooMany, Unsupported};
    let field = f.field.as_str();
    // Bandwidth's "too many numbers" and "a number twice" codes, shared by orders and disconnects.
    let number_list = |otherwise: u32| match f.kind {
        Duplicate => 5093,
        TooMany => 5095,
        Required | Unsupported | Invalid => otherwise,
    };
    match area {
        Area::Search => match field {
            "areaCode" => 4000,
            "rateCenter" => 4001,
            "npaNxx" | "npaNxxx" => 4002,
            "tollFreeVanity" => 4003,
            "tollFreeWildCardPattern" => 4004,
            "city" => 4005,
            "state" => 4006,
            "zip" => 4007,
            "lata" => 4008,
            "orderBy" => match f.kind {
                Unsupported => 4021,
                Required | Duplicate | TooMany | Invalid => 4020,
            },
            "protected" => 4022,
            _ => 4010,
        },
        Area::Orders => match field {
            "SiteId" => match f.kind {
                Required => 5022,
                Duplicate | TooMany | Unsupported | Invalid => 5016,
            },
            "PeerId" => 5023,
            "Quantity" | "quantity" => 5009,
            "CustomerOrderId" => 5052,
            "TnAttributes" => 5102,
            "BackOrderRequested" => 5522,
            "numbers" | "TelephoneNumberList" => number_list(5070),
            "TelephoneNumber" => 5070,
            "ReservationId" => 5045,
            "CloseOrder" => 5060,
            // Bandwidth documents no order code for a misplaced vanity; its search code
            // 4010 says it: "Provided search criteria are unsupported or are not valid".
            "LocalVanity" | "EndsIn" if f.kind == Unsupported => 4010,
            _ if field.starts_with("search") || field.contains('.') => 5000,
            _ => 1003,
        },
        Area::Disconnects => match field {
            "TelephoneNumberList" => number_list(5070),
            "DisconnectMode" => 5084,
            "Protected" => 5108,
            "CustomerOrderId" => 5052,
            _ => 5070,
        },
        Area::Reservations => 5045,
        Area::Sites => match f.kind {
            Required => 1003,
            Duplicate | TooMany | Unsupported | Invalid => 1006,
        },
        Area::SipPeers => match f.kind {
            Required => 1003,
            Duplicate | TooMany | Unsupported | Invalid => 13582,
        },
        Area::Notes => match field {
            "UserId" => 12501,
            _ => 12502,
        },
        Area::Tns => 15511,
        Area::Subscriptions => match field {
            "OrderType" => 14500,
            "EmailSubscription" => 14502,
            "URL" => match f.kind {
                Required => 14503,
                Duplicate | TooMany | Unsupported | Invalid => 14506,
            },
            // The engine's own check (private or self-pointing addresses).
            "url" => 14506,
            "BasicAuthentication" => 14505,
            "EventType" => 14507,
            "Subscription" => 14508,
            _ => 14501,
        },
        Area::Generic => 1019,
    }
}

fn conflict_code(area: Area, kind: ConflictKind) -> (StatusCode, u32) {
    use ConflictKind as K;
    match kind {
        K::NoDefaultPeer => (StatusCode::BAD_REQUEST, 5020),
        K::SiteHasPeers => (StatusCode::BAD_REQUEST, 12054),
        K::PeerNameTaken => (StatusCode::CONFLICT, 13553),
        K::NumbersUnavailable if area == Area::Reservations => (StatusCode::BAD_REQUEST, 5041),
        K::OrderNotBackordered if area == Area::Orders => (StatusCode::BAD_REQUEST, 5060),
        K::Retry
        | K::ConcurrentUpdate
        | K::AccountExists
        | K::KeyExists
        | K::OrderExists
        | K::IdempotencyKeyReused
        | K::OrderNotBackordered
        | K::ReservationNotActive
        | K::NumbersUnavailable
        | K::Claim(_)
        | K::NumberUnavailable
        | K::InsufficientInventory
        | K::NumberOrderNotEditable
        | K::NumberOrderExpired
        | K::NumberOrderState
        | K::EventNotRendered => match area {
            Area::Reservations => (StatusCode::BAD_REQUEST, 5047),
            _ => (StatusCode::CONFLICT, 1019),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(area: Area, f: FieldError) -> u32 {
        validation_code(area, &f)
    }

    /// The code follows the kind, whatever the message says.
    #[test]
    fn codes_follow_kinds_not_messages() {
        use FieldErrorKind::*;
        let reworded = "anything at all, more than once, at most, not supported";
        assert_eq!(
            code(Area::Search, FieldError::of(Unsupported, "orderBy", "x")),
            4021
        );
        assert_eq!(
            code(Area::Search, FieldError::new("orderBy", reworded)),
            4020
        );
        assert_eq!(code(Area::Orders, FieldError::required("SiteId")), 5022);
        assert_eq!(
            code(Area::Orders, FieldError::new("SiteId", "is required")),
            5016
        );
        for area in [Area::Orders, Area::Disconnects] {
            let list = |kind| code(area, FieldError::of(kind, "TelephoneNumberList", "x"));
            assert_eq!(list(Duplicate), 5093);
            assert_eq!(list(TooMany), 5095);
            assert_eq!(list(Invalid), 5070);
        }
        assert_eq!(code(Area::Sites, FieldError::required("Name")), 1003);
        assert_eq!(
            code(Area::SipPeers, FieldError::new("PeerName", reworded)),
            13582
        );
        assert_eq!(
            code(Area::Subscriptions, FieldError::required("URL")),
            14503
        );
        assert_eq!(
            code(Area::Subscriptions, FieldError::new("URL", "bad")),
            14506
        );
    }

    #[test]
    fn core_field_names_are_renamed() {
        let e = renamed(
            Error::required("site_id"),
            &[("site_id", "SiteId"), ("peer_id", "PeerId")],
        );
        let BwError { errors, .. } = BwError::core(Area::Orders, e);
        assert_eq!(errors, vec![(5022, "SiteId: is required".to_string())]);
    }

    #[test]
    fn core_number_list_errors_answer_as_the_telephone_number_list() {
        let e = Error::invalid_as(
            FieldErrorKind::Duplicate,
            "numbers",
            "lists +1 more than once",
        );
        let BwError { errors, .. } = BwError::core(Area::Disconnects, renamed(e, NUMBER_LIST));
        assert_eq!(
            errors,
            vec![(
                5093,
                "TelephoneNumberList: lists +1 more than once".to_string()
            )]
        );
    }

    #[test]
    fn conflicts_by_kind_and_area() {
        let c = |area, kind| conflict_code(area, kind).1;
        assert_eq!(
            c(Area::Reservations, ConflictKind::NumbersUnavailable),
            5041
        );
        assert_eq!(c(Area::Orders, ConflictKind::NumbersUnavailable), 1019);
        assert_eq!(
            c(Area::Reservations, ConflictKind::ReservationNotActive),
            5047
        );
        assert_eq!(c(Area::Orders, ConflictKind::OrderNotBackordered), 5060);
        assert_eq!(c(Area::Sites, ConflictKind::SiteHasPeers), 12054);
    }
}
