//! The native API's requests as wire types: each JSON body and each query string is one
//! `#[derive(Deserialize, ToSchema)]` (or `IntoParams`) struct, and both the server's list of
//! known names and the OpenAPI document come from it, so the two cannot disagree. The fields
//! hold what the client sent, leniently — a [`Field`] keeps a wrong-typed value instead of
//! failing, [`Values`] keeps every value of a parameter — because serde stops at the first
//! problem while a client must learn about every invalid field in one 400. Each type's `parse`
//! (next to its handler) then feeds the domain parsers (`E164`, `Label`, `Metadata`,
//! `SearchQuery`, …) and returns the domain command or every field error at once.

use numbers_core::error::{Error, FieldErrors, Result};
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde::{Deserialize, forward_to_deserialize_any};
use serde_json::{Map, Value};

use crate::wire::QueryPairs;

/// The field names of a request type, in declaration order and as serde names them: the one
/// list of what the server accepts (unknown names are refused with it, and the drift test
/// compares it with the document).
pub fn field_names<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut names: &'static [&'static str] = &[];
    // The probe answers every call with an error; only the field list it was shown matters.
    let _ = T::deserialize(FieldProbe(&mut names));
    names
}

/// A deserializer that records the field list a derived struct hands to `deserialize_struct`.
struct FieldProbe<'a>(&'a mut &'static [&'static str]);

impl<'de> Deserializer<'de> for FieldProbe<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> std::result::Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> std::result::Result<V::Value, Self::Error> {
        *self.0 = fields;
        Err(de::Error::custom("probed"))
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// A JSON body read as `T`: a body that is not an object is refused; every key `T` does not
/// name is recorded (all of them, before the caller records its field errors).
pub fn body<T: DeserializeOwned>(value: &Value) -> Result<(T, FieldErrors)> {
    let Some(map) = value.as_object() else {
        return Err(Error::invalid("body", "must be a JSON object"));
    };
    let mut errors = FieldErrors::new();
    let known = field_names::<T>();
    for key in map.keys() {
        if !known.contains(&key.as_str()) {
            errors.push(
                key.as_str(),
                format!("is not a known field; known: {}", known.join(", ")),
            );
        }
    }
    let parsed = read::<T>(value)?;
    Ok((parsed, errors))
}

/// A query string read as `T`, unknown parameters refused (each named, with the known list).
pub fn query<T: DeserializeOwned>(q: &QueryPairs) -> Result<T> {
    q.reject_unknown(field_names::<T>())?;
    from_pairs(q)
}

/// The names of two request types, in order.
pub fn known2<A: DeserializeOwned, B: DeserializeOwned>() -> Vec<&'static str> {
    let mut names = field_names::<A>().to_vec();
    names.extend_from_slice(field_names::<B>());
    names
}

/// The parameters as a JSON object of value lists (`a=1&a=2` → `{"a": ["1", "2"]}`), the shape
/// [`Values`] fields read.
pub fn pairs_object(q: &QueryPairs) -> Value {
    let mut map = Map::new();
    for (name, value) in &q.0 {
        if let Value::Array(values) = map
            .entry(name.clone())
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            values.push(Value::String(value.clone()));
        }
    }
    Value::Object(map)
}

/// The parameters read as `T`.
pub fn from_pairs<T: DeserializeOwned>(q: &QueryPairs) -> Result<T> {
    read(&pairs_object(q))
}

/// A JSON object read as a request type. The request types accept any object, so this fails
/// only if one of them is not lenient.
pub fn read<T: DeserializeOwned>(value: &Value) -> Result<T> {
    T::deserialize(value)
        .map_err(|e| Error::internal(format!("request type refused an object: {e}")))
}

/// One body field as the client sent it: absent, `null`, a value of the expected type, or a
/// value of another type (kept, so parsing can name the field rather than fail the body).
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Field<T> {
    #[default]
    Absent,
    Null,
    Given(T),
    Wrong(Value),
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::Null => Field::Null,
            value => match T::deserialize(&value) {
                Ok(v) => Field::Given(v),
                Err(_) => Field::Wrong(value),
            },
        })
    }
}

/// What a wrong-typed value of each field type is told.
pub trait Expected {
    const REASON: &'static str;
}

impl Expected for String {
    const REASON: &'static str = "must be a string";
}

