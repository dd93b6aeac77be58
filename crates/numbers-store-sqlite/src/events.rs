//! `EventStore`: reading the append-only event log (events are written by the other calls, in
//! their own transactions).

use async_trait::async_trait;
use numbers_core::error::Result;
use numbers_core::event::Event;
use numbers_core::store::{EventFilter, EventStore};
use numbers_store_sql::{Placeholder, SqlParams, SqlValue};
use rusqlite::params_from_iter;

use crate::SqliteStore;
use crate::db::{DbResult, values};
use crate::rows::{EVENT_COLUMNS, event_from_raw, raw_event};

#[async_trait]
impl EventStore for SqliteStore {
    async fn list_events(&self, filter: &EventFilter) -> Result<Vec<Event>> {
        let filter = filter.clone();
        self.read(move |tx| {
            let mut params = SqlParams::new(Placeholder::QuestionNumbered);
            let mut clauses = vec![format!(
                "seq > {}",
                params.int(filter.after_seq.unwrap_or(0))
            )];
            if let Some(a) = filter.account {
                clauses.push(format!("account_id = {}", params.text(a.to_string())));
            }
            if let Some(e) = &filter.e164 {
                clauses.push(format!("e164 = {}", params.text(e.as_str())));
            }
            if let Some(o) = filter.order {
                clauses.push(format!("order_id = {}", params.text(o.to_string())));
            }
            let limit = params.push(SqlValue::Int(i64::from(filter.limit)));
            let sql = format!(
                "SELECT {EVENT_COLUMNS} FROM events WHERE {} ORDER BY seq LIMIT {limit}",
                clauses.join(" AND ")
            );
            let mut stmt = tx.prepare_cached(&sql).db()?;
            let raw = stmt
                .query_map(params_from_iter(values(&params.values)), raw_event)
                .db()?
                .collect::<rusqlite::Result<Vec<_>>>()
                .db()?;
            raw.into_iter().map(event_from_raw).collect()
        })
        .await
    }
}
