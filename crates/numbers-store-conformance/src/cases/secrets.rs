//! Secrets at rest (`SecretStore`, `numbers_core::sealing`): every secret field — a webhook's
//! secret and previous secret, a format configuration holding a password, a delivery's copy of
//! both and its signing secret, a callback HMAC secret — reads back exactly as written (callers
//! only ever see plaintext) and is stored sealed with the store's current key: a re-seal pass over
//! what the store wrote finds nothing in clear and nothing under another key. The pass pages
//! through every field in small pages, and the store remembers the key a complete pass left
//! everything under.

use numbers_core::callback::HmacSecret;
use numbers_core::store::{ResealCursor, ResealPage};
use numbers_core::webhook::{DeliveryClaim, DeliveryFilter, SubscriptionPatch};
use serde_json::json;

use super::webhooks::{delivery, subscription};
use crate::fixtures::at;
use crate::support::{DynStore, new_account};

/// Runs a whole re-seal pass in pages of `page` rows; returns the summed pages.
async fn pass(store: &DynStore, page: u32) -> ResealPage {
    let mut total = ResealPage::default();
    let mut cursor: Option<ResealCursor> = None;
    for _ in 0..10_000 {
        let step = store
            .reseal_secrets(cursor.as_ref(), page)
            .await
            .unwrap_or_else(|e| panic!("reseal_secrets({cursor:?}) failed: {e:?}"));
        total.examined += step.examined;
        total.sealed += step.sealed;
        total.resealed += step.resealed;
        match step.next {
            Some(next) => cursor = Some(next),
            None => return total,
        }
    }
    panic!("the re-seal pass never ended");
}

pub async fn secrets_at_rest(store: DynStore) {
    let key = store
        .sealing_key_id()
        .expect("the suite runs every store with a sealing key (fixtures::secret_box)");
    assert_eq!(
        store
            .secrets_sealed_with()
            .await
            .expect("secrets_sealed_with"),
        None,
        "a new database has had no pass yet"
    );
    let acme = new_account(&store, "Acme", at(0)).await;
    let mut s = subscription(acme, "https://hooks.example.com/bw", &["*"], at(1));
    s.format = "bandwidth".into();
    s.format_config = json!({"username": "hook", "password": "s3cure-Pa55word"});
    let s = s
        .rotated(chrono::Duration::hours(1), at(2))
        .expect("rotate");
    assert!(s.previous_secret.is_some());
    store
        .create_subscription(&s)
        .await
        .expect("create_subscription");
    assert_eq!(
        store
            .get_subscription(acme, s.id)
            .await
            .expect("get")
            .as_ref(),
        Some(&s),
        "secrets and configuration read back as written"
    );
    let changed = SubscriptionPatch {
        format_config: Some(json!({"username": "hook", "password": "n3w-Pa55word"})),
        ..Default::default()
    }
    .apply(&s, at(3));
    assert!(store.update_subscription(&changed).await.expect("update"));
    assert_eq!(
        store.active_subscriptions().await.expect("active"),
        vec![changed.clone()]
    );

    let hmac = HmacSecret::parse("Sinch-hmac-secret-0123456789abcdef", "s").expect("valid");
    store
        .set_callback_secret(acme, &hmac, at(4))
        .await
        .expect("set_callback_secret");
    assert_eq!(
        store.get_callback_secret(acme).await.expect("get"),
        Some(hmac)
    );

    let mut d = delivery(&changed, 1, at(5));
    d.signing_secret = Some("callback-signing-secret".into());
    store
        .enqueue_deliveries(None, std::slice::from_ref(&d))
        .await
        .expect("enqueue_deliveries");
    let claimed = store
        .claim_deliveries(&DeliveryClaim {
            now: at(5),
            lease_until: at(65),
            limit: 10,
            per_endpoint: 10,
            skip_endpoints: Vec::new(),
        })
        .await
        .expect("claim_deliveries");
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].delivery.format_config, changed.format_config);
    assert_eq!(
        claimed[0].delivery.signing_secret.as_deref(),
        Some("callback-signing-secret")
    );
    assert_eq!(claimed[0].subscription.as_ref(), Some(&changed));
    let logged = store
        .list_deliveries(acme, changed.id, &DeliveryFilter::default())
        .await
        .expect("list_deliveries");
    assert_eq!(logged[0].delivery.signing_secret, d.signing_secret);

    // Everything was stored sealed with the current key: a pass (in pages of two rows, so every
    // field is paged through) finds nothing to do.
    let done = pass(&store, 2).await;
    assert_eq!(
        (done.sealed, done.resealed),
        (0, 0),
        "every secret the store wrote is already sealed with its key: {done:?}"
    );
    assert_eq!(
        done.examined, 6,
        "secret, previous secret, format_config, hmac secret, and the delivery's format_config \
         and signing secret"
    );
    store
        .set_secrets_sealed_with(&key, at(6))
        .await
        .expect("set_secrets_sealed_with");
    assert_eq!(
        store
            .secrets_sealed_with()
            .await
            .expect("secrets_sealed_with"),
        Some(key)
    );
    // The values still read back after the pass.
    assert_eq!(
        store.get_subscription(acme, s.id).await.expect("get"),
        Some(changed)
    );
}
