//! Number orders (Sinch's Number Order API, the KYC path to a number): an account asks for one
//! explicit number or a quantity matching criteria; the numbers are RESERVED for it for 48 hours
//! (a core reservation), while it fills in a registration and uploads attachments that the
//! requirements of the (region, type) ask for; it submits; the operator approves (the numbers
//! are ordered through the core order path and become ASSIGNED), rejects or blocks (the numbers
//! are released); an order nobody finished expires with its reservation.
//!
//! This module owns the order's shape and its state machine: every change is a pure method on
//! `NumberOrder` (`set_registration`, `put_attachment`, `apply`) that the stores call on the row
//! they locked, so both databases apply the same rules and the rules live only here.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::clock::Timestamp;
use crate::error::{ConflictKind, Error, FieldErrorKind, FieldErrors, Resource};
use crate::event::EventKind;
use crate::ids::{AccountId, NumberId, NumberOrderId, OrderId, ReservationId};
use crate::kyc::{NumberRequirements, Registration};
use crate::number::{Capabilities, E164, Number, NumberType, Price};
use crate::search::SearchQuery;

/// Sinch: "reserves the numbers for a period between 30 minutes and 48 hours"; numbersd always
/// gives the full 48 hours.
pub const NUMBER_ORDER_TTL_HOURS: i64 = 48;
/// Sinch's `quantityOrderOption.requestedQuantity` range.
pub const MAX_QUANTITY: u32 = 100;
pub const REASON_MAX_CHARS: usize = 1000;
pub const FILE_NAME_MAX_CHARS: usize = 255;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NumberOrderState {
    Created,
    InReview,
    Blocked,
    Completed,
    Rejected,
    Expired,
}

impl NumberOrderState {
    pub const ALL: &'static [NumberOrderState] = &[
        NumberOrderState::Created,
        NumberOrderState::InReview,
        NumberOrderState::Blocked,
        NumberOrderState::Completed,
        NumberOrderState::Rejected,
        NumberOrderState::Expired,
    ];

    /// Sinch's names, which are also ours.
    pub fn as_str(self) -> &'static str {
        match self {
            NumberOrderState::Created => "CREATED",
            NumberOrderState::InReview => "IN_REVIEW",
            NumberOrderState::Blocked => "BLOCKED",
            NumberOrderState::Completed => "COMPLETED",
            NumberOrderState::Rejected => "REJECTED",
            NumberOrderState::Expired => "EXPIRED",
        }
    }

    pub fn parse(s: &str, field: &str) -> Result<Self, Error> {
        Self::ALL
            .iter()
            .copied()
            .find(|st| st.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                let all: Vec<&str> = Self::ALL.iter().map(|s| s.as_str()).collect();
                Error::invalid(
                    field,
                    format!("unknown state '{s}'; expected one of {}", all.join(", ")),
                )
            })
    }

    /// Still holding numbers and waiting for someone to act.
    pub fn is_open(self) -> bool {
        matches!(self, NumberOrderState::Created | NumberOrderState::InReview)
    }

    pub fn event_kind(self) -> EventKind {
        match self {
            NumberOrderState::Created => EventKind::NumberOrderCreated,
            NumberOrderState::InReview => EventKind::NumberOrderInReview,
            NumberOrderState::Blocked => EventKind::NumberOrderBlocked,
            NumberOrderState::Completed => EventKind::NumberOrderCompleted,
            NumberOrderState::Rejected => EventKind::NumberOrderRejected,
            NumberOrderState::Expired => EventKind::NumberOrderExpired,
        }
    }
}

/// What the account asked for (Sinch's `numberOrderOption` / `quantityOrderOption`).
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NumberSelection {
    Number(E164),
    /// `query` has the order's region and type filled in by the service.
    Quantity {
        quantity: u32,
        query: SearchQuery,
    },
}

/// A number held by the order, as it was when reserved (what Sinch's `orderNumbers` lists).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderedNumber {
    pub number_id: NumberId,
    pub e164: E164,
    pub capabilities: Capabilities,
    pub price: Option<Price>,
}

impl OrderedNumber {
    pub fn of(n: &Number) -> Self {
        OrderedNumber {
            number_id: n.id,
            e164: n.e164.clone(),
            capabilities: n.capabilities,
            price: n.price.clone(),
        }
    }
}

