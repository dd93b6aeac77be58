//! KYC requirements and number orders: the operator configures requirements per (region, type);
//! an account creates an order (its numbers reserved for 48 h), registers, uploads, submits; the
//! operator approves (through the core order path, so every claim rule and event applies),
//! rejects or blocks; the maintenance pass expires what nobody finished. Dialects (the native
//! API, Sinch's `numberOrders…`) and the CLI call these methods and nothing below them.

use std::collections::HashSet;

use chrono::Duration;
use uuid::Uuid;

use crate::account::Principal;
use crate::error::{ConflictKind, Error, Resource, Result};
use crate::ids::{AccountId, NumberOrderId, ReservationId};
use crate::kyc::{
    NumberRequirements, Registration, default_requirements, default_requirements_for,
};
use crate::number::{AssignmentData, E164, NumberType};
use crate::number_order::{
    AttachmentMeta, FILE_NAME_MAX_CHARS, MAX_QUANTITY, NUMBER_ORDER_TTL_HOURS, NewAttachment,
    NewNumberOrder, NumberOrder, NumberOrderAction, NumberOrderFilter, NumberSelection,
    UploadStatus,
};
use crate::order::{OrderRequest, OrderStatus};
use crate::page::Page;
use crate::reservation::ReservationStatus;
use crate::search::SearchQuery;
use crate::store::StoredAttachment;

use super::{OrderSubmission, Service};

/// Picking candidates for a quantity order and reserving them are two steps; when another
/// request wins a candidate in between, the service picks again without it, this many times.
const CREATE_ATTEMPTS: usize = 5;
const EXPIRY_BATCH: u32 = 200;

/// What an account asks for, parsed by the dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberOrderRequest {
    pub region_code: String,
    pub number_type: NumberType,
    pub selection: SelectionRequest,
    pub callback_url: Option<String>,
    pub sms_configuration: Option<serde_json::Value>,
    pub voice_configuration: Option<serde_json::Value>,
}

/// Exactly one number, or a quantity (1–100) with optional criteria (pattern, capabilities);
/// the service adds the order's region and type to the criteria.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectionRequest {
    Number(E164),
    Quantity {
        quantity: u32,
        criteria: SearchQuery,
    },
}

/// A document being uploaded, as the dialect received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub file_name: String,
    pub mime_type: String,
    pub document_type: Option<String>,
    pub content: Vec<u8>,
}

/// `requestedQuantity` as Sinch's OpenAPI bounds it (1 to `MAX_QUANTITY`).
pub fn parse_quantity(quantity: u64, field: &str) -> Result<u32> {
    parse_quantity_at_most(quantity, MAX_QUANTITY, field)
}

/// A quantity from 1 to `max` (at most `MAX_QUANTITY`, what the core can fill): a door whose
/// vendor documents a tighter bound than the core's passes it here, so the refusal names the
/// door's own field.
pub fn parse_quantity_at_most(quantity: u64, max: u32, field: &str) -> Result<u32> {
    let max = max.min(MAX_QUANTITY);
    match quantity {
        q if (1..=u64::from(max)).contains(&q) => Ok(q as u32),
        _ if max == 1 => Err(Error::invalid(field, "must be 1: one number per order")),
        _ => Err(Error::invalid(field, format!("must be from 1 to {max}"))),
    }
}

impl Service {
    /// The requirements in force for a (region, type): the operator's, else the built-in
    /// default, else none at all (nothing to declare).
    pub async fn number_requirements(
        &self,
        region_code: &str,
        number_type: NumberType,
    ) -> Result<NumberRequirements> {
        let region = crate::kyc::parse_region_code(region_code, "region_code")?;
        if let Some(stored) = self
            .store
            .get_number_requirements(&region, number_type)
            .await?
        {
            return Ok(stored);
        }
        Ok(default_requirements_for(&region, number_type)
            .unwrap_or_else(|| NumberRequirements::none(region, number_type)))
    }

    /// Every configured set: the operator's, and the built-in defaults not overridden.
    pub async fn list_number_requirements(&self) -> Result<Vec<NumberRequirements>> {
        let mut all = self.store.list_number_requirements().await?;
        for d in default_requirements() {
            if !all
                .iter()
                .any(|r| r.region_code == d.region_code && r.number_type == d.number_type)
            {
                all.push(d);
            }
        }
        all.sort_by(|a, b| {
            (a.region_code.as_str(), a.number_type).cmp(&(b.region_code.as_str(), b.number_type))
        });
        Ok(all)
    }

