//! Sinch's Number Order API (`numberOrders:lookupNumberRequirements`,
//! `numberOrders:createNumberOrder`, `numberOrders/{id}`, `…/registration` GET / PUT,
//! `…/attachments/{attachmentId}` multipart, `…/submit`) over the core's KYC number orders
//! (`numbers_core::service::number_orders`): Sinch's request shapes become core requests and
//! the core's orders, requirements and registrations are rendered as Sinch's `NumberOrder`,
//! `NumberRequirements` and `Registration` documents. States keep their names; the operator's
//! review (approve / reject / block) is on the operator API and the CLI, not here.

use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use numbers_core::account::Principal;
use numbers_core::error::{Error, FieldErrorKind, FieldErrors, Resource};
use numbers_core::ids::NumberOrderId;
use numbers_core::kyc::NumberRequirements;
use numbers_core::number::Capability;
use numbers_core::number_order::NumberOrder;
use numbers_core::search::{CapabilityMatch, PatternPosition, SearchQuery};
use numbers_core::service::{NumberOrderRequest, SelectionRequest, Upload, parse_quantity_at_most};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::error::{SinchError, SinchResult};
use super::extract::{Body, Project};
use super::views::{money, time};
use super::wire::{number_type, pattern_text, phone_number, search_pattern, sinch_capabilities};
use crate::ApiState;
use crate::wire::{Field, JsonObject};

/// Sinch bills monthly.
const PAYMENT_INTERVAL_MONTHS: u32 = 1;

/// Names the missing resource of a number-order route the way Sinch's `ResourceInfo` does.
fn on_order<T>(result: Result<T, Error>) -> SinchResult<T> {
    result.map_err(|error| {
        let resource_type = match &error {
            Error::NotFound { resource, .. } => Some(match resource {
                Resource::Attachment => "Attachment",
                Resource::Number => "AvailableNumber",
                Resource::NumberOrder
                | Resource::Account
                | Resource::Key
                | Resource::Order
                | Resource::Reservation
                | Resource::Disconnect
                | Resource::Event
                | Resource::Webhook
                | Resource::Subscription
                | Resource::Site
                | Resource::SipPeer
                | Resource::Method
                | Resource::Route => "NumberOrder",
            }),
            Error::Conflict { .. }
            | Error::Validation(_)
            | Error::Unauthorized
            | Error::Forbidden(_)
            | Error::Unavailable(_)
            | Error::OverLimit(_)
            | Error::Internal(_) => None,
        };
        SinchError {
            error,
            resource_type,
            challenge: None,
            too_large: None,
        }
    })
}

fn order_id(raw: &str) -> SinchResult<NumberOrderId> {
    on_order(
        raw.parse::<NumberOrderId>()
            .map_err(|_| Error::not_found(Resource::NumberOrder, raw)),
    )
}

fn sinch_capabilities_of(caps: numbers_core::number::Capabilities) -> Vec<&'static str> {
    caps.iter()
        .filter_map(|c| match c {
            Capability::Sms => Some("SMS"),
            Capability::Voice => Some("VOICE"),
            _ => None,
        })
        .collect()
}

/// Sinch's `NumberOrder`.
pub fn number_order_document(o: &NumberOrder, now: numbers_core::clock::Timestamp) -> Value {
    let numbers: Vec<Value> = o
        .numbers
        .iter()
        .map(|n| {
            json!({
                "phoneNumber": n.e164.as_str(),
                "numberPrice": {
                    "setupPrice": money(n.price.as_ref(), false),
                    "monthlyPrice": money(n.price.as_ref(), true),
                    "paymentIntervalMonths": PAYMENT_INTERVAL_MONTHS,
                },
                "capabilities": sinch_capabilities_of(n.capabilities),
            })
        })
        .collect();
    let mut doc = Map::new();
    doc.insert("projectId".into(), json!(o.account.to_string()));
    doc.insert("idNumberOrder".into(), json!(o.id.to_string()));
    doc.insert("regionCode".into(), json!(o.region_code));
    doc.insert("state".into(), json!(o.state_at(now).as_str()));
    doc.insert(
        "numberType".into(),
        json!(super::wire::type_name(o.number_type)),
    );
    doc.insert("orderNumbers".into(), Value::Array(numbers));
    if let Some(sms) = &o.sms_configuration {
        doc.insert("smsConfiguration".into(), sms.clone());
    }
    if let Some(voice) = &o.voice_configuration {
        doc.insert("voiceConfiguration".into(), voice.clone());
    }
    doc.insert("expireTime".into(), json!(time(o.expire_at)));
    doc.insert("createTime".into(), json!(time(o.created_at)));
    doc.insert("updateTime".into(), json!(time(o.updated_at)));
    Value::Object(doc)
}

