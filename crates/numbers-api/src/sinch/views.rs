//! Sinch's JSON documents rendered from domain values: ActiveNumber (with the SMS and voice
//! configuration as applied, and `scheduledProvisioning` / `scheduledVoiceProvisioning` while a
//! change is waiting, in progress or failed), AvailableNumber, Money (amount as a string,
//! `currencyCode` always present) and AvailableRegion. camelCase; null fields are omitted.

use chrono::{Months, SecondsFormat};
use numbers_core::clock::Timestamp;
use numbers_core::ids::AccountId;
use numbers_core::number::{Capability, Number, Price, micros_to_decimal};
use numbers_core::provisioning::{
    Channel, ProvisioningStatus, ProvisioningTask, effective_configuration, latest_per_channel,
};
use serde_json::{Map, Value, json};

use super::wire::{type_name, voice_id_field};

/// Sinch bills monthly.
const PAYMENT_INTERVAL_MONTHS: u32 = 1;
/// Numbers imported without a price still get a Money object (Sinch's Python SDK requires
/// `currencyCode`); zero in US dollars.
const DEFAULT_CURRENCY: &str = "USD";

pub fn time(t: Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn money(price: Option<&Price>, monthly: bool) -> Value {
    match price {
        Some(p) => json!({
            "currencyCode": p.currency,
            "amount": micros_to_decimal(if monthly { p.monthly_micros } else { p.setup_micros }),
        }),
        None => json!({"currencyCode": DEFAULT_CURRENCY, "amount": "0.00"}),
    }
}

/// Sinch knows SMS and VOICE; MMS, FAX and TTS are not shown in its vocabulary.
fn capabilities(n: &Number) -> Vec<&'static str> {
    n.capabilities
        .iter()
        .filter_map(|c| match c {
            Capability::Sms => Some("SMS"),
            Capability::Voice => Some("VOICE"),
            _ => None,
        })
        .collect()
}

/// `documents` is whether the KYC requirements of the number's (region, type) ask for
/// supporting documents.
pub fn available_number(n: &Number, documents: bool) -> Value {
    json!({
        "phoneNumber": n.e164.as_str(),
        "regionCode": n.country,
        "type": type_name(n.number_type),
        "capability": capabilities(n),
        "setupPrice": money(n.price.as_ref(), false),
        "monthlyPrice": money(n.price.as_ref(), true),
        "paymentIntervalMonths": PAYMENT_INTERVAL_MONTHS,
        "supportingDocumentationRequired": documents,
    })
}

/// The first monthly anniversary of the assignment after `now`.
fn next_charge(assigned_at: Timestamp, now: Timestamp) -> Option<Timestamp> {
    (1..=1200u32)
        .map(|m| assigned_at.checked_add_months(Months::new(m)))
        .find(|t| t.is_none_or(|t| t > now))
        .flatten()
}

fn str_of<'a>(doc: Option<&'a Value>, key: &str) -> &'a str {
    doc.and_then(|d| d.get(key))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// What a task shows while it is not done: WAITING, IN_PROGRESS or FAILED.
fn pending_status(task: &ProvisioningTask) -> Option<&'static str> {
    match task.status {
        ProvisioningStatus::Waiting => Some("WAITING"),
        ProvisioningStatus::InProgress => Some("IN_PROGRESS"),
        ProvisioningStatus::Failed => Some("FAILED"),
        ProvisioningStatus::Succeeded | ProvisioningStatus::Cancelled => None,
    }
}

fn sms_configuration(n: &Number, latest: Option<&ProvisioningTask>) -> Value {
    let applied = effective_configuration(n, latest, Channel::Sms);
    let mut out = Map::new();
    out.insert(
        "servicePlanId".into(),
        json!(str_of(applied, "servicePlanId")),
    );
    out.insert("campaignId".into(), json!(str_of(applied, "campaignId")));
    if let Some(task) = latest
        && let Some(status) = pending_status(task)
    {
        let target = task.target.as_ref();
        out.insert(
            "scheduledProvisioning".into(),
            json!({
                "servicePlanId": str_of(target, "servicePlanId"),
                "campaignId": str_of(target, "campaignId"),
                "status": status,
                "lastUpdatedTime": time(task.updated_at),
                "errorCodes": task.error_codes,
            }),
        );
    }
    Value::Object(out)
}

