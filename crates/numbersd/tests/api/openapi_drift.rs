//! The OpenAPI document against the running server: for every native operation that takes a
//! JSON body or query parameters, the names the server accepts — read from its own answer to an
//! unknown name, which lists them — are exactly the names the document gives, nested search
//! criteria included, and each documented name sent on its own is not refused as unknown. A
//! field added to a request type but not to the document (or the reverse, or a handler reading
//! another type than the one its operation documents) fails here.

use std::collections::BTreeSet;

use reqwest::{Method, RequestBuilder};
use serde_json::{Map, Value, json};

use crate::helpers::{Creds, spawn_app};

const UNKNOWN: &str = "__undocumented";

/// Operations whose JSON body is documented as a bare object on purpose: the shape belongs to a
/// core parser that reports its own field errors (the requirements document).
const FREE_FORM_BODIES: &[(&str, &str)] =
    &[("put", "/v1/operator/number-requirements/{region}/{type}")];

#[tokio::test]
async fn the_document_names_exactly_what_the_server_accepts() {
    let app = spawn_app().await;
    let tenant = app.tenant("a").await.creds;
    let hook = json!({"url": "http://127.0.0.1:9/hook"});
    let webhook = answer(app.post(&tenant, "/v1/webhooks", hook)).await;
    let webhook_id = webhook["id"].as_str().unwrap().to_string();
    let doc = answer(app.client.get(format!("{}/openapi.json", app.base))).await;
    let schemas = &doc["components"]["schemas"];
    let (mut bodies, mut queries, mut nested) = (0, 0, 0);
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let creds = if path.starts_with("/v1/operator/") {
                &app.operator
            } else {
                &tenant
            };
            let url = concrete(path, &webhook_id);
            let method: Method = method.to_uppercase().parse().unwrap();
            let call = Call {
                app: &app,
                creds,
                method: method.clone(),
                url: &url,
            };

            let documented: BTreeSet<String> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "query")
                .map(|p| p["name"].as_str().unwrap().to_string())
                .collect();
            if !documented.is_empty() {
                let answer = call.query(&format!("{UNKNOWN}=1")).await;
                let accepted = known_list(&answer, UNKNOWN, "is not a known parameter; known: ");
                assert_eq!(accepted, documented, "{method} {path}: query parameters");
                for name in &documented {
                    let answer = call.query(&format!("{name}=1")).await;
                    assert!(
                        !refused(&answer, name),
                        "{method} {path}: {name} refused: {answer}"
                    );
                }
                queries += 1;
            }

            let Some(schema) =
                op["requestBody"]["content"]["application/json"]["schema"].as_object()
            else {
                continue;
            };
            let Some(body) = object_schema(schemas, &Value::Object(schema.clone())) else {
                continue;
            };
            let properties = body["properties"].as_object().cloned().unwrap_or_default();
            if properties.is_empty() {
                let verb = method.as_str().to_lowercase();
                assert!(
                    FREE_FORM_BODIES.contains(&(verb.as_str(), path.as_str())),
                    "{method} {path}: a JSON body without documented fields"
                );
                continue;
            }
            let documented: BTreeSet<String> = properties.keys().cloned().collect();
            let answer = call.body(json!({UNKNOWN: 1})).await;
            let accepted = known_list(&answer, UNKNOWN, "is not a known field; known: ");
            assert_eq!(accepted, documented, "{method} {path}: body fields");
            for name in &documented {
                let answer = call.body(json!({name.as_str(): null})).await;
                assert!(
                    !refused(&answer, name),
                    "{method} {path}: {name} refused: {answer}"
                );
            }
            bodies += 1;

            // Objects inside the body (the search criteria of orders) are held to the same rule.
            for (name, property) in &properties {
                let Some(inner) = object_schema(schemas, property) else {
                    continue;
                };
                let Some(inner_properties) = inner["properties"].as_object() else {
                    continue;
                };
                // The other integer fields (a quantity) make the body reach the inner object.
                let mut sent = Map::new();
                for (other, s) in &properties {
                    if s["type"] == "integer" || s["type"][0] == "integer" {
                        sent.insert(other.clone(), json!(1));
                    }
                }
                sent.insert(name.clone(), json!({UNKNOWN: 1}));
                let answer = call.body(Value::Object(sent)).await;
                let accepted = known_list(
                    &answer,
                    &format!("{name}.{UNKNOWN}"),
                    "is not a search criterion; known: ",
                );
                let documented: BTreeSet<String> = inner_properties.keys().cloned().collect();
                assert_eq!(accepted, documented, "{method} {path}: fields of {name}");
                nested += 1;
            }
        }
    }
    // Every request type of the native API was reached (search, orders ×2, numbers ×3, events,
    // webhooks ×4, number orders ×2 …): a document that lost its parameters would pass vacuously.
    assert!(bodies >= 14, "{bodies} JSON bodies checked");
    assert!(queries >= 8, "{queries} queries checked");
    assert_eq!(nested, 2, "search criteria of orders and number orders");
}