/// Sinch's `NumberRequirements`: `fields` (free-form in Sinch's schema) maps each field name
/// to its rules; `attachments` are `RequiredAttachment`s whose `id` is the upload path's
/// `{attachmentId}`.
pub fn requirements_document(r: &NumberRequirements) -> Value {
    let mut fields = Map::new();
    for f in &r.fields {
        let mut rule = Map::new();
        rule.insert("type".into(), json!(f.field_type.as_str()));
        rule.insert("required".into(), json!(f.required));
        if let Some(n) = f.min_length {
            rule.insert("minLength".into(), json!(n));
        }
        if let Some(n) = f.max_length {
            rule.insert("maxLength".into(), json!(n));
        }
        if let Some(p) = &f.pattern {
            rule.insert("pattern".into(), json!(p.as_str()));
        }
        if !f.allowed_values.is_empty() {
            rule.insert("allowedValues".into(), json!(f.allowed_values));
        }
        if let Some(d) = &f.description {
            rule.insert("description".into(), json!(d));
        }
        fields.insert(f.name.clone(), Value::Object(rule));
    }
    let attachments: Vec<Value> = r
        .attachments
        .iter()
        .map(|a| {
            json!({
                "id": a.id.to_string(),
                "title": a.title,
                "description": a.description.clone().unwrap_or_default(),
                "mandatory": a.mandatory,
                "template": [],
                "allowedMimeTypes": a.allowed_mime_types,
                "allowedDocumentTypes": a.allowed_document_types,
                "maxSizeBytes": a.max_size_bytes,
            })
        })
        .collect();
    json!({
        "regionCode": r.region_code,
        "numberType": super::wire::type_name(r.number_type),
        "fields": fields,
        "attachments": attachments,
    })
}

/// Sinch's `Registration`: the values, the documents' metadata and the reviewers' log.
pub fn registration_document(o: &NumberOrder) -> Value {
    let details = o
        .registration
        .as_ref()
        .and_then(|r| serde_json::to_value(r.values()).ok())
        .unwrap_or_else(|| json!({}));
    let attachments: Vec<Value> = o
        .attachments
        .iter()
        .map(|a| {
            let mut doc = json!({
                "attachmentId": a.attachment_id.to_string(),
                "fileName": a.file_name,
                "mimeType": a.mime_type,
                "createTime": time(a.created_at),
                "updateTime": time(a.updated_at),
                "uploadStatus": a.upload_status.as_str(),
            });
            if let (Some(d), Some(map)) = (&a.document_type, doc.as_object_mut()) {
                map.insert("documentType".into(), json!(d));
            }
            doc
        })
        .collect();
    let logs: Vec<Value> = o
        .logs
        .iter()
        .map(|l| json!({"message": l.message, "createTime": time(l.at)}))
        .collect();
    json!({"requestDetails": details, "attachments": attachments, "logs": logs})
}

/// `POST numberOrders:lookupNumberRequirements` `{regionCode, numberType}`.
pub async fn lookup_requirements(
    State(state): State<ApiState>,
    Project(_): Project,
    Body(body): Body,
) -> SinchResult<Json<Value>> {
    let mut obj = JsonObject::new(&body, "")?;
    let region = obj.required_str("regionCode");
    let kind = obj
        .required_str("numberType")
        .and_then(|t| obj.errors.take(number_type(t, "numberType")));
    obj.finish()?;
    let (Some(region), Some(kind)) = (region, kind) else {
        return Err(Error::internal("lookup fields missing after validation").into());
    };
    let requirements = state
        .service
        .number_requirements(region, kind)
        .await
        .map_err(|e| rename_field(e, "region_code", "regionCode"))?;
    Ok(Json(requirements_document(&requirements)))
}

/// Reports a core field under the name the Sinch client sent.
fn rename_field(error: Error, from: &str, to: &str) -> Error {
    match error {
        Error::Validation(mut fields) => {
            for f in &mut fields {
                if f.field == from {
                    f.field = to.to_string();
                }
            }
            Error::Validation(fields)
        }
        other => other,
    }
}

/// An optional JSON object kept as the client wrote it (configurations echoed on the order
/// and applied to the numbers on approval).
fn object_field(obj: &mut JsonObject<'_>, field: &str) -> Option<Value> {
    match obj.field(field) {
        Field::Absent | Field::Null => None,
        Field::Present(v @ Value::Object(_)) => Some(v.clone()),
        Field::Present(_) => {
            let name = obj.name(field);
            obj.errors.push(name, "must be a JSON object");
            None
        }
    }
}