fn voice_fields(doc: Option<&Value>, out: &mut Map<String, Value>) {
    let kind = doc
        .and_then(|d| d.get("type"))
        .and_then(Value::as_str)
        .unwrap_or("RTC");
    out.insert("type".into(), json!(kind));
    let id_field = voice_id_field(kind).unwrap_or("appId");
    out.insert(id_field.into(), json!(str_of(doc, id_field)));
}

fn voice_configuration(
    n: &Number,
    latest: Option<&ProvisioningTask>,
    last_applied: Option<Timestamp>,
) -> Value {
    let mut out = Map::new();
    voice_fields(effective_configuration(n, latest, Channel::Voice), &mut out);
    if let Some(at) = last_applied {
        out.insert("lastUpdatedTime".into(), json!(time(at)));
    }
    if let Some(task) = latest
        && let Some(status) = pending_status(task)
    {
        let mut scheduled = Map::new();
        voice_fields(task.target.as_ref(), &mut scheduled);
        scheduled.insert("status".into(), json!(status));
        scheduled.insert("lastUpdatedTime".into(), json!(time(task.updated_at)));
        out.insert(
            "scheduledVoiceProvisioning".into(),
            Value::Object(scheduled),
        );
    }
    Value::Object(out)
}

/// An ActiveNumber. `tasks` may hold the tasks of many numbers; only this holding's count.
pub fn active_number(
    n: &Number,
    project: AccountId,
    tasks: &[ProvisioningTask],
    now: Timestamp,
) -> Value {
    let own: Vec<ProvisioningTask> = tasks
        .iter()
        .filter(|t| Some(t.assignment_id) == n.assignment_id)
        .cloned()
        .collect();
    let latest = latest_per_channel(&own);
    let of = |c: Channel| latest.iter().copied().find(|t| t.channel == c);
    let voice_applied_at = own
        .iter()
        .filter(|t| t.channel == Channel::Voice && t.status == ProvisioningStatus::Succeeded)
        .map(|t| t.updated_at)
        .max();
    let mut out = json!({
        "phoneNumber": n.e164.as_str(),
        "projectId": project.to_string(),
        "displayName": n.assignment.display_name.as_deref().unwrap_or(""),
        "regionCode": n.country,
        "type": type_name(n.number_type),
        "capability": capabilities(n),
        "money": money(n.price.as_ref(), true),
        "paymentIntervalMonths": PAYMENT_INTERVAL_MONTHS,
        "smsConfiguration": sms_configuration(n, of(Channel::Sms)),
        "voiceConfiguration": voice_configuration(n, of(Channel::Voice), voice_applied_at),
        "callbackUrl": n.assignment.callback_url.as_deref().unwrap_or(""),
    });
    if let (Some(assigned), Some(map)) = (n.assigned_at, out.as_object_mut())
        && let Some(next) = next_charge(assigned, now)
    {
        map.insert("nextChargeDate".into(), json!(time(next)));
    }
    out
}

/// English names of the regions numbersd's generator and typical imports carry; others show
/// their code.
pub fn region_name(code: &str) -> &str {
    match code {
        "US" => "United States",
        "CA" => "Canada",
        "GB" => "United Kingdom",
        "AU" => "Australia",
        "DE" => "Germany",
        "SE" => "Sweden",
        "FR" => "France",
        "NL" => "Netherlands",
        "IE" => "Ireland",
        "NZ" => "New Zealand",
        "ES" => "Spain",
        "IT" => "Italy",
        "BR" => "Brazil",
        "MX" => "Mexico",
        "PL" => "Poland",
        "NO" => "Norway",
        "DK" => "Denmark",
        "FI" => "Finland",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_charge_is_the_next_monthly_anniversary() {
        let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        let assigned = at("2024-01-31T10:00:00Z");
        assert_eq!(
            next_charge(assigned, at("2024-02-01T00:00:00Z")),
            Some(at("2024-02-29T10:00:00Z"))
        );
        assert_eq!(
            next_charge(assigned, at("2024-03-30T00:00:00Z")),
            Some(at("2024-03-31T10:00:00Z"))
        );
    }
}
