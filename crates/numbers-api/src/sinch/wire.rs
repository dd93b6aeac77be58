//! Sinch's request vocabulary parsed into domain values: path phone numbers (strict E.164, `+`
//! raw or `%2B`, `{phoneNumber}:verb` split on the last colon), number types, search patterns,
//! and the `smsConfiguration` / `voiceConfiguration` objects of rent and update, which become
//! provisioning requests (the configuration documents are stored as Sinch wrote them).

use numbers_core::error::{Error, FieldErrorKind, FieldErrors, Result};
use numbers_core::number::{E164, NumberType};
use numbers_core::provisioning::{Channel, ProvisioningRequest};
use numbers_core::search::PatternPosition;
use serde_json::{Map, Value, json};

use crate::wire::{Field, JsonObject};

/// `+12025550134` (after percent-decoding): `+`, then 2 to 15 digits, the first not 0, and a
/// valid number for its country. Separators are not accepted: Sinch takes E.164 only.
pub fn phone_number(raw: &str, field: &str) -> Result<E164> {
    let digits = raw.strip_prefix('+').unwrap_or("");
    let shaped = (2..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    if !shaped {
        return Err(Error::invalid(
            field,
            format!(
                "'{raw}' is not an E.164 phone number (a '+' then 2 to 15 digits, e.g. +12025550134)"
            ),
        ));
    }
    E164::parse(raw).map_err(|e| match e {
        Error::Validation(mut errors) => {
            for f in &mut errors {
                f.field = field.to_string();
                f.reason = format!("'{raw}' {}", f.reason);
            }
            Error::Validation(errors)
        }
        other => other,
    })
}

/// `+12025550134:rent` → (`+12025550134`, Some("rent")); the LAST colon splits, so the number
/// part never has to be free of colons for the split to be right.
pub fn split_verb(segment: &str) -> (&str, Option<&str>) {
    match segment.rsplit_once(':') {
        Some((resource, verb)) => (resource, Some(verb)),
        None => (segment, None),
    }
}

pub fn number_type(raw: &str, field: &str) -> Result<NumberType> {
    match raw {
        "MOBILE" => Ok(NumberType::Mobile),
        "LOCAL" => Ok(NumberType::Local),
        "TOLL_FREE" => Ok(NumberType::TollFree),
        other => Err(Error::invalid(
            field,
            format!("unknown number type '{other}'; expected MOBILE, LOCAL or TOLL_FREE"),
        )),
    }
}

pub fn type_name(t: NumberType) -> &'static str {
    match t {
        NumberType::Mobile => "MOBILE",
        NumberType::Local => "LOCAL",
        NumberType::TollFree => "TOLL_FREE",
        // Not a Sinch type; never offered through this dialect (searches name a Sinch type).
        NumberType::ShortCode => "NUMBER_TYPE_UNSPECIFIED",
    }
}

pub fn search_pattern(raw: Option<&str>, field: &str) -> Result<PatternPosition> {
    match raw.map(str::trim) {
        None | Some("") | Some("START") => Ok(PatternPosition::StartsWith),
        Some("CONTAINS") => Ok(PatternPosition::Contains),
        Some("END") => Ok(PatternPosition::EndsWith),
        Some(other) => Err(Error::invalid(
            field,
            format!("unknown search pattern '{other}'; expected START, CONTAINS or END"),
        )),
    }
}

/// Every value of a list parameter, repeated (`a=X&a=Y`), comma-joined (`a=X,Y`) or both, under
/// any of the given names (`capability` and `capabilities` are both in use).
pub fn list_values<'a>(q: &'a crate::wire::QueryPairs, names: &[&str]) -> Vec<&'a str> {
    names
        .iter()
        .flat_map(|n| q.all(n))
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect()
}

/// Only Sinch's two capabilities are accepted in a filter.
pub fn sinch_capabilities(values: &[&str], field: &str) -> Result<Vec<String>> {
    let mut errors = FieldErrors::new();
    let mut out = Vec::new();
    for v in values {
        match *v {
            "SMS" | "VOICE" => out.push(v.to_string()),
            other => errors.push(
                field,
                format!("unknown capability '{other}'; expected SMS or VOICE"),
            ),
        }
    }
    errors.into_result()?;
    Ok(out)
}

fn text_field<'a>(obj: &mut JsonObject<'a>, field: &str) -> Option<Option<&'a str>> {
    match obj.field(field) {
        Field::Absent => None,
        Field::Null => Some(None),
        Field::Present(Value::String(s)) => Some(Some(s.as_str())),
        Field::Present(_) => {
            let name = obj.name(field);
            obj.errors.push(name, "must be a string");
            None
        }
    }
}