/// `numberOrderOption {phoneNumbers: [one E.164 number]}`.
fn number_option(obj: &mut JsonObject<'_>) -> Option<SelectionRequest> {
    let Field::Present(value) = obj.field("numberOrderOption") else {
        return None;
    };
    let mut inner = match JsonObject::new(value, "numberOrderOption") {
        Ok(inner) => inner,
        Err(e) => {
            obj.errors.take::<()>(Err(e));
            return None;
        }
    };
    let numbers = inner.opt_str_list("phoneNumbers").unwrap_or_default();
    let selection = match numbers.as_slice() {
        [one] => inner
            .errors
            .take(phone_number(one, "numberOrderOption.phoneNumbers[0]"))
            .map(SelectionRequest::Number),
        _ => {
            inner.errors.push(
                "numberOrderOption.phoneNumbers",
                "must list exactly one phone number (one number per order)",
            );
            None
        }
    };
    let errors = inner.errors;
    obj.errors.take::<()>(errors.into_result());
    selection
}

/// Sinch's number-order guide: "max 1 number per order supported now". The OpenAPI schema still
/// says 1–100, but the guide is what Sinch enforces and what a client migrating from it expects,
/// so a larger quantity is refused here rather than filled (issue 14, item 9).
const QUANTITY_PER_ORDER: u32 = 1;

/// `quantityOrderOption {requestedQuantity (exactly 1), numberPattern?, capabilities?, sequential?}`.
fn quantity_option(obj: &mut JsonObject<'_>) -> Option<SelectionRequest> {
    let Field::Present(value) = obj.field("quantityOrderOption") else {
        return None;
    };
    const P: &str = "quantityOrderOption";
    let mut inner = match JsonObject::new(value, P) {
        Ok(inner) => inner,
        Err(e) => {
            obj.errors.take::<()>(Err(e));
            return None;
        }
    };
    let quantity = match inner.opt_u64("requestedQuantity") {
        Some(q) => inner.errors.take(parse_quantity_at_most(
            q,
            QUANTITY_PER_ORDER,
            "quantityOrderOption.requestedQuantity",
        )),
        None => {
            inner
                .errors
                .push_required("quantityOrderOption.requestedQuantity");
            None
        }
    };
    let caps = inner.opt_str_list("capabilities").unwrap_or_default();
    let caps = inner
        .errors
        .take(sinch_capabilities(
            &caps,
            "quantityOrderOption.capabilities",
        ))
        .unwrap_or_default();
    let (pattern, position) = match inner.field("numberPattern") {
        Field::Present(p) => match JsonObject::new(p, "quantityOrderOption.numberPattern") {
            Ok(mut np) => {
                let pattern = np.opt_str("pattern");
                let raw = np.opt_str("searchPattern");
                let position = np.errors.take(search_pattern(
                    raw,
                    "quantityOrderOption.numberPattern.searchPattern",
                ));
                let errs = np.errors;
                inner.errors.take(errs.into_result());
                (pattern, position)
            }
            Err(e) => {
                inner.errors.take::<()>(Err(e));
                (None, None)
            }
        },
        Field::Absent | Field::Null => (None, None),
    };
    let criteria = inner.errors.take(
        SearchQuery::builder()
            .capability_values(
                caps.iter().map(String::as_str),
                CapabilityMatch::AllOf,
                "quantityOrderOption.capabilities",
            )
            .pattern(
                position.unwrap_or(PatternPosition::StartsWith),
                pattern_text(pattern),
                "quantityOrderOption.numberPattern.pattern",
            )
            .build(),
    );
    let errors = inner.errors;
    obj.errors.take::<()>(errors.into_result());
    match (quantity, criteria) {
        (Some(quantity), Some(criteria)) => Some(SelectionRequest::Quantity { quantity, criteria }),
        _ => None,
    }
}

