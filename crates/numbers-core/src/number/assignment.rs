//! What an owner sets on its number: label and metadata (MessageMedia), display name, SMS and
//! voice configuration and callback URL (Sinch), site and SIP peer (Bandwidth). One place holds
//! them all; each dialect shows its subset, and an update through one dialect never erases the
//! fields of another (a patch only touches what it names).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, FieldErrors};

pub const LABEL_MAX_CHARS: usize = 100;
pub const METADATA_MAX_PAIRS: usize = 11;
pub const METADATA_KEY_MAX_CHARS: usize = 100;
pub const METADATA_VALUE_MAX_CHARS: usize = 256;
pub const DISPLAY_NAME_MAX_CHARS: usize = 100;
pub const CALLBACK_URL_MAX_CHARS: usize = crate::webhook::URL_MAX_CHARS;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Label(String);

impl Label {
    pub fn parse(s: &str, field: &str) -> Result<Self, Error> {
        if s.chars().count() > LABEL_MAX_CHARS {
            return Err(Error::invalid(
                field,
                format!("must be at most {LABEL_MAX_CHARS} characters"),
            ));
        }
        Ok(Label(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// At most 11 string pairs; keys ≤ 100 characters, values ≤ 256 (MessageMedia's limits).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Metadata(BTreeMap<String, String>);

impl Metadata {
    pub fn parse(pairs: BTreeMap<String, String>, field: &str) -> Result<Self, Error> {
        let mut errors = FieldErrors::new();
        if pairs.len() > METADATA_MAX_PAIRS {
            errors.push(
                field,
                format!(
                    "must have at most {METADATA_MAX_PAIRS} pairs, got {}",
                    pairs.len()
                ),
            );
        }
        for (key, value) in &pairs {
            if key.is_empty() {
                errors.push(field, "keys must not be empty");
            }
            if key.chars().count() > METADATA_KEY_MAX_CHARS {
                errors.push(
                    format!("{field}.{key}"),
                    format!("key must be at most {METADATA_KEY_MAX_CHARS} characters"),
                );
            }
            if value.chars().count() > METADATA_VALUE_MAX_CHARS {
                errors.push(
                    format!("{field}.{key}"),
                    format!("value must be at most {METADATA_VALUE_MAX_CHARS} characters"),
                );
            }
        }
        errors.into_result()?;
        Ok(Metadata(pairs))
    }

    /// From a JSON value that must be an object of strings.
    pub fn from_json(value: &serde_json::Value, field: &str) -> Result<Self, Error> {
        let object = value
            .as_object()
            .ok_or_else(|| Error::invalid(field, "must be an object of string values"))?;
        let mut pairs = BTreeMap::new();
        for (k, v) in object {
            let s = v
                .as_str()
                .ok_or_else(|| Error::invalid(format!("{field}.{k}"), "must be a string"))?;
            pairs.insert(k.clone(), s.to_string());
        }
        Self::parse(pairs, field)
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn pairs(&self) -> &BTreeMap<String, String> {
        &self.0
    }
}

pub fn parse_display_name(s: &str, field: &str) -> Result<String, Error> {
    if s.chars().count() > DISPLAY_NAME_MAX_CHARS {
        return Err(Error::invalid(
            field,
            format!("must be at most {DISPLAY_NAME_MAX_CHARS} characters"),
        ));
    }
    Ok(s.to_string())
}

/// An absolute http(s) URL the server may call (`WebhookUrl::parse`: WHATWG rules, no
/// credentials), as written. Where it may point is the service's outbound-URL policy.
pub fn parse_callback_url(s: &str, field: &str) -> Result<String, Error> {
    crate::webhook::WebhookUrl::parse(s, field).map(|url| url.as_str().to_string())
}

/// Everything an owner may set on a number. Configuration objects are kept as JSON documents
/// owned by the dialect that defines them (Sinch's smsConfiguration, voiceConfiguration).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<Label>,
    #[serde(default, skip_serializing_if = "Metadata::is_empty")]
    pub metadata: Metadata,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms_configuration: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice_configuration: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_id: Option<String>,
    /// Bandwidth's TnAttributes (e.g. `Protected`) set by the order that assigned the number.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tn_attributes: Vec<String>,
}

/// A partial update: `None` leaves a field alone, `Some(None)` clears it, `Some(Some(v))` sets it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentPatch {
    pub label: Option<Option<Label>>,
    pub metadata: Option<Metadata>,
    pub display_name: Option<Option<String>>,
    pub callback_url: Option<Option<String>>,
    pub sms_configuration: Option<Option<serde_json::Value>>,
    pub voice_configuration: Option<Option<serde_json::Value>>,
    pub site_id: Option<Option<String>>,
    pub peer_id: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tn_attributes: Option<Vec<String>>,
}

impl AssignmentPatch {
    pub fn is_empty(&self) -> bool {
        *self == AssignmentPatch::default()
    }

    pub fn apply(&self, data: &mut AssignmentData) {
        fn set<T: Clone>(slot: &mut Option<T>, patch: &Option<Option<T>>) {
            if let Some(value) = patch {
                *slot = value.clone();
            }
        }
        set(&mut data.label, &self.label);
        if let Some(metadata) = &self.metadata {
            data.metadata = metadata.clone();
        }
        set(&mut data.display_name, &self.display_name);
        set(&mut data.callback_url, &self.callback_url);
        set(&mut data.sms_configuration, &self.sms_configuration);
        set(&mut data.voice_configuration, &self.voice_configuration);
        set(&mut data.site_id, &self.site_id);
        set(&mut data.peer_id, &self.peer_id);
        if let Some(attributes) = &self.tn_attributes {
            data.tn_attributes = attributes.clone();
        }
    }

    /// The template an order applies to every number it wins.
    pub fn from_data(data: &AssignmentData) -> Self {
        fn opt<T: Clone>(v: &Option<T>) -> Option<Option<T>> {
            v.clone().map(Some)
        }
        AssignmentPatch {
            label: opt(&data.label),
            metadata: (!data.metadata.is_empty()).then(|| data.metadata.clone()),
            display_name: opt(&data.display_name),
            callback_url: opt(&data.callback_url),
            sms_configuration: opt(&data.sms_configuration),
            voice_configuration: opt(&data.voice_configuration),
            site_id: opt(&data.site_id),
            peer_id: opt(&data.peer_id),
            tn_attributes: (!data.tn_attributes.is_empty()).then(|| data.tn_attributes.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_and_metadata_limits() {
        assert!(Label::parse(&"x".repeat(100), "label").is_ok());
        assert!(Label::parse(&"x".repeat(101), "label").is_err());
        let eleven: BTreeMap<_, _> = (0..11)
            .map(|i| (format!("k{i}"), "v".to_string()))
            .collect();
        assert!(Metadata::parse(eleven.clone(), "metadata").is_ok());
        let mut twelve = eleven;
        twelve.insert("k11".into(), "v".into());
        assert!(Metadata::parse(twelve, "metadata").is_err());
        let long_value = BTreeMap::from([("k".to_string(), "v".repeat(257))]);
        match Metadata::parse(long_value, "metadata") {
            Err(Error::Validation(errs)) => assert_eq!(errs[0].field, "metadata.k"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn patch_touches_only_what_it_names() {
        let mut data = AssignmentData {
            display_name: Some("A".into()),
            site_id: Some("9".into()),
            ..Default::default()
        };
        AssignmentPatch {
            display_name: Some(None),
            label: Some(Some(Label::parse("L", "l").unwrap())),
            ..Default::default()
        }
        .apply(&mut data);
        assert_eq!(data.display_name, None);
        assert_eq!(data.site_id.as_deref(), Some("9"));
        assert_eq!(data.label.unwrap().as_str(), "L");
    }
}

#[cfg(test)]
mod properties {
    //! Labels, metadata and display names are free text from clients: each is accepted exactly
    //! when it is within MessageMedia's / Sinch's limits (counted in characters, not bytes), kept
    //! as given, and otherwise refused naming the client's field; never a panic.
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    fn fields(e: &Error) -> Vec<String> {
        match e {
            Error::Validation(errors) => errors.iter().map(|e| e.field.clone()).collect(),
            other => panic!("not a field error: {other:?}"),
        }
    }

    fn pairs() -> impl Strategy<Value = BTreeMap<String, String>> {
        proptest::collection::btree_map("\\PC{0,110}", "\\PC{0,270}", 0..14)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn labels_within_the_limit_are_kept_as_given(s in "\\PC{0,120}") {
            match Label::parse(&s, "label") {
                Ok(label) => {
                    prop_assert!(s.chars().count() <= LABEL_MAX_CHARS);
                    prop_assert_eq!(label.as_str(), s.as_str());
                }
                Err(e) => {
                    prop_assert!(s.chars().count() > LABEL_MAX_CHARS);
                    prop_assert_eq!(fields(&e), vec!["label".to_string()]);
                }
            }
            match parse_display_name(&s, "displayName") {
                Ok(name) => prop_assert_eq!(name, s),
                Err(e) => {
                    prop_assert!(s.chars().count() > DISPLAY_NAME_MAX_CHARS);
                    prop_assert_eq!(fields(&e), vec!["displayName".to_string()]);
                }
            }
        }

        #[test]
        fn metadata_is_accepted_exactly_within_the_limits(pairs in pairs()) {
            let within = pairs.len() <= METADATA_MAX_PAIRS
                && pairs.iter().all(|(k, v)| {
                    !k.is_empty()
                        && k.chars().count() <= METADATA_KEY_MAX_CHARS
                        && v.chars().count() <= METADATA_VALUE_MAX_CHARS
                });
            match Metadata::parse(pairs.clone(), "metadata") {
                Ok(metadata) => {
                    prop_assert!(within);
                    prop_assert_eq!(metadata.pairs(), &pairs);
                }
                Err(e) => {
                    prop_assert!(!within);
                    for field in fields(&e) {
                        prop_assert!(field.starts_with("metadata"), "{field}");
                    }
                }
            }
        }

        #[test]
        fn metadata_round_trips_through_json(pairs in pairs()) {
            if let Ok(metadata) = Metadata::parse(pairs, "metadata") {
                let json = serde_json::to_value(&metadata).unwrap();
                prop_assert_eq!(Metadata::from_json(&json, "metadata").unwrap(), metadata.clone());
                let text = serde_json::to_string(&metadata).unwrap();
                prop_assert_eq!(serde_json::from_str::<Metadata>(&text).unwrap(), metadata);
            }
        }

        #[test]
        fn any_json_is_metadata_or_a_field_error(json in any_json()) {
            if let Err(e) = Metadata::from_json(&json, "metadata") {
                for field in fields(&e) {
                    prop_assert!(field.starts_with("metadata"), "{field}");
                }
            }
        }
    }

    fn any_json() -> impl Strategy<Value = serde_json::Value> {
        use serde_json::Value;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            "\\PC{0,20}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::btree_map("\\PC{0,12}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }
}
