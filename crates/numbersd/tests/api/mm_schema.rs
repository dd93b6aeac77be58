//! Every MessageMedia answer the suite receives, checked against MessageMedia's own published
//! schema fragments (`messagemedia_schema/*.yaml`, copied unchanged from the vendor's spec):
//! types, required fields, enums, formats `uuid`, `date-time` and `int32`, and no property the
//! schema does not declare. Typed clients generated from that spec parse exactly this, so a
//! drift here is a client that breaks (issue 14: base64 page tokens, null `available_after`).
//!
//! `SendChecked::send_checked` replaces `RequestBuilder::send` in the MessageMedia tests: it
//! sends, picks the schema the vendor's spec gives the operation and status, panics naming every
//! violation, and hands the test an identical response. Error bodies have no fragment (the
//! spec's `403response.yaml` / `404response.yaml` are not published); they are held to the
//! spec's examples: an object with a string `message`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::Value;

const BASE: &str = "/v1/messaging/numbers/dedicated";

/// How many MessageMedia answers were checked, so a test can prove the wrapper ran.
pub static CHECKED: AtomicUsize = AtomicUsize::new(0);

fn schema_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/api/messagemedia_schema")
}

/// A fragment by file name, parsed once.
fn fragment(name: &str) -> Value {
    static CACHE: OnceLock<Mutex<HashMap<String, Value>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let mut cache = cache.lock().unwrap();
    cache
        .entry(name.to_string())
        .or_insert_with(|| {
            let path = schema_dir().join(name);
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        })
        .clone()
}

/// The violations of `value` against the fragment `file`, each with its JSON path.
pub fn violations(file: &str, value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    check(&fragment(file), value, "$", &mut out);
    out
}