/// A message in the order's log (Sinch's `registration.logs`): reviewer feedback, reasons for
/// rejection or blocking, expiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLog {
    pub message: String,
    pub at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UploadStatus {
    Waiting,
    Completed,
    Failed,
}

impl UploadStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UploadStatus::Waiting => "WAITING",
            UploadStatus::Completed => "COMPLETED",
            UploadStatus::Failed => "FAILED",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "COMPLETED" => UploadStatus::Completed,
            "FAILED" => UploadStatus::Failed,
            _ => UploadStatus::Waiting,
        }
    }
}

/// An uploaded document's metadata (its bytes are stored beside it, read with
/// `NumberOrderStore::get_number_order_attachment`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentMeta {
    /// The requirement's attachment id, which the upload URL names.
    pub attachment_id: Uuid,
    pub file_name: String,
    pub mime_type: String,
    pub document_type: Option<String>,
    pub size_bytes: u64,
    pub upload_status: UploadStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A document about to be stored, already checked against its requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttachment {
    pub meta: AttachmentMeta,
    pub content: Vec<u8>,
}

/// An order as the service hands it to the store to create (with its reservation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewNumberOrder {
    pub id: NumberOrderId,
    pub account: AccountId,
    pub region_code: String,
    pub number_type: NumberType,
    pub selection: NumberSelection,
    /// The numbers to reserve (the explicit one, or the candidates the service picked).
    pub numbers: Vec<E164>,
    pub reservation_id: ReservationId,
    pub requirements: NumberRequirements,
    pub callback_url: Option<String>,
    pub sms_configuration: Option<serde_json::Value>,
    pub voice_configuration: Option<serde_json::Value>,
    pub created_at: Timestamp,
    pub expire_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumberOrder {
    pub id: NumberOrderId,
    pub account: AccountId,
    pub region_code: String,
    pub number_type: NumberType,
    pub selection: NumberSelection,
    pub state: NumberOrderState,
    pub numbers: Vec<OrderedNumber>,
    pub reservation_id: ReservationId,
    /// The requirements in force when the order was created.
    pub requirements: NumberRequirements,
    pub registration: Option<Registration>,
    /// Metadata only; in the order of the requirements' attachments.
    #[serde(default)]
    pub attachments: Vec<AttachmentMeta>,
    pub logs: Vec<OrderLog>,
    pub callback_url: Option<String>,
    pub sms_configuration: Option<serde_json::Value>,
    pub voice_configuration: Option<serde_json::Value>,
    /// The core order that assigned the numbers (set on approval).
    pub order_id: Option<OrderId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub expire_at: Timestamp,
    pub submitted_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub version: i64,
}

/// What an actor does to an order (the registration and attachments have their own methods).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NumberOrderAction {
    /// The account submits it for review.
    Submit,
    /// The operator approved and the core order `order_id` assigned every number.
    Complete {
        order_id: OrderId,
    },
    Reject {
        reason: String,
    },
    Block {
        reason: String,
    },
    /// The sweep found it past `expire_at`.
    Expire,
}

/// What the store must do besides saving the changed order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReservationEffect {
    Keep,
    /// Return the still-reserved numbers (reservation RELEASED, `number.reservation_released`).
    Release,
    /// Return them as expired (reservation EXPIRED, `number.reservation_expired`).
    Expire,
}

impl NumberOrder {
    pub fn created(new: &NewNumberOrder, numbers: Vec<OrderedNumber>) -> Self {
        NumberOrder {
            id: new.id,
            account: new.account,
            region_code: new.region_code.clone(),
            number_type: new.number_type,
            selection: new.selection.clone(),
            state: NumberOrderState::Created,
            numbers,
            reservation_id: new.reservation_id,
            requirements: new.requirements.clone(),
            registration: None,
            attachments: Vec::new(),
            logs: Vec::new(),
            callback_url: new.callback_url.clone(),
            sms_configuration: new.sms_configuration.clone(),
            voice_configuration: new.voice_configuration.clone(),
            order_id: None,
            created_at: new.created_at,
            updated_at: new.created_at,
            expire_at: new.expire_at,
            submitted_at: None,
            finished_at: None,
            version: 1,
        }
    }

    pub fn e164s(&self) -> Vec<E164> {
        self.numbers.iter().map(|n| n.e164.clone()).collect()
    }

    /// Whether its 48 hours are over (even before the sweep has marked it).
    pub fn is_past_expiry(&self, now: Timestamp) -> bool {
        self.expire_at <= now
    }

