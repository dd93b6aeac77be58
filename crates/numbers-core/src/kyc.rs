//! Know-your-customer requirements: what a tenant must declare (registration fields) and upload
//! (attachments) before the operator activates numbers of a given (region, number type) — Sinch's
//! "number requirements". This module owns the parsed form of those requirements, the built-in
//! defaults a new database answers with, and the one place a registration is checked against
//! them (`Registration::parse`). Number orders (`number_order`) keep a snapshot of the
//! requirements they were created under, so an operator's later edit never invalidates an order
//! that is already under way.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Error, FieldErrorKind, FieldErrors};
use crate::number::{E164, NumberType};

pub const MAX_FIELDS: usize = 100;
pub const MAX_ATTACHMENTS: usize = 20;
pub const FIELD_NAME_MAX_CHARS: usize = 64;
pub const DESCRIPTION_MAX_CHARS: usize = 1000;
pub const FIELD_VALUE_MAX_CHARS: usize = 4096;
/// The largest attachment an operator may allow. The HTTP layer has its own body limit (4 MiB by
/// default), which uploads through the API also have to fit in.
pub const ATTACHMENT_MAX_BYTES_LIMIT: u64 = 64 * 1024 * 1024;
/// What an attachment requirement allows when the operator does not say.
pub const DEFAULT_ATTACHMENT_MAX_BYTES: u64 = 3 * 1024 * 1024;

/// The kind of value a registration field takes; each checks its own syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    String,
    /// One of `allowed_values`.
    Enum,
    /// `YYYY-MM-DD`.
    Date,
    Email,
    /// An E.164 number.
    Phone,
    /// A JSON number (or a string holding a decimal number).
    Number,
    Boolean,
}

impl FieldType {
    pub const ALL: &'static [FieldType] = &[
        FieldType::String,
        FieldType::Enum,
        FieldType::Date,
        FieldType::Email,
        FieldType::Phone,
        FieldType::Number,
        FieldType::Boolean,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::String => "string",
            FieldType::Enum => "enum",
            FieldType::Date => "date",
            FieldType::Email => "email",
            FieldType::Phone => "phone",
            FieldType::Number => "number",
            FieldType::Boolean => "boolean",
        }
    }

    fn parse(s: &str, field: &str) -> Result<Self, Error> {
        Self::ALL
            .iter()
            .copied()
            .find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                let all: Vec<&str> = Self::ALL.iter().map(|t| t.as_str()).collect();
                Error::invalid(
                    field,
                    format!("unknown type '{s}'; expected one of {}", all.join(", ")),
                )
            })
    }
}

/// A regular expression a field value must match entirely; compiled once, on entry.
#[derive(Debug, Clone)]
pub struct FieldPattern {
    source: String,
    regex: regex::Regex,
}

