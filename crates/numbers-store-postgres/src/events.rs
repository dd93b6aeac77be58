//! The event log: appending the events of a step inside its transaction, and listing them.
//!
//! `seq` must follow commit order, or a reader paging with `after_seq` could skip an event that
//! commits after a higher `seq` was already read. A BIGSERIAL alone does not give that with
//! concurrent writers, so appending takes a transaction-scoped advisory lock first and every step
//! appends its events as its last statement before COMMIT: sequence values are then handed out
//! in the order the transactions commit. The lock is held only for that short tail.

use async_trait::async_trait;
use numbers_core::clock::{Timestamp, from_millis, to_millis};
use numbers_core::error::{Error, Result};
use numbers_core::event::{Event, EventKind, NewEvent};
use numbers_core::ids::{AccountId, EventId};
use numbers_core::number::{E164, Number};
use numbers_core::store::{EventFilter, EventStore};
use tokio_postgres::{Row, Transaction};

use crate::rows::get;
use crate::{Bind, PostgresStore, db_err, refs};

/// Arbitrary constant naming the event-append lock among the server's advisory locks.
const EVENT_LOCK_KEY: i64 = 0x6e75_6d62_6576_6e74; // "numbevnt"

/// An event about one number, carrying its new version.
pub(crate) fn number_event(
    kind: EventKind,
    at: Timestamp,
    n: &Number,
    account: Option<AccountId>,
) -> NewEvent {
    NewEvent {
        account_id: account,
        number_id: Some(n.id),
        e164: Some(n.e164.clone()),
        resource_version: n.version,
        ..NewEvent::new(kind, at)
    }
}

/// Appends `events` in order and commits. Must be the last thing a step does (see module doc).
pub(crate) async fn append_and_commit(
    tx: deadpool_postgres::Transaction<'_>,
    events: &[NewEvent],
) -> Result<()> {
    append(&tx, events).await?;
    tx.commit().await.map_err(db_err)
}

async fn append(tx: &Transaction<'_>, events: &[NewEvent]) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&EVENT_LOCK_KEY])
        .await
        .map_err(db_err)?;
    let n = events.len();
    let mut ids = Vec::with_capacity(n);
    let mut kinds = Vec::with_capacity(n);
    let mut ats = Vec::with_capacity(n);
    let mut accounts = Vec::with_capacity(n);
    let mut numbers = Vec::with_capacity(n);
    let mut e164s = Vec::with_capacity(n);
    let mut orders = Vec::with_capacity(n);
    let mut reservations = Vec::with_capacity(n);
    let mut versions = Vec::with_capacity(n);
    let mut details = Vec::with_capacity(n);
    for e in events {
        ids.push(e.id.to_string());
        kinds.push(e.kind.as_str().to_string());
        ats.push(to_millis(e.at));
        accounts.push(e.account_id.map(|v| v.to_string()));
        numbers.push(e.number_id.map(|v| v.to_string()));
        e164s.push(e.e164.as_ref().map(|v| v.as_str().to_string()));
        orders.push(e.order_id.map(|v| v.to_string()));
        reservations.push(e.reservation_id.map(|v| v.to_string()));
        versions.push(e.resource_version);
        details.push(serde_json::to_string(&e.details).map_err(Error::internal)?);
    }
    let params: Vec<Bind> = vec![
        Box::new(ids),
        Box::new(kinds),
        Box::new(ats),
        Box::new(accounts),
        Box::new(numbers),
        Box::new(e164s),
        Box::new(orders),
        Box::new(reservations),
        Box::new(versions),
        Box::new(details),
    ];
    // ORDER BY the array position so `seq` follows the order the step produced the events in.
    tx.execute(
        "INSERT INTO events (id, kind, at, account_id, number_id, e164, order_id, reservation_id, resource_version, details) \
         SELECT id, kind, at, account_id, number_id, e164, order_id, reservation_id, resource_version, details \
         FROM UNNEST($1::TEXT[], $2::TEXT[], $3::BIGINT[], $4::TEXT[], $5::TEXT[], $6::TEXT[], $7::TEXT[], $8::TEXT[], \
                     $9::BIGINT[], $10::TEXT[]) \
              WITH ORDINALITY AS u(id, kind, at, account_id, number_id, e164, order_id, reservation_id, resource_version, details, pos) \
         ORDER BY pos",
        &refs(&params),
    )
    .await
    .map_err(db_err)?;
    Ok(())
}

fn parse_id<T: std::str::FromStr<Err = Error>>(what: &str, s: Option<String>) -> Result<Option<T>> {
    s.map(|v| {
        v.parse::<T>()
            .map_err(|_| Error::internal(format!("stored event {what} '{v}' is not a UUID")))
    })
    .transpose()
}

pub(crate) fn event_from_row(row: &Row) -> Result<Event> {
    let kind: String = get(row, 2)?;
    let details: String = get(row, 10)?;
    let id: String = get(row, 1)?;
    Ok(Event {
        seq: get(row, 0)?,
        event: NewEvent {
            id: id
                .parse::<EventId>()
                .map_err(|_| Error::internal(format!("stored event id '{id}' is not a UUID")))?,
            kind: EventKind::parse(&kind)
                .ok_or_else(|| Error::internal(format!("stored event kind '{kind}' is unknown")))?,
            at: from_millis(get(row, 3)?),
            account_id: parse_id("account_id", get(row, 4)?)?,
            number_id: parse_id("number_id", get(row, 5)?)?,
            e164: get::<Option<String>>(row, 6)?.map(E164::from_trusted),
            order_id: parse_id("order_id", get(row, 7)?)?,
            reservation_id: parse_id("reservation_id", get(row, 8)?)?,
            resource_version: get(row, 9)?,
            details: serde_json::from_str(&details)
                .map_err(|e| Error::internal(format!("stored event details: {e}")))?,
        },
    })
}

#[async_trait]
impl EventStore for PostgresStore {
    async fn list_events(&self, filter: &EventFilter) -> Result<Vec<Event>> {
        let mut clauses = Vec::new();
        let mut params: Vec<Bind> = Vec::new();
        let mut push = |clause: &str, value: Bind| {
            params.push(value);
            clauses.push(format!("{clause} ${}", params.len()));
        };
        if let Some(a) = filter.account {
            push("account_id =", Box::new(a.to_string()));
        }
        if let Some(e) = &filter.e164 {
            push("e164 =", Box::new(e.as_str().to_string()));
        }
        if let Some(o) = filter.order {
            push("order_id =", Box::new(o.to_string()));
        }
        if let Some(after) = filter.after_seq {
            push("seq >", Box::new(after));
        }
        let where_clause = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        params.push(Box::new(i64::from(filter.limit)));
        let sql = format!(
            "SELECT seq, id, kind, at, account_id, number_id, e164, order_id, reservation_id, resource_version, details \
             FROM events {where_clause} ORDER BY seq LIMIT ${}",
            params.len()
        );
        let client = self.client().await?;
        let rows = client
            .query(sql.as_str(), &refs(&params))
            .await
            .map_err(db_err)?;
        rows.iter().map(event_from_row).collect()
    }
}