struct Call<'a> {
    app: &'a crate::helpers::TestApp,
    creds: &'a Creds,
    method: Method,
    url: &'a str,
}

impl Call<'_> {
    async fn query(&self, query: &str) -> Value {
        self.send(&format!("{}?{query}", self.url), None).await
    }

    async fn body(&self, body: Value) -> Value {
        self.send(self.url, Some(body)).await
    }

    async fn send(&self, url: &str, body: Option<Value>) -> Value {
        let mut request = self.app.request(self.method.clone(), self.creds, url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        answer(request).await
    }
}

/// The JSON answer to a request, which must not be a server error.
async fn answer(request: RequestBuilder) -> Value {
    let res = request.send().await.unwrap();
    assert!(!res.status().is_server_error(), "{}", res.url());
    res.json().await.unwrap_or(Value::Null)
}

/// The path with its parameters filled in: the webhook of the test (its id is checked before the
/// body), a well-formed number and ids that need not exist (the body is read first).
fn concrete(path: &str, webhook_id: &str) -> String {
    let path = if path.starts_with("/v1/webhooks/") {
        path.replace("{id}", webhook_id)
    } else {
        path.replace("{id}", "00000000-0000-0000-0000-000000000001")
    };
    path.replace("{e164}", "+12065550100")
        .replace("{region}", "US")
        .replace("{type}", "LOCAL")
        .replace("{attachment_id}", "00000000-0000-0000-0000-000000000002")
        .replace("{key_id}", "nokey")
}

/// The object schema a schema names: itself, its `$ref`, or the non-null member of a `oneOf`.
fn object_schema(schemas: &Value, schema: &Value) -> Option<Value> {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        return object_schema(schemas, &schemas[name]);
    }
    if let Some(members) = schema["oneOf"].as_array() {
        return members
            .iter()
            .filter(|m| m["type"] != "null")
            .find_map(|m| object_schema(schemas, m));
    }
    (schema["type"] == "object").then(|| schema.clone())
}

/// The names listed in the error the server gave `field`, which must be there.
fn known_list(answer: &Value, field: &str, prefix: &str) -> BTreeSet<String> {
    let reason = answer["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["field"] == field)
        .and_then(|e| e["reason"].as_str())
        .unwrap_or_else(|| panic!("no error for {field} in {answer}"));
    let list = reason
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{field}: unexpected reason {reason}"));
    list.split(", ").map(str::to_string).collect()
}

/// Whether the answer refuses `name` as an unknown name.
fn refused(answer: &Value, name: &str) -> bool {
    answer["errors"].as_array().into_iter().flatten().any(|e| {
        e["field"] == name
            && e["reason"]
                .as_str()
                .is_some_and(|r| r.contains("is not a known"))
    })
}