impl FieldPattern {
    pub fn parse(source: &str, field: &str) -> Result<Self, Error> {
        // Anchored, so "[0-9]{9}" means "exactly nine digits", as a form designer means it.
        let regex = regex::Regex::new(&format!("^(?:{source})$")).map_err(|e| {
            Error::invalid(field, format!("is not a valid regular expression: {e}"))
        })?;
        Ok(FieldPattern {
            source: source.to_string(),
            regex,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    pub fn is_match(&self, value: &str) -> bool {
        self.regex.is_match(value)
    }
}

impl PartialEq for FieldPattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for FieldPattern {}

impl Serialize for FieldPattern {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

impl<'de> Deserialize<'de> for FieldPattern {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let source = String::deserialize(d)?;
        FieldPattern::parse(&source, "pattern").map_err(serde::de::Error::custom)
    }
}

/// One registration field the tenant fills in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequirementField {
    pub name: String,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<FieldPattern>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_values: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// One document the tenant uploads. `id` is what the upload URL names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequiredAttachment {
    pub id: Uuid,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub mandatory: bool,
    /// Empty: any MIME type.
    #[serde(default)]
    pub allowed_mime_types: Vec<String>,
    /// Empty: any document type (or none).
    #[serde(default)]
    pub allowed_document_types: Vec<String>,
    pub max_size_bytes: u64,
}

impl RequiredAttachment {
    pub fn allows_mime_type(&self, mime: &str) -> bool {
        let essence = mime
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        self.allowed_mime_types.is_empty()
            || self.allowed_mime_types.iter().any(|m| {
                let m = m.to_ascii_lowercase();
                m == essence
                    || m.strip_suffix("/*")
                        .is_some_and(|top| essence.split('/').next() == Some(top))
            })
    }
}

/// The requirements of one (region, number type).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumberRequirements {
    pub region_code: String,
    pub number_type: NumberType,
    pub fields: Vec<RequirementField>,
    pub attachments: Vec<RequiredAttachment>,
}

/// The operator's document for `PUT …/number-requirements/{region}/{type}` and the CLI's
/// `--file`: everything but the key, which the path names.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequirementsInput {
    #[serde(default)]
    pub fields: Vec<FieldInput>,
    #[serde(default)]
    pub attachments: Vec<AttachmentInput>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldInput {
    pub name: String,
    #[serde(rename = "type", default)]
    pub field_type: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub min_length: Option<u32>,
    #[serde(default)]
    pub max_length: Option<u32>,
    #[serde(default)]
    pub pattern: Option<String>,
    #[serde(default)]
    pub allowed_values: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentInput {
    /// Kept when given (so upload URLs stay stable across edits); a new UUID otherwise.
    #[serde(default)]
    pub id: Option<String>,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub mandatory: bool,
    #[serde(default)]
    pub allowed_mime_types: Vec<String>,
    #[serde(default)]
    pub allowed_document_types: Vec<String>,
    #[serde(default)]
    pub max_size_bytes: Option<u64>,
}

/// ISO 3166-1 alpha-2, upper-cased.
pub fn parse_region_code(s: &str, field: &str) -> Result<String, Error> {
    let s = s.trim();
    if s.len() == 2 && s.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(s.to_ascii_uppercase())
    } else {
        Err(Error::invalid(
            field,
            "must be a two-letter ISO 3166 region code such as US or DE",
        ))
    }
}

fn is_field_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
        && s.chars().count() <= FIELD_NAME_MAX_CHARS
}

