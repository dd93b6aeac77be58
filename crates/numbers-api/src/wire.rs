//! Wire helpers every dialect needs: raw query pairs with repeated keys, HTTP Basic credentials,
//! and JSON objects read field by field so each error names the client's field.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use numbers_core::error::{Error, FieldErrors};
use serde_json::{Map, Value};

/// Query parameters in order, repeated keys kept (`a=1&a=2` and `a=1,2` are both lists).
#[derive(Debug, Clone, Default)]
pub struct QueryPairs(pub Vec<(String, String)>);

impl QueryPairs {
    /// Percent-decodes names and values. A literal `+` stays a `+` (SDKs send E.164 numbers and
    /// patterns un-encoded), unlike form decoding where it would become a space.
    pub fn parse(raw: Option<&str>) -> Self {
        let raw = raw.unwrap_or("");
        let pairs = raw
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                (percent_decode(k), percent_decode(v))
            })
            .collect();
        QueryPairs(pairs)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a (possibly repeated) parameter.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Every item of a list parameter given repeated and/or comma-separated, trimmed, blanks
    /// dropped (`status=A,B&status=C` → A, B, C).
    pub fn list(&self, name: &str) -> Vec<&str> {
        self.all(name)
            .into_iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    /// Unknown parameters are an error, so a typo never silently widens a search.
    pub fn reject_unknown(&self, known: &[&str]) -> Result<(), Error> {
        let mut errors = FieldErrors::new();
        for name in self.names() {
            if !known.contains(&name) {
                errors.push(
                    name,
                    format!("is not a known parameter; known: {}", known.join(", ")),
                );
            }
        }
        errors.into_result()
    }
}

pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(b) = hex {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `Authorization: Basic base64(key_id:secret)`.
pub fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

/// Three states of a JSON field, which PATCH semantics need.
#[derive(Debug, Clone, PartialEq)]
pub enum Field<'a> {
    Absent,
    Null,
    Present(&'a Value),
}

/// A JSON object read field by field, recording every problem under the client's field name.
pub struct JsonObject<'a> {
    map: &'a Map<String, Value>,
    prefix: String,
    pub errors: FieldErrors,
}

impl<'a> JsonObject<'a> {
    pub fn new(value: &'a Value, prefix: &str) -> Result<Self, Error> {
        match value.as_object() {
            Some(map) => Ok(JsonObject {
                map,
                prefix: prefix.to_string(),
                errors: FieldErrors::new(),
            }),
            None => Err(Error::invalid(
                if prefix.is_empty() { "body" } else { prefix },
                "must be a JSON object",
            )),
        }
    }

    pub fn name(&self, field: &str) -> String {
        if self.prefix.is_empty() {
            field.to_string()
        } else {
            format!("{}.{field}", self.prefix)
        }
    }

    pub fn field(&self, field: &str) -> Field<'a> {
        match self.map.get(field) {
            None => Field::Absent,
            Some(Value::Null) => Field::Null,
            Some(v) => Field::Present(v),
        }
    }

    pub fn opt_str(&mut self, field: &str) -> Option<&'a str> {
        match self.field(field) {
            Field::Absent | Field::Null => None,
            Field::Present(Value::String(s)) => Some(s.as_str()),
            Field::Present(_) => {
                let name = self.name(field);
                self.errors.push(name, "must be a string");
                None
            }
        }
    }

    /// A string the request must carry: absent or null records "is required".
    pub fn required_str(&mut self, field: &str) -> Option<&'a str> {
        if matches!(self.field(field), Field::Absent | Field::Null) {
            let name = self.name(field);
            self.errors.push_required(name);
            return None;
        }
        self.opt_str(field)
    }

    pub fn opt_u64(&mut self, field: &str) -> Option<u64> {
        match self.field(field) {
            Field::Absent | Field::Null => None,
            Field::Present(v) => match v.as_u64() {
                Some(n) => Some(n),
                None => {
                    let name = self.name(field);
                    self.errors.push(name, "must be a non-negative integer");
                    None
                }
            },
        }
    }

    /// A list of strings; a single string is accepted as a one-element list.
    pub fn opt_str_list(&mut self, field: &str) -> Option<Vec<&'a str>> {
        match self.field(field) {
            Field::Absent | Field::Null => None,
            Field::Present(Value::String(s)) => Some(vec![s.as_str()]),
            Field::Present(Value::Array(items)) => {
                let strings: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
                if strings.is_none() {
                    let name = self.name(field);
                    self.errors.push(name, "must be a list of strings");
                }
                strings
            }
            Field::Present(_) => {
                let name = self.name(field);
                self.errors.push(name, "must be a list of strings");
                None
            }
        }
    }

    pub fn finish(self) -> Result<(), Error> {
        self.errors.into_result()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_pairs_keep_plus_and_repeats() {
        let q = QueryPairs::parse(Some("e=+12065550100&c=SMS&c=VOICE&p=%2B1206&x=a%20b"));
        assert_eq!(q.get("e"), Some("+12065550100"));
        assert_eq!(q.all("c"), vec!["SMS", "VOICE"]);
        assert_eq!(q.get("p"), Some("+1206"));
        assert_eq!(q.get("x"), Some("a b"));
        assert_eq!(percent_decode("%2"), "%2");
    }
}
