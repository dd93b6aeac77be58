//! The one place core errors become Bandwidth errors. Bandwidth answers in three envelopes —
//! `<SearchResult><Error>` for search, `<…Response><ErrorList><Error>` for orders and
//! disconnects, `<…Response><ResponseStatus>` for everything else — with numeric codes per area
//! (4xxx search, 5xxx orders, 5040–5047 reservations, 12xxx sites…). Each endpoint names its
//! `Area`; the area picks the envelope and translates the core error (variant, field name,
//! conflict code) into the code and HTTP status Bandwidth uses.

use axum::http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use numbers_core::error::{Error, FieldError};

use super::xml::El;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
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
                    (Area::Sites | Area::SipPeers, "site") => {
                        (12016, format!("Site '{id}' does not exist"))
                    }
                    (Area::SipPeers, _) => (13500, format!("SipPeer '{id}' does not exist")),
                    (Area::Tns, _) => (4017, format!("The telephone number '{id}' does not exist")),
                    (Area::Subscriptions, _) => (16000, format!("Subscription {id} not found")),
                    _ => (1016, format!("Resource {resource} {id} does not exist")),
                };
                out.errors = vec![(code, description)];
            }
            Error::Conflict { code, message } => {
                let (status, bw) = conflict_code(area, code);
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
        let mut response = (self.status, [(CONTENT_TYPE, "application/xml")], body).into_response();
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

/// The code of a field error, by area and the field's wire name.
fn validation_code(area: Area, f: &FieldError) -> u32 {
    let field = f.field.as_str();
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
            "orderBy" if f.reason.contains("not supported") => 4021,
            "orderBy" => 4020,
            "protected" => 4022,
            _ => 4010,
        },
        Area::Orders => match field {
            "SiteId" if f.reason == "is required" => 5022,
            "SiteId" => 5016,
            "PeerId" => 5023,
            "Quantity" | "quantity" => 5009,
            "CustomerOrderId" => 5052,
            "TnAttributes" => 5102,
            "BackOrderRequested" => 5522,
            "numbers" | "TelephoneNumberList" if f.reason.contains("more than once") => 5093,
            "numbers" | "TelephoneNumberList" if f.reason.contains("at most") => 5095,
            "numbers" | "TelephoneNumber" | "TelephoneNumberList" => 5070,
            "ReservationId" => 5045,
            "CloseOrder" => 5060,
            _ if field.starts_with("search") || field.contains('.') => 5000,
            _ => 1003,
        },
        Area::Disconnects => match field {
            "TelephoneNumberList" if f.reason.contains("more than once") => 5093,
            "TelephoneNumberList" if f.reason.contains("at most") => 5095,
            "DisconnectMode" => 5084,
            "Protected" => 5108,
            "CustomerOrderId" => 5052,
            _ => 5070,
        },
        Area::Reservations => 5045,
        Area::Sites => {
            if f.reason == "is required" {
                1003
            } else {
                1006
            }
        }
        Area::SipPeers => {
            if f.reason == "is required" {
                1003
            } else {
                13582
            }
        }
        Area::Notes => match field {
            "UserId" => 12501,
            _ => 12502,
        },
        Area::Tns => 15511,
        Area::Subscriptions => match field {
            "OrderType" => 14500,
            "EmailSubscription" => 14502,
            "URL" if f.reason == "is required" => 14503,
            "BasicAuthentication" => 14505,
            // `url` is the engine's own check (private or self-pointing addresses).
            "URL" | "url" => 14506,
            "EventType" => 14507,
            "Subscription" => 14508,
            _ => 14501,
        },
        Area::Generic => 1019,
    }
}

fn conflict_code(area: Area, code: &str) -> (StatusCode, u32) {
    use numbers_core::site::{NO_DEFAULT_PEER, PEER_NAME_TAKEN, SITE_HAS_PEERS};
    match (area, code) {
        (_, c) if c == NO_DEFAULT_PEER => (StatusCode::BAD_REQUEST, 5020),
        (_, c) if c == SITE_HAS_PEERS => (StatusCode::BAD_REQUEST, 12054),
        (_, c) if c == PEER_NAME_TAKEN => (StatusCode::CONFLICT, 13553),
        (Area::Reservations, "NUMBERS_UNAVAILABLE") => (StatusCode::BAD_REQUEST, 5041),
        (Area::Reservations, _) => (StatusCode::BAD_REQUEST, 5047),
        (Area::Orders, "ORDER_NOT_BACKORDERED") => (StatusCode::BAD_REQUEST, 5060),
        _ => (StatusCode::CONFLICT, 1019),
    }
}