fn is_mime_type(s: &str) -> bool {
    let Some((top, sub)) = s.split_once('/') else {
        return false;
    };
    let token = |t: &str| {
        !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    token(top) && (sub == "*" || token(sub))
}

impl NumberRequirements {
    /// An empty set: nothing to declare, nothing to upload.
    pub fn none(region_code: String, number_type: NumberType) -> Self {
        NumberRequirements {
            region_code,
            number_type,
            fields: Vec::new(),
            attachments: Vec::new(),
        }
    }

    /// Parses the operator's document, reporting every problem under its JSON path.
    pub fn parse(
        region_code: &str,
        number_type: NumberType,
        input: RequirementsInput,
    ) -> Result<Self, Error> {
        let mut errors = FieldErrors::new();
        let region_code = errors.take(parse_region_code(region_code, "region_code"));
        if input.fields.len() > MAX_FIELDS {
            errors.push_as(
                FieldErrorKind::TooMany,
                "fields",
                format!("must list at most {MAX_FIELDS} fields"),
            );
        }
        if input.attachments.len() > MAX_ATTACHMENTS {
            errors.push_as(
                FieldErrorKind::TooMany,
                "attachments",
                format!("must list at most {MAX_ATTACHMENTS} attachments"),
            );
        }
        let mut fields: Vec<RequirementField> = Vec::with_capacity(input.fields.len());
        for (i, f) in input.fields.into_iter().enumerate() {
            let at = |name: &str| format!("fields[{i}].{name}");
            if !is_field_name(&f.name) {
                errors.push(
                    at("name"),
                    format!(
                        "must start with a letter and hold only letters, digits, '_', '.', '-' (at most {FIELD_NAME_MAX_CHARS})"
                    ),
                );
            } else if fields.iter().any(|g| g.name == f.name) {
                errors.push_as(
                    FieldErrorKind::Duplicate,
                    at("name"),
                    format!("'{}' is listed twice", f.name),
                );
            }
            let field_type = match f.field_type.as_deref() {
                None => Some(if f.allowed_values.is_empty() {
                    FieldType::String
                } else {
                    FieldType::Enum
                }),
                Some(t) => errors.take(FieldType::parse(t, &at("type"))),
            };
            if field_type == Some(FieldType::Enum) && f.allowed_values.is_empty() {
                errors.push(at("allowed_values"), "an enum field must list its values");
            }
            if let (Some(min), Some(max)) = (f.min_length, f.max_length)
                && min > max
            {
                errors.push(at("min_length"), "must not exceed max_length");
            }
            if f.max_length == Some(0) {
                errors.push(at("max_length"), "must be at least 1");
            }
            let pattern = f
                .pattern
                .as_deref()
                .and_then(|p| errors.take(FieldPattern::parse(p, &at("pattern"))));
            if f.description
                .as_ref()
                .is_some_and(|d| d.chars().count() > DESCRIPTION_MAX_CHARS)
            {
                errors.push(
                    at("description"),
                    format!("must be at most {DESCRIPTION_MAX_CHARS} characters"),
                );
            }
            if let Some(field_type) = field_type {
                fields.push(RequirementField {
                    name: f.name,
                    field_type,
                    required: f.required,
                    min_length: f.min_length,
                    max_length: f.max_length,
                    pattern,
                    allowed_values: f.allowed_values,
                    description: f.description,
                });
            }
        }
        let mut attachments: Vec<RequiredAttachment> = Vec::with_capacity(input.attachments.len());
        for (i, a) in input.attachments.into_iter().enumerate() {
            let at = |name: &str| format!("attachments[{i}].{name}");
            let id = match a.id.as_deref() {
                None => Some(Uuid::new_v4()),
                Some(raw) => match Uuid::parse_str(raw.trim()) {
                    Ok(id) => Some(id),
                    Err(_) => {
                        errors.push(at("id"), "must be a UUID");
                        None
                    }
                },
            };
            if let Some(id) = id
                && attachments.iter().any(|b| b.id == id)
            {
                errors.push_as(
                    FieldErrorKind::Duplicate,
                    at("id"),
                    format!("{id} is listed twice"),
                );
            }
            let title = a.title.trim().to_string();
            if title.is_empty() || title.chars().count() > 200 {
                errors.push(at("title"), "must be 1 to 200 characters");
            }
            for (j, m) in a.allowed_mime_types.iter().enumerate() {
                if !is_mime_type(m) {
                    errors.push(
                        format!("attachments[{i}].allowed_mime_types[{j}]"),
                        format!("'{m}' is not a MIME type such as application/pdf or image/*"),
                    );
                }
            }
            let max_size_bytes = a.max_size_bytes.unwrap_or(DEFAULT_ATTACHMENT_MAX_BYTES);
            if max_size_bytes == 0 || max_size_bytes > ATTACHMENT_MAX_BYTES_LIMIT {
                errors.push(
                    at("max_size_bytes"),
                    format!("must be from 1 to {ATTACHMENT_MAX_BYTES_LIMIT}"),
                );
            }
            if let Some(id) = id {
                attachments.push(RequiredAttachment {
                    id,
                    title,
                    description: a.description,
                    mandatory: a.mandatory,
                    allowed_mime_types: a
                        .allowed_mime_types
                        .iter()
                        .map(|m| m.to_ascii_lowercase())
                        .collect(),
                    allowed_document_types: a.allowed_document_types,
                    max_size_bytes,
                });
            }
        }
        errors.into_result()?;
        Ok(NumberRequirements {
            region_code: region_code.unwrap_or_default(),
            number_type,
            fields,
            attachments,
        })
    }

    /// Parses the operator's JSON document (`{"fields": [...], "attachments": [...]}`).
    pub fn from_json(
        region_code: &str,
        number_type: NumberType,
        document: &serde_json::Value,
    ) -> Result<Self, Error> {
        let input: RequirementsInput = serde_json::from_value(document.clone())
            .map_err(|e| Error::invalid("body", format!("is not a requirements document: {e}")))?;
        Self::parse(region_code, number_type, input)
    }

    pub fn attachment(&self, id: Uuid) -> Option<&RequiredAttachment> {
        self.attachments.iter().find(|a| a.id == id)
    }

    pub fn field(&self, name: &str) -> Option<&RequirementField> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Whether taking a number of this (region, type) needs supporting documents: some
    /// attachment is mandatory (Sinch's `supportingDocumentationRequired`). Registration fields
    /// alone (US LOCAL's business identity) are not documentation.
    pub fn needs_supporting_documents(&self) -> bool {
        self.attachments.iter().any(|a| a.mandatory)
    }
}

/// A registration that satisfied the requirements of its order when it was stored: field name →
/// value (strings, numbers or booleans as the field types say).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Registration(BTreeMap<String, serde_json::Value>);

impl Registration {
    /// Checks every field of `details` (a JSON object) against `requirements`: unknown fields,
    /// missing required ones, types, lengths, patterns and allowed values — all reported at once,
    /// each under `prefix` + the field's name.
    pub fn parse(
        requirements: &NumberRequirements,
        details: &serde_json::Value,
        prefix: &str,
    ) -> Result<Self, Error> {
        let name = |f: &str| {
            if prefix.is_empty() {
                f.to_string()
            } else {
                format!("{prefix}.{f}")
            }
        };
        let object = details.as_object().ok_or_else(|| {
            Error::invalid(
                if prefix.is_empty() { "body" } else { prefix },
                "must be a JSON object of field values",
            )
        })?;
        let mut errors = FieldErrors::new();
        for key in object.keys() {
            if requirements.field(key).is_none() {
                let known: Vec<&str> = requirements
                    .fields
                    .iter()
                    .map(|f| f.name.as_str())
                    .collect();
                errors.push(
                    name(key),
                    format!(
                        "is not a field of the {} {} requirements; fields: {}",
                        requirements.region_code,
                        requirements.number_type,
                        if known.is_empty() {
                            "(none)".to_string()
                        } else {
                            known.join(", ")
                        }
                    ),
                );
            }
        }
        let mut values = BTreeMap::new();
        for field in &requirements.fields {
            let value = object.get(&field.name).filter(|v| match v {
                serde_json::Value::Null => false,
                serde_json::Value::String(s) => !s.trim().is_empty(),
                _ => true,
            });
            match value {
                None if field.required => errors.push_required(name(&field.name)),
                None => {}
                Some(v) => match check_value(field, v) {
                    Ok(v) => {
                        values.insert(field.name.clone(), v);
                    }
                    Err(reason) => errors.push(name(&field.name), reason),
                },
            }
        }
        errors.into_result()?;
        Ok(Registration(values))
    }

    pub fn values(&self) -> &BTreeMap<String, serde_json::Value> {
        &self.0
    }

    pub fn get(&self, field: &str) -> Option<&serde_json::Value> {
        self.0.get(field)
    }

    /// The required fields of `requirements` this registration lacks (empty when complete).
    pub fn missing(&self, requirements: &NumberRequirements) -> Vec<String> {
        requirements
            .fields
            .iter()
            .filter(|f| f.required && !self.0.contains_key(&f.name))
            .map(|f| f.name.clone())
            .collect()
    }
}

fn check_value(
    field: &RequirementField,
    v: &serde_json::Value,
) -> Result<serde_json::Value, String> {
    use serde_json::Value;
    let text = match (field.field_type, v) {
        (FieldType::Boolean, Value::Bool(_)) => return Ok(v.clone()),
        (FieldType::Boolean, _) => return Err("must be true or false".into()),
        (FieldType::Number, Value::Number(n)) => n.to_string(),
        (FieldType::Number, Value::String(s)) if s.trim().parse::<f64>().is_ok() => {
            s.trim().to_string()
        }
        (FieldType::Number, _) => return Err("must be a number".into()),
        (_, Value::String(s)) => s.trim().to_string(),
        (_, _) => return Err("must be a string".into()),
    };
    let chars = text.chars().count() as u64;
    if chars > FIELD_VALUE_MAX_CHARS as u64 {
        return Err(format!(
            "must be at most {FIELD_VALUE_MAX_CHARS} characters"
        ));
    }
    if let Some(min) = field.min_length
        && chars < u64::from(min)
    {
        return Err(format!("must be at least {min} characters (got {chars})"));
    }
    if let Some(max) = field.max_length
        && chars > u64::from(max)
    {
        return Err(format!("must be at most {max} characters (got {chars})"));
    }
    match field.field_type {
        FieldType::Date => {
            if chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d").is_err() {
                return Err("must be a date written YYYY-MM-DD".into());
            }
        }
        FieldType::Email => {
            let ok = text.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !text.contains(char::is_whitespace)
                    && !domain.contains('@')
            });
            if !ok {
                return Err("must be an e-mail address such as name@example.com".into());
            }
        }
        FieldType::Phone => {
            if E164::parse(&text).is_err() {
                return Err("must be an E.164 phone number such as +61491570156".into());
            }
        }
        FieldType::String | FieldType::Enum | FieldType::Number | FieldType::Boolean => {}
    }
    if !field.allowed_values.is_empty() && !field.allowed_values.contains(&text) {
        return Err(format!(
            "must be one of {}",
            field.allowed_values.join(", ")
        ));
    }
    if let Some(pattern) = &field.pattern
        && !pattern.is_match(&text)
    {
        return Err(format!("must match the pattern {}", pattern.as_str()));
    }
    Ok(match field.field_type {
        FieldType::Number => v.clone(),
        _ => Value::String(text),
    })
}

