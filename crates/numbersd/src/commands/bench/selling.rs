//! `--sold-fraction F`: before anything is measured, sell about F of the inventory, spread over
//! the whole number space (every country, type, area code and exchange keeps some offered
//! numbers, as in a real inventory after a while of trading), so the search classes are measured
//! where sold rows sit between offered ones. The sale goes through the service in this process —
//! the same order path the API uses, without HTTP — in orders of up to 5,000 numbers.

use std::time::Instant;

use numbers_core::account::Principal;
use numbers_core::ids::AccountId;
use numbers_core::number::E164;
use numbers_core::order::{MAX_ORDER_QUANTITY, OrderRequest};
use numbers_core::search::SearchQuery;
use numbers_core::service::{OrderSubmission, Service};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Countries the generator fills (numbers_inventory::generate).
const COUNTRIES: &[&str] = &["US", "AU", "GB", "DE"];

/// Walks every country's offered numbers in pages and orders a random `fraction` of each page
/// for `buyer`; answers how many numbers were sold.
pub async fn sell(
    service: &Service,
    buyer: AccountId,
    fraction: f64,
    seed: u64,
) -> anyhow::Result<u64> {
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(seed ^ 0x0050_1d00);
    let mut sold = 0u64;
    let mut basket: Vec<E164> = Vec::new();
    for country in COUNTRIES {
        let query = SearchQuery::builder()
            .country(Some(country), "country")
            .build()
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut after: Option<String> = None;
        loop {
            let page = service
                .search(
                    Principal::Operator,
                    &query.clone().with_page(1000, after.clone()),
                )
                .await
                .map_err(|e| anyhow::anyhow!("walking {country}: {e}"))?;
            let Some(last) = page.items.last() else { break };
            after = Some(last.e164.as_str().to_string());
            let more = page.next_page_token.is_some();
            basket.extend(
                page.items
                    .into_iter()
                    .filter(|_| rng.gen_bool(fraction))
                    .map(|n| n.e164),
            );
            while basket.len() >= MAX_ORDER_QUANTITY as usize {
                let order: Vec<E164> = basket.drain(..MAX_ORDER_QUANTITY as usize).collect();
                sold += buy(service, buyer, order).await?;
            }
            if !more {
                break;
            }
        }
    }
    if !basket.is_empty() {
        sold += buy(service, buyer, basket).await?;
    }
    println!(
        "sold {sold} numbers in {:.1}s before measuring",
        started.elapsed().as_secs_f64()
    );
    Ok(sold)
}

async fn buy(service: &Service, buyer: AccountId, numbers: Vec<E164>) -> anyhow::Result<u64> {
    let mut submission = OrderSubmission::new(OrderRequest::Numbers(numbers));
    submission.partial_allowed = true;
    let order = service
        .order_now(buyer, submission)
        .await
        .map_err(|e| anyhow::anyhow!("selling: {e}"))?;
    Ok(u64::from(order.completed_count()))
}