    /// The state as of `now`: an open order past its expiry reads EXPIRED before the sweep runs.
    pub fn state_at(&self, now: Timestamp) -> NumberOrderState {
        if self.state.is_open() && self.is_past_expiry(now) {
            NumberOrderState::Expired
        } else {
            self.state
        }
    }

    /// Only a CREATED order within its time takes registration and attachments.
    fn require_editable(&self, now: Timestamp) -> Result<(), Error> {
        match self.state_at(now) {
            NumberOrderState::Created => Ok(()),
            NumberOrderState::Expired => Err(expired(self)),
            other => Err(Error::conflict(
                ConflictKind::NumberOrderNotEditable,
                format!(
                    "number order {} is {}; only a CREATED order can be changed",
                    self.id,
                    other.as_str()
                ),
            )),
        }
    }

    pub fn set_registration(
        &mut self,
        registration: Registration,
        now: Timestamp,
    ) -> Result<(), Error> {
        self.require_editable(now)?;
        self.registration = Some(registration);
        self.touch(now);
        Ok(())
    }

    /// Replaces the document uploaded for the same requirement, if any.
    pub fn put_attachment(&mut self, meta: AttachmentMeta, now: Timestamp) -> Result<(), Error> {
        self.require_editable(now)?;
        if self.requirements.attachment(meta.attachment_id).is_none() {
            return Err(Error::not_found(Resource::Attachment, meta.attachment_id));
        }
        let mut meta = meta;
        if let Some(old) = self
            .attachments
            .iter()
            .find(|a| a.attachment_id == meta.attachment_id)
        {
            meta.created_at = old.created_at;
        }
        self.attachments
            .retain(|a| a.attachment_id != meta.attachment_id);
        self.attachments.push(meta);
        let order: Vec<Uuid> = self.requirements.attachments.iter().map(|a| a.id).collect();
        self.attachments.sort_by_key(|a| {
            order
                .iter()
                .position(|id| *id == a.attachment_id)
                .unwrap_or(usize::MAX)
        });
        self.touch(now);
        Ok(())
    }

    /// What is still missing before the order may be submitted, each under the name of what
    /// lacks (`registration.<field>`, `attachments.<id>`); empty when complete.
    pub fn missing_for_submit(&self) -> Vec<crate::error::FieldError> {
        let mut errors = FieldErrors::new();
        let empty = Registration::default();
        let registration = self.registration.as_ref().unwrap_or(&empty);
        for field in registration.missing(&self.requirements) {
            errors.push_as(
                FieldErrorKind::Required,
                format!("registration.{field}"),
                "is required before submitting",
            );
        }
        for a in self.requirements.attachments.iter().filter(|a| a.mandatory) {
            let uploaded = self
                .attachments
                .iter()
                .any(|m| m.attachment_id == a.id && m.upload_status == UploadStatus::Completed);
            if !uploaded {
                errors.push(
                    format!("attachments.{}", a.id),
                    format!(
                        "the mandatory attachment '{}' has not been uploaded",
                        a.title
                    ),
                );
            }
        }
        match errors.into_result() {
            Ok(()) => Vec::new(),
            Err(Error::Validation(list)) => list,
            Err(_) => Vec::new(),
        }
    }

    /// Whether the operator may approve it now (checked before ordering its numbers).
    pub fn check_approvable(&self, now: Timestamp) -> Result<(), Error> {
        match self.state_at(now) {
            NumberOrderState::InReview => Ok(()),
            NumberOrderState::Expired => Err(expired(self)),
            other => Err(wrong_state(self, other, "approved", "IN_REVIEW")),
        }
    }