    /// Replaces the requirements of a (region, type) with the operator's document. Orders
    /// already created keep the requirements they were created under.
    pub async fn set_number_requirements(
        &self,
        principal: Principal,
        region_code: &str,
        number_type: NumberType,
        document: &serde_json::Value,
    ) -> Result<NumberRequirements> {
        principal.require_operator()?;
        let requirements = NumberRequirements::from_json(region_code, number_type, document)?;
        self.store
            .put_number_requirements(&requirements, self.now())
            .await?;
        Ok(requirements)
    }

    /// Creates a CREATED order holding its numbers for 48 hours. A number that is not available
    /// answers `Conflict` of kind `NumbersUnavailable`, as a reservation does.
    pub async fn create_number_order(
        &self,
        account: AccountId,
        request: NumberOrderRequest,
    ) -> Result<NumberOrder> {
        let region = crate::kyc::parse_region_code(&request.region_code, "region_code")?;
        self.check_callback_url(request.callback_url.as_deref())?;
        let requirements = self
            .number_requirements(&region, request.number_type)
            .await?;
        let now = self.now();
        let mut new = NewNumberOrder {
            id: NumberOrderId::new(),
            account,
            region_code: region.clone(),
            number_type: request.number_type,
            selection: NumberSelection::Quantity {
                quantity: 0,
                query: SearchQuery::default(),
            },
            numbers: Vec::new(),
            reservation_id: ReservationId::new(),
            requirements,
            callback_url: request.callback_url,
            sms_configuration: request.sms_configuration,
            voice_configuration: request.voice_configuration,
            created_at: now,
            expire_at: now + Duration::hours(NUMBER_ORDER_TTL_HOURS),
        };
        match request.selection {
            SelectionRequest::Number(e164) => {
                // Region and type are facts of the number that never change, so checking them
                // outside the transaction is safe; availability is decided inside it.
                if let Some(n) = self.store.get_number(&e164).await?
                    && n.is_publicly_available(now)
                    && (n.country != region || n.number_type != request.number_type)
                {
                    return Err(Error::invalid(
                        "number",
                        format!(
                            "{e164} is a {} {} number, not {region} {}",
                            n.country, n.number_type, request.number_type
                        ),
                    ));
                }
                new.selection = NumberSelection::Number(e164.clone());
                new.numbers = vec![e164];
                match self.store.create_number_order(&new).await? {
                    Ok(order) => Ok(order),
                    Err(refusals) => Err(unavailable(&refusals)),
                }
            }
            SelectionRequest::Quantity { quantity, criteria } => {
                if !(1..=MAX_QUANTITY).contains(&quantity) {
                    return Err(Error::invalid(
                        "quantity",
                        format!("must be from 1 to {MAX_QUANTITY}"),
                    ));
                }
                let mut query = criteria;
                query.country = Some(region.clone());
                query.types = vec![request.number_type];
                new.selection = NumberSelection::Quantity {
                    quantity,
                    query: query.clone().with_page(quantity, None),
                };
                let mut lost: HashSet<E164> = HashSet::new();
                for _ in 0..CREATE_ATTEMPTS {
                    let page = query.clone().with_page(quantity + lost.len() as u32, None);
                    let candidates: Vec<E164> = self
                        .store
                        .search_available(&page, self.now())
                        .await?
                        .into_iter()
                        .map(|n| n.e164)
                        .filter(|e| !lost.contains(e))
                        .take(quantity as usize)
                        .collect();
                    if candidates.len() < quantity as usize {
                        return Err(Error::conflict(
                            ConflictKind::NumbersUnavailable,
                            format!(
                                "only {} of the {quantity} requested {region} {} numbers matching the criteria are available",
                                candidates.len(),
                                request.number_type
                            ),
                        ));
                    }
                    new.numbers = candidates;
                    match self.store.create_number_order(&new).await? {
                        Ok(order) => return Ok(order),
                        Err(refusals) => lost.extend(refusals.into_iter().map(|(e, _)| e)),
                    }
                }
                Err(Error::Unavailable(
                    "the matching numbers kept being taken by concurrent requests".into(),
                ))
            }
        }
    }

    /// The operator sees every order; an account only its own.
    pub async fn number_order(
        &self,
        principal: Principal,
        id: NumberOrderId,
    ) -> Result<NumberOrder> {
        self.store
            .get_number_order(principal.scope(), id)
            .await?
            .ok_or_else(|| Error::not_found(Resource::NumberOrder, id))
    }