/// `POST numberOrders:createNumberOrder`.
pub async fn create(
    State(state): State<ApiState>,
    Project(account): Project,
    Body(body): Body,
) -> SinchResult<Json<Value>> {
    let mut obj = JsonObject::new(&body, "")?;
    let region_code = obj.required_str("regionCode").map(str::to_string);
    let kind = obj
        .required_str("numberType")
        .and_then(|t| obj.errors.take(number_type(t, "numberType")));
    let by_number = obj.field("numberOrderOption") != Field::Absent;
    let by_quantity = obj.field("quantityOrderOption") != Field::Absent;
    let selection = match (by_number, by_quantity) {
        (true, false) => number_option(&mut obj),
        (false, true) => quantity_option(&mut obj),
        _ => {
            obj.errors.push(
                "numberOrderOption",
                "give exactly one of numberOrderOption or quantityOrderOption",
            );
            None
        }
    };
    let callback_url = match obj.field("callbackUrl") {
        Field::Present(Value::String(s)) if !s.is_empty() => obj
            .errors
            .take(state.service.callback_url(s, "callbackUrl")),
        Field::Present(Value::String(_)) | Field::Absent | Field::Null => None,
        Field::Present(_) => {
            obj.errors.push("callbackUrl", "must be a string");
            None
        }
    };
    let sms_configuration = object_field(&mut obj, "smsConfiguration");
    let voice_configuration = object_field(&mut obj, "voiceConfiguration");
    obj.finish()?;
    let (Some(region_code), Some(number_type), Some(selection)) = (region_code, kind, selection)
    else {
        return Err(Error::internal("order fields missing after validation").into());
    };
    let order = state
        .service
        .create_number_order(
            account,
            NumberOrderRequest {
                region_code,
                number_type,
                selection,
                callback_url,
                sms_configuration,
                voice_configuration,
            },
        )
        .await
        .map_err(|e| {
            let e = rename_field(e, "region_code", "regionCode");
            rename_field(e, "number", "numberOrderOption.phoneNumbers[0]")
        });
    let order = on_order(order)?;
    Ok(Json(number_order_document(&order, state.service.now())))
}

/// `GET numberOrders/{id}`.
pub async fn get(
    State(state): State<ApiState>,
    Project(account): Project,
    Path((_, id)): Path<(String, String)>,
) -> SinchResult<Json<Value>> {
    let order = on_order(
        state
            .service
            .number_order(Principal::Account(account), order_id(&id)?)
            .await,
    )?;
    Ok(Json(number_order_document(&order, state.service.now())))
}

/// `GET numberOrders/{id}/registration`.
pub async fn get_registration(
    State(state): State<ApiState>,
    Project(account): Project,
    Path((_, id)): Path<(String, String)>,
) -> SinchResult<Json<Value>> {
    let order = on_order(
        state
            .service
            .number_order(Principal::Account(account), order_id(&id)?)
            .await,
    )?;
    Ok(Json(registration_document(&order)))
}

/// Sinch's registration values as one flat object of field values: `requestDetails` as it is,
/// or its (or the top-level) `data` — an object, or a list of objects and lists of objects as
/// in Sinch's own example — merged into one. A field given twice is refused.
fn flatten_details(
    value: &Value,
    field: &str,
    out: &mut Map<String, Value>,
    errors: &mut FieldErrors,
) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if out.insert(k.clone(), v.clone()).is_some() {
                    errors.push_as(
                        FieldErrorKind::Duplicate,
                        format!("{field}.{k}"),
                        "is given more than once",
                    );
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                flatten_details(item, field, out, errors);
            }
        }
        _ => errors.push(
            field,
            "must be an object of field values (or a list of such objects)",
        ),
    }
}

fn registration_details(body: &Value) -> Result<(Value, &'static str), Error> {
    let mut obj = JsonObject::new(body, "")?;
    let (raw, field) = match (obj.field("requestDetails"), obj.field("data")) {
        (Field::Present(Value::Object(map)), _) if map.len() == 1 && map.contains_key("data") => (
            map.get("data").cloned().unwrap_or(Value::Null),
            "requestDetails",
        ),
        (Field::Present(v), _) => (v.clone(), "requestDetails"),
        (_, Field::Present(v)) => (v.clone(), "data"),
        _ => {
            obj.errors.push_as(
                FieldErrorKind::Required,
                "requestDetails",
                "is required: an object of the field values the requirements list",
            );
            (Value::Null, "requestDetails")
        }
    };
    obj.finish()?;
    let mut flat = Map::new();
    let mut errors = FieldErrors::new();
    flatten_details(&raw, field, &mut flat, &mut errors);
    errors.into_result()?;
    Ok((Value::Object(flat), field))
}

/// `PUT numberOrders/{id}/registration` `{requestDetails: {...}}` (or `{data: ...}`).
pub async fn update_registration(
    State(state): State<ApiState>,
    Project(account): Project,
    Path((_, id)): Path<(String, String)>,
    Body(body): Body,
) -> SinchResult<Json<Value>> {
    let id = order_id(&id)?;
    let (details, field) = registration_details(&body)?;
    let order = on_order(
        state
            .service
            .update_number_order_registration(account, id, &details, field)
            .await,
    )?;
    Ok(Json(registration_document(&order)))
}

