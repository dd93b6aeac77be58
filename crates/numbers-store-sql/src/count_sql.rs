//! The totals of the paged order and disconnect lists as one `COUNT(*)` each: the SQL text and
//! its bound values, in either placeholder style, for an account and a list's filter (statuses,
//! creation dates, customer order id; the page size and keyset are not part of a total). Both
//! tables are read through their `(account_id, created_at, id)` index.

use numbers_core::clock::to_millis;
use numbers_core::ids::AccountId;
use numbers_core::store::Counted;

use crate::search_sql::{Placeholder, SqlParams, SqlValue};

/// `SELECT COUNT(*) FROM orders|disconnects WHERE …` for `CountStore::count`.
pub fn count_sql(
    style: Placeholder,
    account: AccountId,
    what: Counted<'_>,
) -> (String, Vec<SqlValue>) {
    let (table, statuses, created_from, created_to, customer_order_id) = match what {
        Counted::Orders(f) => (
            "orders",
            &f.statuses,
            f.created_from,
            f.created_to,
            f.customer_order_id.as_deref(),
        ),
        Counted::Disconnects(f) => (
            "disconnects",
            &f.statuses,
            f.created_from,
            f.created_to,
            None,
        ),
    };
    let mut params = SqlParams::new(style);
    let mut clauses = vec![format!("account_id = {}", params.text(account.to_string()))];
    if !statuses.is_empty() {
        let list: Vec<String> = statuses.iter().map(|s| params.text(s.as_str())).collect();
        clauses.push(format!("status IN ({})", list.join(", ")));
    }
    if let Some(from) = created_from {
        clauses.push(format!("created_at >= {}", params.int(to_millis(from))));
    }
    if let Some(to) = created_to {
        clauses.push(format!("created_at <= {}", params.int(to_millis(to))));
    }
    if let Some(c) = customer_order_id {
        clauses.push(format!("customer_order_id = {}", params.text(c)));
    }
    let sql = format!(
        "SELECT COUNT(*) FROM {table} WHERE {}",
        clauses.join(" AND ")
    );
    (sql, params.values)
}

#[cfg(test)]
mod tests {
    use numbers_core::order::OrderStatus;
    use numbers_core::store::{DisconnectFilter, OrderFilter};

    use super::*;

    #[test]
    fn filters_become_clauses_in_either_style() {
        let account = AccountId::new();
        let filter = OrderFilter {
            statuses: vec![OrderStatus::Complete, OrderStatus::Partial],
            created_from: Some(numbers_core::clock::from_millis(1)),
            customer_order_id: Some("c-1".into()),
            page_size: 10,
            ..OrderFilter::default()
        };
        let (sql, values) = count_sql(
            Placeholder::DollarNumbered,
            account,
            Counted::Orders(&filter),
        );
        assert_eq!(
            sql,
            "SELECT COUNT(*) FROM orders WHERE account_id = $1 AND status IN ($2, $3) \
             AND created_at >= $4 AND customer_order_id = $5"
        );
        assert_eq!(values.len(), 5);
        let none = DisconnectFilter::default();
        let (sql, values) = count_sql(
            Placeholder::QuestionNumbered,
            account,
            Counted::Disconnects(&none),
        );
        assert_eq!(
            sql,
            "SELECT COUNT(*) FROM disconnects WHERE account_id = ?1"
        );
        assert_eq!(values.len(), 1);
    }
}
