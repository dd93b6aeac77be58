//! `activeNumbers/{phoneNumber}/emergencyAddress` and its verbs, as Sinch's Node SDK calls them:
//! `GET …/emergencyAddress` (the `EmergencyAddress`), `POST …/emergencyAddress:provision` and
//! `…:validate` (body `EmergencyAddressRequest {displayName, address {streetNumber, streetInfo,
//! location?, city, state, postalCode, postalCodePlusFour?}}`; answers `EmergencyAddress` /
//! `ValidateAddressResponse`), `POST …/emergencyAddress:deprovision` (no body, `{}`). Every
//! rule is the core's (`Service::*_emergency_address`); this translates.

use axum::Json;
use axum::extract::{Path, State};
use numbers_core::emergency::{EmergencyAddress, RawEmergencyAddress};
use numbers_core::error::{Error, Resource};
use numbers_core::number::E164;
use numbers_core::service::AddressMatch;
use serde_json::{Map, Value, json};

use super::error::{OnResource, SinchResult};
use super::extract::{Body, Project};
use super::wire::{phone_number, split_verb};
use crate::ApiState;
use crate::wire::{Field, JsonObject};

/// Field names in Sinch's errors: the path's phone number, the display name, the address parts.
const FIELDS: (&str, &str, &str) = ("phoneNumber", "displayName", "address.");

/// The `{phoneNumber}` segment and the verb of the `emergencyAddress[:verb]` segment; any other
/// sub-resource is an unknown route.
fn target(number: &str, sub: &str) -> SinchResult<(E164, Option<String>)> {
    let (name, verb) = split_verb(sub);
    if name != "emergencyAddress" {
        return Err(Error::not_found(Resource::Route, sub).into());
    }
    Ok((
        phone_number(number, "phoneNumber")?,
        verb.map(str::to_string),
    ))
}

/// Sinch's `EmergencyAddress`: the address parts, unset ones omitted.
fn render(a: &EmergencyAddress) -> Value {
    let mut out = Map::new();
    let mut put = |k: &str, v: Option<&String>| {
        if let Some(v) = v {
            out.insert(k.to_string(), Value::String(v.clone()));
        }
    };
    put("streetNumber", Some(&a.street_number));
    put("streetInfo", Some(&a.street_info));
    put("location", a.location.as_ref());
    put("city", Some(&a.city));
    put("state", Some(&a.state));
    put("postalCode", Some(&a.postal_code));
    put("postalCodePlusFour", a.postal_code_plus_four.as_ref());
    Value::Object(out)
}

/// `EmergencyAddressRequest` read into the core's raw parts; shape errors (not an object, a
/// part that is no string) are reported here, everything else by the core's parse.
fn request(body: &Value) -> SinchResult<RawEmergencyAddress> {
    let mut obj = JsonObject::new(body, "")?;
    let display_name = obj.opt_str("displayName").map(str::to_string);
    let mut raw = RawEmergencyAddress {
        display_name,
        ..Default::default()
    };
    match obj.field("address") {
        Field::Absent | Field::Null => obj.errors.push_required("address"),
        Field::Present(value) => match JsonObject::new(value, "address") {
            Err(e) => {
                obj.errors.take::<()>(Err(e));
            }
            Ok(mut a) => {
                let mut part = |name: &str| a.opt_str(name).map(str::to_string);
                raw.street_number = part("streetNumber");
                raw.street_info = part("streetInfo");
                raw.location = part("location");
                raw.city = part("city");
                raw.state = part("state");
                raw.postal_code = part("postalCode");
                raw.postal_code_plus_four = part("postalCodePlusFour");
                let errors = a.errors;
                obj.errors.take::<()>(errors.into_result());
            }
        },
    }
    obj.finish()?;
    Ok(raw)
}

/// `GET activeNumbers/{phoneNumber}/emergencyAddress`.
pub async fn get(
    State(state): State<ApiState>,
    Project(account): Project,
    Path((_, number, sub)): Path<(String, String, String)>,
) -> SinchResult<Json<Value>> {
    let (e164, verb) = target(&number, &sub)?;
    if let Some(verb) = verb {
        return Err(Error::not_found(Resource::Method, format!("GET :{verb}")).into());
    }
    state
        .service
        .owned_number(account, &e164)
        .await
        .on("ActiveNumber")?;
    let address = state
        .service
        .emergency_address(account, &e164)
        .await
        .on("EmergencyAddress")?;
    Ok(Json(render(&address)))
}

/// `POST activeNumbers/{phoneNumber}/emergencyAddress:provision|:validate|:deprovision`.
pub async fn post(
    State(state): State<ApiState>,
    Project(account): Project,
    Path((_, number, sub)): Path<(String, String, String)>,
    Body(body): Body,
) -> SinchResult<Json<Value>> {
    let (e164, verb) = target(&number, &sub)?;
    // The number first: an unknown number is a 404 whatever the body holds.
    state
        .service
        .owned_number(account, &e164)
        .await
        .on("ActiveNumber")?;
    match verb.as_deref() {
        Some("provision") => {
            let raw = request(&body)?;
            let address = state
                .service
                .provision_emergency_address(account, &e164, &raw, FIELDS)
                .await
                .on("ActiveNumber")?;
            Ok(Json(render(&address)))
        }
        Some("validate") => {
            let raw = request(&body)?;
            let found = state
                .service
                .validate_emergency_address(account, &e164, &raw, FIELDS)
                .await
                .on("ActiveNumber")?;
            let (result, message, address, corrected) = match &found {
                AddressMatch::Exact(a) => {
                    ("EXACT_MATCH", "The address is valid as given.", a, None)
                }
                AddressMatch::Near(a) => (
                    "NEAR_MATCH",
                    "The address is valid once normalised; see correctedAddress.",
                    a,
                    Some(render(a)),
                ),
            };
            let mut out = json!({
                "phoneNumber": e164.as_str(),
                "displayName": address.display_name,
                "validatedAddress": render(address),
                "validationResult": result,
                "validationMessage": message,
                "candidateAddresses": [],
            });
            if let Some(corrected) = corrected {
                out["correctedAddress"] = corrected;
            }
            Ok(Json(out))
        }
        Some("deprovision") => {
            state
                .service
                .deprovision_emergency_address(account, &e164)
                .await
                .on("ActiveNumber")?;
            Ok(Json(json!({})))
        }
        other => {
            Err(Error::not_found(Resource::Method, format!("POST :{}", other.unwrap_or(""))).into())
        }
    }
}