/// `POST numberOrders/{id}/attachments/{attachmentId}`: multipart with part `file` and optional
/// `documentType`. A document over the requirement's size answers 413 `CONTENT_TOO_LARGE`, as
/// Sinch does; every other check is the core's.
pub async fn upload(
    State(state): State<ApiState>,
    Project(account): Project,
    Path((_, id, attachment)): Path<(String, String, String)>,
    multipart: Result<Multipart, MultipartRejection>,
) -> SinchResult<Json<Value>> {
    let id = order_id(&id)?;
    let attachment_id = on_order(
        Uuid::parse_str(attachment.trim())
            .map_err(|_| Error::not_found(Resource::Attachment, &attachment)),
    )?;
    let mut multipart = multipart.map_err(|e| {
        Error::invalid(
            "body",
            format!("must be multipart/form-data with a file part: {e}"),
        )
    })?;
    let attachment_name = attachment_id.to_string();
    let bad = |e: axum::extract::multipart::MultipartError| {
        // Over the server's request limit: Sinch's 413 too, whatever the requirement allows.
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            return SinchError::too_large(
                attachment_name.clone(),
                format!("The request is larger than this server accepts: {e}"),
            );
        }
        SinchError::from(Error::invalid(
            "body",
            format!("is not readable multipart/form-data: {e}"),
        ))
    };
    let mut file: Option<(String, String, Vec<u8>)> = None;
    let mut document_type = None;
    while let Some(part) = multipart.next_field().await.map_err(bad)? {
        match part.name() {
            Some("file") => {
                let name = part.file_name().unwrap_or("attachment").to_string();
                let mime = part
                    .content_type()
                    .unwrap_or("application/octet-stream")
                    .to_string();
                let bytes = part.bytes().await.map_err(bad)?;
                file = Some((name, mime, bytes.to_vec()));
            }
            Some("documentType") => document_type = Some(part.text().await.map_err(bad)?),
            // Form uploads often carry extra parts; they are not Sinch's and are ignored.
            _ => {}
        }
    }
    let Some((file_name, mime_type, content)) = file else {
        return Err(Error::invalid_as(
            FieldErrorKind::Required,
            "file",
            "is required: a multipart part named file",
        )
        .into());
    };
    let order = on_order(
        state
            .service
            .number_order(Principal::Account(account), id)
            .await,
    )?;
    if let Some(required) = order.requirements.attachment(attachment_id)
        && content.len() as u64 > required.max_size_bytes
    {
        return Err(SinchError::too_large(
            attachment_id.to_string(),
            format!(
                "The document is {} bytes; '{}' accepts at most {} bytes",
                content.len(),
                required.title,
                required.max_size_bytes
            ),
        ));
    }
    let order = on_order(
        state
            .service
            .upload_number_order_attachment(
                account,
                id,
                attachment_id,
                Upload {
                    file_name,
                    mime_type,
                    document_type,
                    content,
                },
            )
            .await,
    )?;
    Ok(Json(registration_document(&order)))
}

/// `POST numberOrders/{id}/submit` → IN_REVIEW.
pub async fn submit(
    State(state): State<ApiState>,
    Project(account): Project,
    Path((_, id)): Path<(String, String)>,
) -> SinchResult<Json<Value>> {
    let id = order_id(&id)?;
    let order = on_order(state.service.submit_number_order(account, id).await)?;
    Ok(Json(number_order_document(&order, state.service.now())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_shapes() {
        let flat = json!({"requestDetails": {"a": "1", "b": "2"}});
        assert_eq!(
            registration_details(&flat).unwrap(),
            (json!({"a": "1", "b": "2"}), "requestDetails")
        );
        let nested = json!({"requestDetails": {"data": [[{"a": "1"}], {"b": "2"}]}});
        assert_eq!(
            registration_details(&nested).unwrap().0,
            json!({"a": "1", "b": "2"})
        );
        let java = json!({"data": {"a": "1"}});
        assert_eq!(
            registration_details(&java).unwrap(),
            (json!({"a": "1"}), "data")
        );
        assert!(registration_details(&json!({"data": [{"a": "1"}, {"a": "2"}]})).is_err());
        assert!(registration_details(&json!({})).is_err());
        assert!(registration_details(&json!({"requestDetails": "x"})).is_err());
    }
}
