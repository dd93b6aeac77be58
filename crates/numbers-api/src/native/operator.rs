//! `/v1/operator/…`: what the operator of the installation does — tenant accounts and their
//! keys, inventory statistics, and running the maintenance sweeps on demand. Every route needs
//! operator credentials; a tenant key gets 403.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use numbers_core::error::{Error, Resource};
use numbers_core::ids::AccountId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::{Caller, JsonBody};
use super::problem::ApiResult;
use super::request::{self, Field};
use super::views::{AccountView, CreatedAccountView, IssuedKeyView, KeyView};
use crate::ApiState;

/// Body of `POST /v1/operator/accounts`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct CreateAccount {
    #[serde(default)]
    #[schema(value_type = String, required = true)]
    name: Field<String>,
}

fn account_id(raw: &str) -> Result<AccountId, Error> {
    raw.parse::<AccountId>()
        .map_err(|_| Error::not_found(Resource::Account, raw))
}

#[utoipa::path(
    post, path = "/v1/operator/accounts", tag = "operator",
    request_body = CreateAccount,
    responses((status = 201, description = "The account and its first key (the secret is shown only now)", body = CreatedAccountView), (status = 403, body = super::problem::Problem)),
    security(("basic" = []))
)]
pub async fn create_account(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<CreatedAccountView>)> {
    principal.require_operator()?;
    let (body, mut errors) = request::body::<CreateAccount>(&body)?;
    let name = body.name.required(&mut errors, "name").cloned();
    errors.into_result()?;
    let (account, key) = state
        .service
        .create_account(principal, &name.unwrap_or_default())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedAccountView {
            account: AccountView::render(&account),
            key: IssuedKeyView::render(&key),
        }),
    ))
}

#[utoipa::path(
    get, path = "/v1/operator/accounts", tag = "operator",
    responses((status = 200, body = Vec<AccountView>)),
    security(("basic" = []))
)]
pub async fn list_accounts(
    State(state): State<ApiState>,
    Caller(principal): Caller,
) -> ApiResult<Json<Vec<AccountView>>> {
    let accounts = state.service.list_accounts(principal).await?;
    Ok(Json(accounts.iter().map(AccountView::render).collect()))
}

#[utoipa::path(
    get, path = "/v1/operator/accounts/{id}", tag = "operator",
    params(("id" = String, Path)),
    responses((status = 200, body = AccountView), (status = 404, body = super::problem::Problem)),
    security(("basic" = []))
)]
pub async fn get_account(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<AccountView>> {
    principal.require_operator()?;
    let account = state
        .service
        .get_account(principal, account_id(&id)?)
        .await?;
    Ok(Json(AccountView::render(&account)))
}

#[utoipa::path(
    post, path = "/v1/operator/accounts/{id}/keys", tag = "operator",
    params(("id" = String, Path)),
    responses((status = 201, description = "A new key (the secret is shown only now)", body = IssuedKeyView), (status = 404, body = super::problem::Problem)),
    security(("basic" = []))
)]
pub async fn create_key(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<IssuedKeyView>)> {
    principal.require_operator()?;
    let key = state
        .service
        .create_key(principal, account_id(&id)?)
        .await?;
    Ok((StatusCode::CREATED, Json(IssuedKeyView::render(&key))))
}