    /// Applies an action: checks it is allowed now, changes the order (state, log, times,
    /// version) and says what to do with the reserved numbers. Nothing changes on `Err`.
    pub fn apply(
        &mut self,
        action: &NumberOrderAction,
        now: Timestamp,
    ) -> Result<ReservationEffect, Error> {
        let current = self.state_at(now);
        let (next, effect, log) = match action {
            NumberOrderAction::Submit => {
                match current {
                    NumberOrderState::Created => {}
                    NumberOrderState::Expired => return Err(expired(self)),
                    other => return Err(wrong_state(self, other, "submitted", "CREATED")),
                }
                let missing = self.missing_for_submit();
                if !missing.is_empty() {
                    return Err(Error::Validation(missing));
                }
                (NumberOrderState::InReview, ReservationEffect::Keep, None)
            }
            NumberOrderAction::Complete { .. } => {
                // Not `current`: the numbers are already ASSIGNED by the approval's order, so
                // completing is the only truthful record even if the clock passed expire_at
                // meanwhile.
                if self.state != NumberOrderState::InReview {
                    return Err(wrong_state(self, self.state, "completed", "IN_REVIEW"));
                }
                (NumberOrderState::Completed, ReservationEffect::Keep, None)
            }
            NumberOrderAction::Reject { reason } | NumberOrderAction::Block { reason } => {
                let (verb, next, prefix) = match action {
                    NumberOrderAction::Reject { .. } => {
                        ("rejected", NumberOrderState::Rejected, "Rejected")
                    }
                    _ => ("blocked", NumberOrderState::Blocked, "Blocked"),
                };
                if !matches!(
                    current,
                    NumberOrderState::Created | NumberOrderState::InReview
                ) {
                    return Err(wrong_state(self, current, verb, "CREATED or IN_REVIEW"));
                }
                let reason = parse_reason(reason)?;
                (
                    next,
                    ReservationEffect::Release,
                    Some(format!("{prefix}: {reason}")),
                )
            }
            NumberOrderAction::Expire => {
                if !(self.state.is_open() && self.is_past_expiry(now)) {
                    return Err(wrong_state(
                        self,
                        self.state,
                        "expired",
                        "CREATED or IN_REVIEW past its expireTime",
                    ));
                }
                (
                    NumberOrderState::Expired,
                    ReservationEffect::Expire,
                    Some("Expired: the order was not completed within 48 hours; its numbers were released".to_string()),
                )
            }
        };
        self.state = next;
        if let NumberOrderAction::Complete { order_id } = action {
            self.order_id = Some(*order_id);
        }
        if next == NumberOrderState::InReview {
            self.submitted_at = Some(now);
        }
        if !next.is_open() {
            self.finished_at = Some(now);
        }
        if let Some(message) = log {
            self.logs.push(OrderLog { message, at: now });
        }
        self.touch(now);
        Ok(effect)
    }

    fn touch(&mut self, now: Timestamp) {
        self.updated_at = now;
        self.version += 1;
    }

    /// The event recording the order's current state (appended with the change).
    pub fn state_event(&self, at: Timestamp) -> crate::event::NewEvent {
        let mut details = serde_json::json!({
            "number_order_id": self.id.to_string(),
            "state": self.state.as_str(),
            "region_code": self.region_code,
            "number_type": self.number_type.as_str(),
            "numbers": self.numbers.iter().map(|n| n.e164.as_str()).collect::<Vec<_>>(),
        });
        if let Some(url) = &self.callback_url {
            details["callback_url"] = serde_json::Value::String(url.clone());
        }
        if let Some(order_id) = self.order_id {
            details["order_id"] = serde_json::Value::String(order_id.to_string());
        }
        if let Some(log) = self.logs.last().filter(|l| l.at == at) {
            details["message"] = serde_json::Value::String(log.message.clone());
        }
        crate::event::NewEvent {
            account_id: Some(self.account),
            reservation_id: Some(self.reservation_id),
            resource_version: self.version,
            details,
            ..crate::event::NewEvent::new(self.state.event_kind(), at)
        }
    }
}

fn expired(order: &NumberOrder) -> Error {
    Error::conflict(
        ConflictKind::NumberOrderExpired,
        format!(
            "number order {} expired at {}; create a new one",
            order.id,
            order.expire_at.to_rfc3339()
        ),
    )
}

fn wrong_state(order: &NumberOrder, state: NumberOrderState, verb: &str, needs: &str) -> Error {
    Error::conflict(
        ConflictKind::NumberOrderState,
        format!(
            "number order {} is {}; only a {needs} order can be {verb}",
            order.id,
            state.as_str()
        ),
    )
}

pub fn parse_reason(reason: &str) -> Result<String, Error> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > REASON_MAX_CHARS {
        return Err(Error::invalid(
            "reason",
            format!("must be 1 to {REASON_MAX_CHARS} characters"),
        ));
    }
    Ok(reason.to_string())
}