fn check(schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        // Fragments refer to each other as `./Name.yaml`; all of them sit in one folder.
        let name = reference.rsplit('/').next().unwrap_or(reference);
        return check(&fragment(name), value, at, out);
    }
    if value.is_null() {
        if schema.get("nullable") != Some(&Value::Bool(true)) {
            out.push(format!("{at}: null where the schema allows none"));
        }
        return;
    }
    if let Some(kind) = schema.get("type").and_then(Value::as_str) {
        let ok = match kind {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            other => {
                out.push(format!("{at}: the checker does not know type {other}"));
                true
            }
        };
        if !ok {
            out.push(format!("{at}: {value} is not of type {kind}"));
            return;
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        out.push(format!("{at}: {value} is not one of {allowed:?}"));
    }
    if let Some(format) = schema.get("format").and_then(Value::as_str) {
        check_format(format, value, at, out);
    }
    if let Some(required) = schema.get("required").and_then(Value::as_array) {
        for name in required.iter().filter_map(Value::as_str) {
            if value.get(name).is_none() {
                out.push(format!("{at}: required property {name} is missing"));
            }
        }
    }
    if let Some(object) = value.as_object() {
        let declared = schema.get("properties").and_then(Value::as_object);
        let extra = schema.get("additionalProperties");
        for (name, item) in object {
            let path = format!("{at}.{name}");
            match (declared.and_then(|d| d.get(name)), extra) {
                (Some(sub), _) => check(sub, item, &path, out),
                (None, Some(sub)) if sub.is_object() => check(sub, item, &path, out),
                (None, Some(Value::Bool(true))) => {}
                // Strict on purpose: a field the spec does not declare is drift to report.
                (None, _) => out.push(format!("{path}: not declared by the schema")),
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (i, item) in array.iter().enumerate() {
            check(items, item, &format!("{at}[{i}]"), out);
        }
    }
}

fn check_format(format: &str, value: &Value, at: &str, out: &mut Vec<String>) {
    let ok = match (format, value) {
        // The hyphenated form generated clients parse (`java.util.UUID`, .NET `Guid`, …).
        ("uuid", Value::String(s)) => s.len() == 36 && uuid::Uuid::parse_str(s).is_ok(),
        ("date-time", Value::String(s)) => chrono::DateTime::parse_from_rfc3339(s).is_ok(),
        ("int32", v) => v.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
        ("binary", _) => true,
        (other, _) => {
            out.push(format!("{at}: the checker does not know format {other}"));
            true
        }
    };
    if !ok {
        out.push(format!("{at}: {value} is not a valid {format}"));
    }
}

/// The fragment MessageMedia's spec gives a successful answer to `method path`; `None` for a
/// path outside the MessageMedia API (the tests also use the native API).
fn success_schema(method: &Method, path: &str) -> Option<Option<&'static str>> {
    let rest = path.strip_prefix(BASE)?;
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    Some(match (method.as_str(), segments.as_slice()) {
        ("GET", []) => Some("NumbersListResponse.yaml"),
        ("GET", ["assignments"]) => Some("AssignedNumberListResponse.yaml"),
        ("GET", [_]) => Some("DedicatedNumber.yaml"),
        ("GET" | "POST" | "PATCH", [_, "assignment"]) => Some("Assignment.yaml"),
        ("DELETE", [_, "assignment"]) => None,
        _ => panic!("{method} {path}: no operation of MessageMedia's spec"),
    })
}

/// Checks one answer; panics naming every violation.
pub fn check_answer(method: &Method, path: &str, status: StatusCode, body: &[u8]) {
    let Some(schema) = success_schema(method, path) else {
        return;
    };
    CHECKED.fetch_add(1, Ordering::Relaxed);
    let what = format!("{method} {path} → {status}");
    if status == StatusCode::NO_CONTENT {
        assert!(body.is_empty(), "{what}: a 204 with a body");
        return;
    }
    let value: Value = serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {}", String::from_utf8_lossy(body)));
    let found = if status.is_success() {
        match schema {
            Some(file) => violations(file, &value),
            None => vec![format!("{status} where the spec answers 204")],
        }
    } else {
        match value.get("message") {
            Some(Value::String(_)) => vec![],
            _ => vec!["an error without a string message".to_string()],
        }
    };
    assert!(
        found.is_empty(),
        "{what} does not match MessageMedia's schema:\n  {}\n{value:#}",
        found.join("\n  ")
    );
}

/// `send`, then the answer is checked (see the module documentation).
pub(crate) trait SendChecked {
    async fn send_checked(self) -> reqwest::Result<Response>;
}

impl SendChecked for RequestBuilder {
    async fn send_checked(self) -> reqwest::Result<Response> {
        let (client, request) = self.build_split();
        let request = request?;
        let method = request.method().clone();
        let path = request.url().path().to_string();
        let res = client.execute(request).await?;
        let status = res.status();
        let headers = res.headers().clone();
        let version = res.version();
        let body = res.bytes().await?;
        check_answer(&method, &path, status, &body);
        let mut rebuilt = axum::http::Response::builder()
            .status(status)
            .version(version);
        if let Some(h) = rebuilt.headers_mut() {
            *h = headers;
        }
        Ok(Response::from(rebuilt.body(body).unwrap()))
    }
}

#[test]
fn the_checker_refuses_what_the_issue_found() {
    let number = serde_json::json!({
        "id": "03cf54ad-a4a3-4cd1-afd5-e0ca2cf158a3", "phone_number": "+61436489205",
        "country": "AU", "type": "MOBILE", "classification": "BRONZE",
        "available_after": "2019-08-06T23:56:15.633Z", "capabilities": ["SMS"],
    });
    assert_eq!(
        violations("DedicatedNumber.yaml", &number),
        Vec::<String>::new()
    );
    let mut held = number.clone();
    held["available_after"] = Value::Null;
    assert_eq!(violations("DedicatedNumber.yaml", &held).len(), 1);
    let page = serde_json::json!({"data": [number], "pagination": {"page_size": 1,
        "next_token": "KzYxNDM4MDAwMTAz"}});
    let found = violations("NumbersListResponse.yaml", &page);
    assert!(
        found[0].contains("next_token") && found[0].contains("uuid"),
        "{found:?}"
    );
    let wrong = serde_json::json!({"id": "x", "phone_number": 61, "type": "FIXED",
        "capabilities": ["VOICE"], "available_after": "yesterday", "colour": "red"});
    assert_eq!(violations("DedicatedNumber.yaml", &wrong).len(), 6);
}