/// What a new database answers before the operator configures anything: requirements modelled on
/// what regulators ask for (ACMA's identity checks for Australian mobiles, the Bundesnetzagentur's
/// local-presence rule for German geographic numbers, the FCC/STIR-era business identity for US
/// locals, Ofcom-style identity for UK mobiles). The attachment ids are fixed so upload URLs are
/// stable across installations.
pub fn default_requirements() -> Vec<NumberRequirements> {
    let doc = serde_json::json!([
        {
            "region": "AU", "type": "MOBILE",
            "fields": [
                {"name": "businessName", "type": "string", "required": true, "min_length": 2, "max_length": 200, "description": "Registered business name, or the full name of an individual"},
                {"name": "abn", "type": "string", "required": false, "pattern": "[0-9]{11}", "description": "Australian Business Number (11 digits), for businesses"},
                {"name": "contactFirstName", "type": "string", "required": true, "min_length": 1, "max_length": 100},
                {"name": "contactLastName", "type": "string", "required": true, "min_length": 1, "max_length": 100},
                {"name": "contactEmail", "type": "email", "required": true, "max_length": 254},
                {"name": "contactPhone", "type": "phone", "required": false},
                {"name": "streetAddress", "type": "string", "required": true, "min_length": 3, "max_length": 200},
                {"name": "city", "type": "string", "required": true, "min_length": 1, "max_length": 100},
                {"name": "state", "type": "enum", "required": true, "allowed_values": ["ACT", "NSW", "NT", "QLD", "SA", "TAS", "VIC", "WA"]},
                {"name": "postalCode", "type": "string", "required": true, "pattern": "[0-9]{4}"},
                {"name": "useCase", "type": "enum", "required": true, "allowed_values": ["TWO_WAY_SMS", "NOTIFICATIONS", "MARKETING", "VOICE"], "description": "What the number will be used for"}
            ],
            "attachments": [
                {"id": "9a3c6f0e-2b1d-4c5e-8f70-1a2b3c4d5e01", "title": "Proof of identity", "description": "Passport, driver licence, or ASIC company extract", "mandatory": true, "allowed_mime_types": ["application/pdf", "image/jpeg", "image/png"], "allowed_document_types": ["PASSPORT", "DRIVER_LICENCE", "COMPANY_EXTRACT"], "max_size_bytes": DEFAULT_ATTACHMENT_MAX_BYTES}
            ]
        },
        {
            "region": "DE", "type": "LOCAL",
            "fields": [
                {"name": "companyName", "type": "string", "required": true, "min_length": 2, "max_length": 200, "description": "Company or full personal name of the subscriber"},
                {"name": "contactEmail", "type": "email", "required": true, "max_length": 254},
                {"name": "street", "type": "string", "required": true, "min_length": 2, "max_length": 200},
                {"name": "houseNumber", "type": "string", "required": true, "max_length": 10},
                {"name": "postalCode", "type": "string", "required": true, "pattern": "[0-9]{5}", "description": "Must lie in the area code's local area (Bundesnetzagentur rule)"},
                {"name": "city", "type": "string", "required": true, "min_length": 1, "max_length": 100},
                {"name": "vatId", "type": "string", "required": false, "pattern": "DE[0-9]{9}"},
                {"name": "birthDate", "type": "date", "required": false, "description": "For individuals"}
            ],
            "attachments": [
                {"id": "4f1e2d3c-5b6a-4978-8e7f-0a1b2c3d4e02", "title": "Proof of address", "description": "Utility bill, rental contract or trade register extract showing an address in the local area", "mandatory": true, "allowed_mime_types": ["application/pdf", "image/jpeg", "image/png"], "allowed_document_types": ["UTILITY_BILL", "RENTAL_CONTRACT", "TRADE_REGISTER_EXTRACT"], "max_size_bytes": DEFAULT_ATTACHMENT_MAX_BYTES},
                {"id": "4f1e2d3c-5b6a-4978-8e7f-0a1b2c3d4e03", "title": "Identity document", "description": "Identity card or passport of the subscriber or managing director", "mandatory": false, "allowed_mime_types": ["application/pdf", "image/jpeg", "image/png"], "allowed_document_types": ["ID_CARD", "PASSPORT"], "max_size_bytes": DEFAULT_ATTACHMENT_MAX_BYTES}
            ]
        },
        {
            "region": "US", "type": "LOCAL",
            "fields": [
                {"name": "businessName", "type": "string", "required": true, "min_length": 2, "max_length": 200},
                {"name": "ein", "type": "string", "required": false, "pattern": "[0-9]{2}-?[0-9]{7}", "description": "Employer Identification Number"},
                {"name": "contactEmail", "type": "email", "required": true, "max_length": 254},
                {"name": "streetAddress", "type": "string", "required": true, "min_length": 3, "max_length": 200},
                {"name": "city", "type": "string", "required": true, "max_length": 100},
                {"name": "state", "type": "string", "required": true, "pattern": "[A-Z]{2}"},
                {"name": "zip", "type": "string", "required": true, "pattern": "[0-9]{5}(-[0-9]{4})?"}
            ],
            "attachments": []
        },
        {
            "region": "GB", "type": "MOBILE",
            "fields": [
                {"name": "businessName", "type": "string", "required": true, "min_length": 2, "max_length": 200},
                {"name": "companyNumber", "type": "string", "required": false, "pattern": "[A-Z0-9]{8}", "description": "Companies House number"},
                {"name": "contactEmail", "type": "email", "required": true, "max_length": 254},
                {"name": "addressLine1", "type": "string", "required": true, "min_length": 2, "max_length": 200},
                {"name": "city", "type": "string", "required": true, "max_length": 100},
                {"name": "postcode", "type": "string", "required": true, "pattern": "[A-Za-z]{1,2}[0-9][A-Za-z0-9]? ?[0-9][A-Za-z]{2}"}
            ],
            "attachments": [
                {"id": "7c2b1a09-8d7e-4f6a-9b5c-3d2e1f0a9b04", "title": "Proof of identity", "mandatory": false, "allowed_mime_types": ["application/pdf", "image/jpeg", "image/png"], "max_size_bytes": DEFAULT_ATTACHMENT_MAX_BYTES}
            ]
        }
    ]);
    let mut out = Vec::new();
    for entry in doc.as_array().into_iter().flatten() {
        let region = entry["region"].as_str().unwrap_or_default();
        let Ok(number_type) = entry["type"]
            .as_str()
            .unwrap_or_default()
            .parse::<NumberType>()
        else {
            continue;
        };
        let body =
            serde_json::json!({"fields": entry["fields"], "attachments": entry["attachments"]});
        // The table above is covered by a unit test; an entry that stopped parsing would fail it.
        if let Ok(r) = NumberRequirements::from_json(region, number_type, &body) {
            out.push(r);
        }
    }
    out
}