/// `smsConfiguration`: absent → nothing; `null` or `servicePlanId: ""` → unlink (deprovision);
/// otherwise `{servicePlanId, campaignId?}` to provision. An empty object is refused, as Sinch
/// refuses it.
pub fn sms_request(obj: &mut JsonObject<'_>, field: &str) -> Option<ProvisioningRequest> {
    let deprovision = Some(ProvisioningRequest {
        channel: Channel::Sms,
        target: None,
    });
    let value = match obj.field(field) {
        Field::Absent => return None,
        Field::Null => return deprovision,
        Field::Present(v) => v,
    };
    let name = obj.name(field);
    let mut inner = match JsonObject::new(value, &name) {
        Ok(inner) => inner,
        Err(e) => {
            obj.errors.take::<()>(Err(e));
            return None;
        }
    };
    let plan = text_field(&mut inner, "servicePlanId").flatten();
    let campaign = text_field(&mut inner, "campaignId").flatten();
    let result = match plan {
        None => {
            let n = inner.name("servicePlanId");
            inner.errors.push_as(
                FieldErrorKind::Required,
                n,
                "is required (an empty string unlinks)",
            );
            None
        }
        Some("") => deprovision,
        Some(plan) => {
            let mut target = Map::new();
            target.insert("servicePlanId".into(), json!(plan));
            if let Some(c) = campaign.filter(|c| !c.is_empty()) {
                target.insert("campaignId".into(), json!(c));
            }
            Some(ProvisioningRequest {
                channel: Channel::Sms,
                target: Some(Value::Object(target)),
            })
        }
    };
    let errors = inner.errors;
    obj.errors.take::<()>(errors.into_result());
    result
}

/// The id field each voice application type carries.
pub fn voice_id_field(kind: &str) -> Option<&'static str> {
    match kind {
        "RTC" => Some("appId"),
        "EST" => Some("trunkId"),
        "FAX" => Some("serviceId"),
        _ => None,
    }
}

/// `voiceConfiguration`: absent → nothing; `null` or an empty id → unlink; otherwise
/// `{type: RTC|EST|FAX (default RTC), appId|trunkId|serviceId}` to provision.
pub fn voice_request(obj: &mut JsonObject<'_>, field: &str) -> Option<ProvisioningRequest> {
    let deprovision = Some(ProvisioningRequest {
        channel: Channel::Voice,
        target: None,
    });
    let value = match obj.field(field) {
        Field::Absent => return None,
        Field::Null => return deprovision,
        Field::Present(v) => v,
    };
    let name = obj.name(field);
    let mut inner = match JsonObject::new(value, &name) {
        Ok(inner) => inner,
        Err(e) => {
            obj.errors.take::<()>(Err(e));
            return None;
        }
    };
    let kind = text_field(&mut inner, "type").flatten().unwrap_or("RTC");
    let result = match voice_id_field(kind) {
        None => {
            let n = inner.name("type");
            inner.errors.push(
                n,
                format!("unknown voice application type '{kind}'; expected RTC, EST or FAX"),
            );
            None
        }
        Some(id_field) => match text_field(&mut inner, id_field).flatten() {
            None => {
                let n = inner.name(id_field);
                inner.errors.push_as(
                    FieldErrorKind::Required,
                    n,
                    format!("is required for type {kind} (an empty string unlinks)"),
                );
                None
            }
            Some("") => deprovision,
            Some(id) => Some(ProvisioningRequest {
                channel: Channel::Voice,
                target: Some(json!({ "type": kind, id_field: id })),
            }),
        },
    };
    let errors = inner.errors;
    obj.errors.take::<()>(errors.into_result());
    result
}

/// The digits of a Sinch number pattern (`+1206`, `206`, with `%2B` already decoded); what the
/// core's pattern builder takes.
pub fn pattern_text(raw: Option<&str>) -> Option<&str> {
    raw.map(str::trim).filter(|p| !p.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbs_split_on_the_last_colon() {
        assert_eq!(
            split_verb("+12025550134:rent"),
            ("+12025550134", Some("rent"))
        );
        assert_eq!(split_verb("+12025550134"), ("+12025550134", None));
        assert_eq!(split_verb("a:b:release"), ("a:b", Some("release")));
    }

    #[test]
    fn only_strict_e164_numbers() {
        assert!(phone_number("+12065550100", "phoneNumber").is_ok());
        for bad in [
            "12065550100",
            "+1 206 555 0100",
            "+0123",
            "+1206555010a",
            "",
        ] {
            assert!(phone_number(bad, "phoneNumber").is_err(), "{bad}");
        }
    }

    #[test]
    fn configurations_become_requests() {
        let body = json!({
            "smsConfiguration": {"servicePlanId": "SP", "campaignId": "", "scheduledProvisioning": {}},
            "voiceConfiguration": {"type": "EST", "trunkId": "T"},
        });
        let mut obj = JsonObject::new(&body, "").unwrap();
        let sms = sms_request(&mut obj, "smsConfiguration").unwrap();
        assert_eq!(sms.target, Some(json!({"servicePlanId": "SP"})));
        let voice = voice_request(&mut obj, "voiceConfiguration").unwrap();
        assert_eq!(voice.target, Some(json!({"type": "EST", "trunkId": "T"})));
        assert!(obj.finish().is_ok());

        let body = json!({"smsConfiguration": {}, "voiceConfiguration": {"type": "X"}});
        let mut obj = JsonObject::new(&body, "").unwrap();
        assert!(sms_request(&mut obj, "smsConfiguration").is_none());
        assert!(voice_request(&mut obj, "voiceConfiguration").is_none());
        match obj.finish() {
            Err(Error::Validation(errors)) => {
                let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
                assert_eq!(
                    fields,
                    ["smsConfiguration.servicePlanId", "voiceConfiguration.type"]
                );
            }
            other => panic!("{other:?}"),
        }

        let body = json!({"smsConfiguration": null, "voiceConfiguration": {"appId": ""}});
        let mut obj = JsonObject::new(&body, "").unwrap();
        assert_eq!(
            sms_request(&mut obj, "smsConfiguration").unwrap().target,
            None
        );
        assert_eq!(
            voice_request(&mut obj, "voiceConfiguration")
                .unwrap()
                .target,
            None
        );
    }
}