    pub async fn list_number_orders(
        &self,
        principal: Principal,
        mut filter: NumberOrderFilter,
    ) -> Result<Page<NumberOrder>> {
        if let Principal::Account(own) = principal {
            filter.account = Some(own);
        }
        let rows = self.store.list_number_orders(&filter).await?;
        Ok(Page::from_overfetch(rows, filter.page_size, |o| {
            o.id.to_string()
        }))
    }

    /// Replaces the registration after checking `details` (a JSON object of field values)
    /// against the order's requirements; every problem is reported under `field` + its name.
    pub async fn update_number_order_registration(
        &self,
        account: AccountId,
        id: NumberOrderId,
        details: &serde_json::Value,
        field: &str,
    ) -> Result<NumberOrder> {
        let order = self.number_order(Principal::Account(account), id).await?;
        let registration = Registration::parse(&order.requirements, details, field)?;
        self.store
            .set_number_order_registration(account, id, &registration, self.now())
            .await?
            .ok_or_else(|| Error::not_found(Resource::NumberOrder, id))
    }

    /// Stores a document for one of the order's required attachments, within the requirement's
    /// size, MIME type and document type limits.
    pub async fn upload_number_order_attachment(
        &self,
        account: AccountId,
        id: NumberOrderId,
        attachment_id: Uuid,
        upload: Upload,
    ) -> Result<NumberOrder> {
        let order = self.number_order(Principal::Account(account), id).await?;
        let required = order
            .requirements
            .attachment(attachment_id)
            .ok_or_else(|| Error::not_found(Resource::Attachment, attachment_id))?;
        let mut errors = crate::error::FieldErrors::new();
        let size = upload.content.len() as u64;
        if size == 0 {
            errors.push("file", "is empty");
        } else if size > required.max_size_bytes {
            errors.push(
                "file",
                format!(
                    "is too large: {size} bytes; '{}' allows at most {} bytes",
                    required.title, required.max_size_bytes
                ),
            );
        }
        if !required.allows_mime_type(&upload.mime_type) {
            errors.push(
                "file",
                format!(
                    "has MIME type '{}'; '{}' accepts {}",
                    upload.mime_type,
                    required.title,
                    required.allowed_mime_types.join(", ")
                ),
            );
        }
        let document_type = upload
            .document_type
            .map(|d| d.trim().to_string())
            .filter(|d| !d.is_empty());
        if let Some(d) = &document_type
            && !required.allowed_document_types.is_empty()
            && !required.allowed_document_types.contains(d)
        {
            errors.push(
                "documentType",
                format!(
                    "must be one of {}",
                    required.allowed_document_types.join(", ")
                ),
            );
        }
        let file_name = upload.file_name.trim().to_string();
        if file_name.chars().count() > FILE_NAME_MAX_CHARS {
            errors.push(
                "file",
                format!("file name must be at most {FILE_NAME_MAX_CHARS} characters"),
            );
        }
        errors.into_result()?;
        let now = self.now();
        let attachment = NewAttachment {
            meta: AttachmentMeta {
                attachment_id,
                file_name: if file_name.is_empty() {
                    "attachment".into()
                } else {
                    file_name
                },
                mime_type: upload.mime_type.trim().to_ascii_lowercase(),
                document_type,
                size_bytes: size,
                // Stored synchronously in the database, so complete once this call returns.
                upload_status: UploadStatus::Completed,
                created_at: now,
                updated_at: now,
            },
            content: upload.content,
        };
        self.store
            .put_number_order_attachment(account, id, &attachment, now)
            .await?
            .ok_or_else(|| Error::not_found(Resource::NumberOrder, id))
    }

    pub async fn number_order_attachment(
        &self,
        principal: Principal,
        id: NumberOrderId,
        attachment_id: Uuid,
    ) -> Result<StoredAttachment> {
        self.store
            .get_number_order_attachment(principal.scope(), id, attachment_id)
            .await?
            .ok_or_else(|| Error::not_found(Resource::Attachment, attachment_id))
    }

    /// CREATED → IN_REVIEW; refused (naming each) while required fields or mandatory
    /// attachments are missing.
    pub async fn submit_number_order(
        &self,
        account: AccountId,
        id: NumberOrderId,
    ) -> Result<NumberOrder> {
        self.act(Some(account), id, NumberOrderAction::Submit).await
    }