/// The built-in requirements of one (region, type), if any.
pub fn default_requirements_for(
    region: &str,
    number_type: NumberType,
) -> Option<NumberRequirements> {
    default_requirements()
        .into_iter()
        .find(|r| r.region_code == region && r.number_type == number_type)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_all_parse() {
        let defaults = default_requirements();
        assert_eq!(defaults.len(), 4);
        let au = default_requirements_for("AU", NumberType::Mobile).unwrap();
        assert!(au.attachments[0].mandatory);
        assert!(default_requirements_for("DE", NumberType::Local).is_some());
    }

    #[test]
    fn requirements_parse_names_each_problem() {
        let doc = json!({"fields": [
            {"name": "1bad", "type": "string"},
            {"name": "kind", "type": "enum"},
            {"name": "code", "pattern": "[0-9"},
            {"name": "x", "min_length": 5, "max_length": 2}
        ], "attachments": [{"title": "", "allowed_mime_types": ["pdf"], "max_size_bytes": 0}]});
        let Err(Error::Validation(errors)) =
            NumberRequirements::from_json("XX", NumberType::Local, &doc)
        else {
            panic!("expected validation errors");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        for f in [
            "fields[0].name",
            "fields[1].allowed_values",
            "fields[2].pattern",
            "fields[3].min_length",
            "attachments[0].title",
            "attachments[0].allowed_mime_types[0]",
            "attachments[0].max_size_bytes",
        ] {
            assert!(fields.contains(&f), "{f} missing from {fields:?}");
        }
        assert!(NumberRequirements::from_json("X1", NumberType::Local, &json!({})).is_err());
        assert!(
            NumberRequirements::from_json("AU", NumberType::Local, &json!({"bogus": 1})).is_err()
        );
    }

    #[test]
    fn registration_checks_every_rule() {
        let req = default_requirements_for("AU", NumberType::Mobile).unwrap();
        let bad = json!({
            "businessName": "A",
            "abn": "123",
            "contactEmail": "nope",
            "state": "XYZ",
            "postalCode": "20000",
            "useCase": "TWO_WAY_SMS",
            "favouriteColour": "blue"
        });
        let Err(Error::Validation(errors)) = Registration::parse(&req, &bad, "registration") else {
            panic!("expected validation errors");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        for f in [
            "registration.businessName",
            "registration.abn",
            "registration.contactEmail",
            "registration.state",
            "registration.postalCode",
            "registration.favouriteColour",
            "registration.contactFirstName",
            "registration.streetAddress",
        ] {
            assert!(fields.contains(&f), "{f} missing from {fields:?}");
        }
        let good = json!({
            "businessName": "Acme Pty Ltd",
            "abn": "51824753556",
            "contactFirstName": "Jo",
            "contactLastName": "Citizen",
            "contactEmail": "jo@acme.com.au",
            "streetAddress": "1 George St",
            "city": "Sydney",
            "state": "NSW",
            "postalCode": "2000",
            "useCase": "TWO_WAY_SMS"
        });
        let reg = Registration::parse(&req, &good, "").unwrap();
        assert!(reg.missing(&req).is_empty());
        assert_eq!(reg.get("state"), Some(&json!("NSW")));
    }

    #[test]
    fn mime_types_match_by_essence_and_wildcard() {
        let a = RequiredAttachment {
            id: Uuid::new_v4(),
            title: "t".into(),
            description: None,
            mandatory: true,
            allowed_mime_types: vec!["application/pdf".into(), "image/*".into()],
            allowed_document_types: vec![],
            max_size_bytes: 10,
        };
        assert!(a.allows_mime_type("application/pdf; charset=binary"));
        assert!(a.allows_mime_type("image/png"));
        assert!(!a.allows_mime_type("text/plain"));
    }
}
