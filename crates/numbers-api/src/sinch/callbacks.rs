//! `callbackConfiguration` GET / PATCH: the project's HMAC secret that signs callbacks
//! (`^[a-zA-Z0-9-]{32,64}$`). The callback URL itself is per number (`callbackUrl`).

use axum::Json;
use axum::extract::State;
use numbers_core::callback::HmacSecret;
use numbers_core::error::Error;
use serde_json::{Value, json};

use super::error::SinchResult;
use super::extract::{Body, Project};
use crate::ApiState;
use crate::wire::JsonObject;

fn document(project: numbers_core::ids::AccountId, secret: Option<&HmacSecret>) -> Value {
    let mut doc = json!({ "projectId": project.to_string() });
    if let (Some(s), Some(map)) = (secret, doc.as_object_mut()) {
        map.insert("hmacSecret".into(), json!(s.as_str()));
    }
    doc
}

pub async fn get(
    State(state): State<ApiState>,
    Project(account): Project,
) -> SinchResult<Json<Value>> {
    let secret = state.service.callback_secret(account).await?;
    Ok(Json(document(account, secret.as_ref())))
}

pub async fn update(
    State(state): State<ApiState>,
    Project(account): Project,
    Body(body): Body,
) -> SinchResult<Json<Value>> {
    let mut obj = JsonObject::new(&body, "")?;
    let secret = match obj.opt_str("hmacSecret") {
        Some(s) => obj.errors.take(HmacSecret::parse(s, "hmacSecret")),
        None => {
            obj.errors.push_required("hmacSecret");
            None
        }
    };
    obj.finish()?;
    let secret = secret.ok_or_else(|| Error::internal("secret missing after validation"))?;
    let saved = state.service.set_callback_secret(account, &secret).await?;
    Ok(Json(document(account, Some(&saved))))
}