    /// The operator's approval: orders the reserved numbers for the account through the core
    /// order path (with the order's reservation, so every claim rule and event applies; the
    /// order's callback URL and configurations become the numbers' assignment data), then
    /// records COMPLETED. Idempotent: the core order carries the idempotency key
    /// `number-order:{id}`, so an approval retried after a crash finds the same order.
    pub async fn approve_number_order(
        &self,
        principal: Principal,
        id: NumberOrderId,
    ) -> Result<NumberOrder> {
        principal.require_operator()?;
        let order = self.number_order(principal, id).await?;
        if let Err(refusal) = order.check_approvable(self.now()) {
            // An approval that ordered the numbers but stopped before recording it is finished
            // here even after expire_at (the sweep leaves such orders alone).
            let ordered = order.state == crate::number_order::NumberOrderState::InReview
                && self
                    .store
                    .get_reservation(order.account, order.reservation_id)
                    .await?
                    .is_some_and(|r| r.status == ReservationStatus::Ordered);
            if !ordered {
                return Err(refusal);
            }
        }
        let mut submission = OrderSubmission::new(OrderRequest::Numbers(order.e164s()));
        submission.reservation_ids = vec![order.reservation_id];
        submission.idempotency_key = Some(format!("number-order:{id}"));
        submission.name = Some(format!("number order {id}"));
        submission.template = AssignmentData {
            callback_url: order.callback_url.clone(),
            sms_configuration: order.sms_configuration.clone(),
            voice_configuration: order.voice_configuration.clone(),
            ..AssignmentData::default()
        };
        submission.dialect_data = serde_json::json!({"number_order_id": id.to_string()});
        let core_order = self.order_now(order.account, submission).await?;
        if core_order.status != OrderStatus::Complete {
            let why: Vec<String> = core_order
                .failed()
                .map(|(item, code, message)| match &item.e164 {
                    Some(e) => format!("{e}: {code} ({message})"),
                    None => format!("{code} ({message})"),
                })
                .collect();
            return Err(Error::conflict(
                ConflictKind::NumbersUnavailable,
                format!(
                    "the order's numbers could not be assigned (order {} {}): {}; reject the number order instead",
                    core_order.id(),
                    core_order.status.as_str(),
                    why.join("; ")
                ),
            ));
        }
        self.act(
            None,
            id,
            NumberOrderAction::Complete {
                order_id: core_order.id(),
            },
        )
        .await
    }

    /// Rejects with a reason kept in the order's logs; the numbers go back on offer.
    pub async fn reject_number_order(
        &self,
        principal: Principal,
        id: NumberOrderId,
        reason: &str,
    ) -> Result<NumberOrder> {
        principal.require_operator()?;
        self.act(
            None,
            id,
            NumberOrderAction::Reject {
                reason: reason.to_string(),
            },
        )
        .await
    }

    /// Blocks (a final state, e.g. for suspected fraud) with a reason kept in the logs; the
    /// numbers go back on offer.
    pub async fn block_number_order(
        &self,
        principal: Principal,
        id: NumberOrderId,
        reason: &str,
    ) -> Result<NumberOrder> {
        principal.require_operator()?;
        self.act(
            None,
            id,
            NumberOrderAction::Block {
                reason: reason.to_string(),
            },
        )
        .await
    }

    /// Expires every open order past its time; returns how many.
    pub async fn expire_number_orders(&self) -> Result<u32> {
        let mut total = 0;
        loop {
            let n = self
                .store
                .expire_number_orders(self.now(), EXPIRY_BATCH)
                .await?;
            total += n;
            if n < EXPIRY_BATCH {
                break;
            }
        }
        if total > 0 {
            self.inventory_changed.notify_one();
        }
        Ok(total)
    }

    async fn act(
        &self,
        account: Option<AccountId>,
        id: NumberOrderId,
        action: NumberOrderAction,
    ) -> Result<NumberOrder> {
        let releases = matches!(
            action,
            NumberOrderAction::Reject { .. } | NumberOrderAction::Block { .. }
        );
        let order = self
            .store
            .act_on_number_order(account, id, &action, self.now())
            .await?
            .ok_or_else(|| Error::not_found(Resource::NumberOrder, id))?;
        if releases {
            self.inventory_changed.notify_one();
        }
        Ok(order)
    }
}

fn unavailable(refusals: &crate::store::ReservationRefusals) -> Error {
    let detail: Vec<String> = refusals
        .iter()
        .map(|(e164, why)| format!("{e164}: {}", why.message()))
        .collect();
    Error::conflict(
        ConflictKind::NumbersUnavailable,
        format!("cannot order: {}", detail.join("; ")),
    )
}