impl Expected for bool {
    const REASON: &'static str = "must be true or false";
}

impl Expected for u64 {
    const REASON: &'static str = "must be a non-negative integer";
}

impl Expected for StringList {
    const REASON: &'static str = "must be a list of strings";
}

impl<T> Field<T> {
    /// Sent at all (`null` counts: it says something, if only something wrong).
    pub fn is_sent(&self) -> bool {
        !matches!(self, Field::Absent)
    }

    /// Absent or `null`.
    pub fn is_missing(&self) -> bool {
        matches!(self, Field::Absent | Field::Null)
    }

    /// The value; a wrong-typed one is recorded as an error under `name` with `reason`.
    pub fn value_or(&self, errors: &mut FieldErrors, name: &str, reason: &str) -> Option<&T> {
        match self {
            Field::Absent | Field::Null => None,
            Field::Given(v) => Some(v),
            Field::Wrong(_) => {
                errors.push(name, reason);
                None
            }
        }
    }
}

impl<T: Expected> Field<T> {
    /// The value; a wrong-typed one is recorded under `name` with the type's reason.
    pub fn value(&self, errors: &mut FieldErrors, name: &str) -> Option<&T> {
        self.value_or(errors, name, T::REASON)
    }
}

impl<T: Expected> Field<T> {
    /// A value the request must carry: absent or `null` is recorded as "is required".
    pub fn required(&self, errors: &mut FieldErrors, name: &str) -> Option<&T> {
        if self.is_missing() {
            errors.push_required(name);
            return None;
        }
        self.value(errors, name)
    }
}

impl Field<Value> {
    /// A JSON value of any type, when neither absent nor `null`.
    pub fn json(&self) -> Option<&Value> {
        match self {
            Field::Given(v) => Some(v),
            Field::Absent | Field::Null | Field::Wrong(_) => None,
        }
    }
}

/// A list of strings, a single string taken as a list of one.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StringList(pub Vec<String>);

impl<'de> Deserialize<'de> for StringList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) => Ok(StringList(vec![s])),
            Value::Array(items) => items
                .into_iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s),
                    _ => Err(de::Error::custom("not a string")),
                })
                .collect::<std::result::Result<_, _>>()
                .map(StringList),
            _ => Err(de::Error::custom("not a list of strings")),
        }
    }
}

/// Every value of a parameter: all occurrences in a query string; in a JSON object an array's
/// items or a single scalar (numbers and booleans as their JSON text, so `{"npa": 206}` reads
/// like `npa=206`); `null` or absent is none.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Values(pub Vec<String>);

impl Values {
    pub fn first(&self) -> Option<&str> {
        self.0.first().map(String::as_str)
    }

    pub fn all(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// Every item, given repeated and/or comma-separated, trimmed, blanks dropped.
    pub fn list(&self) -> Vec<&str> {
        self.all()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect()
    }
}

impl<'de> Deserialize<'de> for Values {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Ok(Values(match Value::deserialize(d)? {
            Value::Null => vec![],
            Value::Array(items) => items.iter().map(scalar).collect(),
            v => vec![scalar(&v)],
        }))
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    struct Probe {
        name: Field<String>,
        #[serde(rename = "type")]
        kind: Field<u64>,
        list: Field<StringList>,
        any: Field<Value>,
    }

    #[test]
    fn field_names_are_serde_names_in_order() {
        assert_eq!(field_names::<Probe>(), &["name", "type", "list", "any"]);
    }

    #[test]
    fn fields_keep_wrong_types_and_null() {
        let (p, errors) = body::<Probe>(&json!({"name": 5, "type": null, "list": "a", "x": 1}))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.name, Field::Wrong(json!(5)));
        assert_eq!(p.kind, Field::Null);
        assert_eq!(p.list, Field::Given(StringList(vec!["a".into()])));
        assert_eq!(p.any, Field::Absent);
        let err = errors.into_result().err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("invalid request: x: is not a known field; known: name, type, list, any")
        );
        let (p, _) =
            body::<Probe>(&json!({"type": -1, "list": ["a", 1]})).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.kind, Field::Wrong(json!(-1)));
        assert_eq!(p.list, Field::Wrong(json!(["a", 1])));
        assert!(body::<Probe>(&json!([1])).is_err());
    }
}
