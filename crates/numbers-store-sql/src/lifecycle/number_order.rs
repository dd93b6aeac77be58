//! `number_orders`, `number_order_attachments` and `number_requirements` rows: column lists,
//! mapping, and the statements both stores run. A number order is a row of indexed columns
//! beside a JSON document of the whole order minus its attachments (which have rows of their
//! own, with their bytes).

use numbers_core::clock::{from_millis, to_millis};
use numbers_core::error::Result;
use numbers_core::number_order::{AttachmentMeta, NumberOrder, NumberOrderFilter, UploadStatus};

use super::{SqlRow, from_json, id, to_json};
use crate::{Placeholder, SqlParams, SqlValue};

pub const NUMBER_ORDER_COLUMNS: &str =
    "id, account_id, state, reservation_id, expire_at, created_at, updated_at, version, document";

/// Binds `number_order_values`.
pub const UPDATE_NUMBER_ORDER: &str = "UPDATE number_orders SET account_id = $2, state = $3, reservation_id = $4, \
expire_at = $5, created_at = $6, updated_at = $7, version = $8, document = $9 WHERE id = $1";

/// The order's document by id; a store appends its locking clause.
pub const NUMBER_ORDER_DOCUMENT: &str = "SELECT document FROM number_orders WHERE id = $1";

/// Open orders past their expiry whose numbers were not ordered meanwhile, oldest first
/// (`$1` now, `$2` limit); a store appends its locking clause.
pub const DUE_NUMBER_ORDERS: &str = "SELECT o.id FROM number_orders o WHERE o.state IN ('CREATED', 'IN_REVIEW') \
AND o.expire_at <= $1 AND NOT EXISTS (SELECT 1 FROM reservations r WHERE r.id = o.reservation_id AND r.status = 'ORDERED') \
ORDER BY o.expire_at, o.id LIMIT $2";

pub const ATTACHMENT_META_COLUMNS: &str = "attachment_id, file_name, mime_type, document_type, size_bytes, upload_status, created_at, updated_at";

/// Every attachment of an order (`$1`), metadata only.
pub const ATTACHMENTS_OF: &str = "SELECT attachment_id, file_name, mime_type, document_type, size_bytes, upload_status, \
created_at, updated_at FROM number_order_attachments WHERE number_order_id = $1";

/// One attachment (`$1` order, `$2` attachment) with its bytes as the ninth column.
pub const ATTACHMENT_WITH_CONTENT: &str = "SELECT attachment_id, file_name, mime_type, document_type, size_bytes, \
upload_status, created_at, updated_at, content FROM number_order_attachments WHERE number_order_id = $1 AND attachment_id = $2";

/// Binds `attachment_values` and then the bytes (`$10`).
pub const UPSERT_ATTACHMENT: &str = "INSERT INTO number_order_attachments (number_order_id, attachment_id, file_name, \
mime_type, document_type, size_bytes, upload_status, created_at, updated_at, content) \
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (number_order_id, attachment_id) DO UPDATE SET \
file_name = EXCLUDED.file_name, mime_type = EXCLUDED.mime_type, document_type = EXCLUDED.document_type, \
size_bytes = EXCLUDED.size_bytes, upload_status = EXCLUDED.upload_status, content = EXCLUDED.content, \
updated_at = EXCLUDED.updated_at";

/// `$1` region, `$2` type, `$3` document, `$4` updated_at.
pub const PUT_REQUIREMENTS: &str = "INSERT INTO number_requirements (region_code, number_type, document, updated_at) \
VALUES ($1, $2, $3, $4) ON CONFLICT (region_code, number_type) DO UPDATE SET document = EXCLUDED.document, \
updated_at = EXCLUDED.updated_at";

pub const REQUIREMENTS_BY_KEY: &str =
    "SELECT document FROM number_requirements WHERE region_code = $1 AND number_type = $2";

pub const ALL_REQUIREMENTS: &str =
    "SELECT document FROM number_requirements ORDER BY region_code, number_type";

/// A stored number order document (its attachments are attached by `with_attachments`).
pub fn read_number_order(document: &str) -> Result<NumberOrder> {
    from_json("number order", document)
}

/// The values of `NUMBER_ORDER_COLUMNS`, in order (the document without attachments).
pub fn number_order_values(order: &NumberOrder) -> Result<Vec<SqlValue>> {
    let mut doc = order.clone();
    doc.attachments.clear();
    Ok(vec![
        SqlValue::Text(order.id.to_string()),
        SqlValue::Text(order.account.to_string()),
        SqlValue::Text(order.state.as_str().into()),
        SqlValue::Text(order.reservation_id.to_string()),
        SqlValue::Int(to_millis(order.expire_at)),
        SqlValue::Int(to_millis(order.created_at)),
        SqlValue::Int(to_millis(order.updated_at)),
        SqlValue::Int(order.version),
        SqlValue::Text(to_json(&doc)?),
    ])
}

/// A row starting with `ATTACHMENT_META_COLUMNS`.
pub fn read_attachment_meta(r: &impl SqlRow) -> Result<AttachmentMeta> {
    Ok(AttachmentMeta {
        attachment_id: id("attachment id", &r.text(0)?)?,
        file_name: r.text(1)?,
        mime_type: r.text(2)?,
        document_type: r.opt_text(3)?,
        size_bytes: r.int(4)?.max(0) as u64,
        upload_status: UploadStatus::parse(&r.text(5)?),
        created_at: from_millis(r.int(6)?),
        updated_at: from_millis(r.int(7)?),
    })
}

/// The first nine values of `UPSERT_ATTACHMENT`.
pub fn attachment_values(order: &NumberOrder, m: &AttachmentMeta) -> Vec<SqlValue> {
    vec![
        SqlValue::Text(order.id.to_string()),
        SqlValue::Text(m.attachment_id.to_string()),
        SqlValue::Text(m.file_name.clone()),
        SqlValue::Text(m.mime_type.clone()),
        m.document_type.clone().into(),
        SqlValue::Int(m.size_bytes as i64),
        SqlValue::Text(m.upload_status.as_str().into()),
        SqlValue::Int(to_millis(m.created_at)),
        SqlValue::Int(to_millis(m.updated_at)),
    ]
}

/// The order with its attachments, in the order its requirements list them.
pub fn with_attachments(mut order: NumberOrder, mut metas: Vec<AttachmentMeta>) -> NumberOrder {
    let rank: Vec<uuid::Uuid> = order
        .requirements
        .attachments
        .iter()
        .map(|a| a.id)
        .collect();
    metas.sort_by_key(|a| rank.iter().position(|r| *r == a.attachment_id));
    order.attachments = metas;
    order
}

/// The ids of the orders matching `f`, newest first (`id DESC`: ids are time-ordered), one more
/// than a page: the statement and its values.
pub fn list_number_orders(f: &NumberOrderFilter, style: Placeholder) -> (String, SqlParams) {
    let mut params = SqlParams::new(style);
    let mut clauses = Vec::new();
    if let Some(a) = f.account {
        clauses.push(format!("account_id = {}", params.text(a.to_string())));
    }
    if !f.states.is_empty() {
        let list: Vec<String> = f.states.iter().map(|s| params.text(s.as_str())).collect();
        clauses.push(format!("state IN ({})", list.join(", ")));
    }
    if let Some(before) = f.before {
        clauses.push(format!("id < {}", params.text(before.to_string())));
    }
    let where_sql = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let limit = params.int(i64::from(f.page_size) + 1);
    let sql = format!("SELECT id FROM number_orders {where_sql} ORDER BY id DESC LIMIT {limit}");
    (sql, params)
}