/// Filters of the operator's (and an account's) order list; newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NumberOrderFilter {
    pub account: Option<AccountId>,
    pub states: Vec<NumberOrderState>,
    pub page_size: u32,
    /// Keyset: the id of the last order of the previous page (ids are time-ordered UUIDs).
    pub before: Option<NumberOrderId>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kyc::default_requirements_for;
    use chrono::{Duration, Utc};
    use serde_json::json;

    fn order() -> NumberOrder {
        let now = Utc::now();
        let new = NewNumberOrder {
            id: NumberOrderId::new(),
            account: AccountId::new(),
            region_code: "AU".into(),
            number_type: NumberType::Mobile,
            selection: NumberSelection::Number(E164::parse("+61491570156").unwrap()),
            numbers: vec![E164::parse("+61491570156").unwrap()],
            reservation_id: ReservationId::new(),
            requirements: default_requirements_for("AU", NumberType::Mobile).unwrap(),
            callback_url: None,
            sms_configuration: None,
            voice_configuration: None,
            created_at: now,
            expire_at: now + Duration::hours(NUMBER_ORDER_TTL_HOURS),
        };
        NumberOrder::created(&new, vec![])
    }

    fn registration(o: &NumberOrder) -> Registration {
        Registration::parse(
            &o.requirements,
            &json!({"businessName": "Acme", "contactFirstName": "Jo", "contactLastName": "C",
                    "contactEmail": "jo@acme.au", "streetAddress": "1 George St", "city": "Sydney",
                    "state": "NSW", "postalCode": "2000", "useCase": "MARKETING"}),
            "",
        )
        .unwrap()
    }

    #[test]
    fn submit_needs_registration_and_mandatory_attachments() {
        let mut o = order();
        let now = o.created_at;
        let Err(Error::Validation(missing)) = o.apply(&NumberOrderAction::Submit, now) else {
            panic!("incomplete order submitted");
        };
        assert!(
            missing
                .iter()
                .any(|e| e.field == "registration.businessName")
        );
        assert!(missing.iter().any(|e| e.field.starts_with("attachments.")));
        assert_eq!(o.state, NumberOrderState::Created);
        o.set_registration(registration(&o), now).unwrap();
        let att = o.requirements.attachments[0].id;
        o.put_attachment(
            AttachmentMeta {
                attachment_id: att,
                file_name: "id.pdf".into(),
                mime_type: "application/pdf".into(),
                document_type: None,
                size_bytes: 10,
                upload_status: UploadStatus::Completed,
                created_at: now,
                updated_at: now,
            },
            now,
        )
        .unwrap();
        assert_eq!(
            o.apply(&NumberOrderAction::Submit, now).unwrap(),
            ReservationEffect::Keep
        );
        assert_eq!(o.state, NumberOrderState::InReview);
        assert!(
            o.set_registration(registration(&o), now).is_err(),
            "no edits in review"
        );
        let effect = o
            .apply(
                &NumberOrderAction::Reject {
                    reason: "blurry scan".into(),
                },
                now,
            )
            .unwrap();
        assert_eq!(effect, ReservationEffect::Release);
        assert_eq!(o.state, NumberOrderState::Rejected);
        assert_eq!(o.logs[0].message, "Rejected: blurry scan");
        assert!(o.apply(&NumberOrderAction::Submit, now).is_err());
    }

    #[test]
    fn expiry_is_clock_driven() {
        let mut o = order();
        let early = o.created_at + Duration::hours(47);
        assert!(o.apply(&NumberOrderAction::Expire, early).is_err());
        let late = o.created_at + Duration::hours(48);
        assert_eq!(o.state_at(late), NumberOrderState::Expired);
        assert!(matches!(
            o.clone().apply(&NumberOrderAction::Submit, late),
            Err(Error::Conflict {
                kind: ConflictKind::NumberOrderExpired,
                ..
            })
        ));
        assert_eq!(
            o.apply(&NumberOrderAction::Expire, late).unwrap(),
            ReservationEffect::Expire
        );
        assert_eq!(o.state, NumberOrderState::Expired);
        assert_eq!(o.version, 2);
    }

    #[test]
    fn reasons_are_required() {
        let mut o = order();
        let now = o.created_at;
        assert!(
            o.apply(&NumberOrderAction::Block { reason: " ".into() }, now)
                .is_err()
        );
        o.apply(
            &NumberOrderAction::Block {
                reason: "fraud".into(),
            },
            now,
        )
        .unwrap();
        assert_eq!(o.state, NumberOrderState::Blocked);
    }
}