#[utoipa::path(
    get, path = "/v1/operator/accounts/{id}/keys", tag = "operator",
    params(("id" = String, Path)),
    responses((status = 200, body = Vec<KeyView>), (status = 404, body = super::problem::Problem)),
    security(("basic" = []))
)]
pub async fn list_keys(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<KeyView>>> {
    principal.require_operator()?;
    let keys = state.service.list_keys(principal, account_id(&id)?).await?;
    Ok(Json(keys.iter().map(KeyView::render).collect()))
}

#[utoipa::path(
    delete, path = "/v1/operator/keys/{key_id}", tag = "operator",
    params(("key_id" = String, Path)),
    responses((status = 204, description = "Revoked"), (status = 404, body = super::problem::Problem)),
    security(("basic" = []))
)]
pub async fn revoke_key(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(key_id): Path<String>,
) -> ApiResult<StatusCode> {
    principal.require_operator()?;
    state.service.revoke_key(principal, &key_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatsView {
    pub total: u64,
    pub available: u64,
    pub reserved: u64,
    pub assigned: u64,
    pub aging: u64,
}

#[utoipa::path(
    get, path = "/v1/operator/inventory/stats", tag = "operator",
    responses((status = 200, description = "Numbers by state", body = StatsView)),
    security(("basic" = []))
)]
pub async fn stats(
    State(state): State<ApiState>,
    Caller(principal): Caller,
) -> ApiResult<Json<StatsView>> {
    let s = state.service.inventory_stats(principal).await?;
    Ok(Json(StatsView {
        total: s.total,
        available: s.available,
        reserved: s.reserved,
        assigned: s.assigned,
        aging: s.aging,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MaintenanceView {
    pub reservations_expired: u32,
    pub numbers_aged: u32,
    pub backorders_retried: u32,
    pub number_orders_expired: u32,
}

#[utoipa::path(
    post, path = "/v1/operator/maintenance", tag = "operator",
    responses((status = 200, description = "Ran the sweeps now: number order expiry, reservation expiry, end of aging, backorder retry", body = MaintenanceView)),
    security(("basic" = []))
)]
pub async fn maintenance(
    State(state): State<ApiState>,
    Caller(principal): Caller,
) -> ApiResult<Json<MaintenanceView>> {
    principal.require_operator()?;
    let r = state.service.run_maintenance().await?;
    Ok(Json(MaintenanceView {
        reservations_expired: r.reservations_expired,
        numbers_aged: r.numbers_aged,
        backorders_retried: r.backorders_retried,
        number_orders_expired: r.number_orders_expired,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RejectedRowView {
    /// Line in the CSV (the header is line 1).
    pub line: u64,
    pub e164: Option<String>,
    pub reasons: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportView {
    /// Numbers added to the inventory.
    pub inserted: u64,
    /// Numbers already in the inventory, left unchanged.
    pub existing: Vec<String>,
    /// Rows not imported, each with every reason.
    pub rejected: Vec<RejectedRowView>,
}

/// Imports a CSV document: the same format as `numbersd inventory import` (header row; `e164`
/// required; optional type, capabilities, classification, rate_center, state, city, lata, zip,
/// tier, vendor_id, vendor_name, setup_price, monthly_price, currency, protected). Valid rows are
/// imported even when others are rejected.
#[utoipa::path(
    post, path = "/v1/operator/inventory", tag = "operator",
    request_body(content = String, content_type = "text/csv", description = "CSV with a header row"),
    responses((status = 200, body = ImportView), (status = 400, description = "Invalid header", body = super::problem::Problem)),
    security(("basic" = []))
)]
pub async fn import(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    body: axum::body::Bytes,
) -> ApiResult<Json<ImportView>> {
    principal.require_operator()?;
    let importer = numbers_inventory::CsvImporter::new(body.as_ref())
        .map_err(|e| Error::invalid("body", e.to_string()))?;
    let mut view = ImportView {
        inserted: 0,
        existing: Vec::new(),
        rejected: Vec::new(),
    };
    let mut batch = Vec::new();
    let mut rows = importer.into_iter().peekable();
    while let Some(row) = rows.next() {
        match row {
            Ok(number) => batch.push(number),
            Err(r) => view.rejected.push(RejectedRowView {
                line: r.line,
                e164: r.e164,
                reasons: r.reasons,
            }),
        }
        if batch.len() == numbers_core::service::MAX_IMPORT_BATCH
            || (rows.peek().is_none() && !batch.is_empty())
        {
            let outcome = state.service.import_numbers(principal, &batch).await?;
            view.inserted += outcome.inserted;
            view.existing
                .extend(outcome.existing.iter().map(|e| e.to_string()));
            batch.clear();
        }
    }
    Ok(Json(view))
}
