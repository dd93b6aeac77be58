//! Access tokens, callback secrets, the provisioning queue and the catalogue reads (migration
//! 0005): storage and lookup by hash, expiry pruning; secret replacement; scheduling with a patch,
//! superseding, claiming with leases, completion (applied on success, kept on failure, cancelled
//! when the holding ended), events and versions; available regions and account counts.

use numbers_core::account::KeyOwner;
use numbers_core::callback::HmacSecret;
use numbers_core::event::EventKind;
use numbers_core::ids::ProvisioningId;
use numbers_core::number::assignment::AssignmentPatch;
use numbers_core::number::{Capability, NumberType};
use numbers_core::provisioning::{
    Channel, ProvisioningOutcome, ProvisioningRequest, ProvisioningStatus,
};
use numbers_core::search::{CapabilityFilter, CapabilityMatch};
use numbers_core::store::NumberFilter;
use numbers_core::token::StoredToken;
use serde_json::json;

use crate::fixtures::{at, au_mobile, caps, e164, seattle, toll_free};
use crate::support::{
    DynStore, assign, events_since, expect_not_found, import, last_seq, new_account, number,
    of_kind,
};

fn token(hash: &str, owner: KeyOwner, issued: i64, expires: i64) -> StoredToken {
    StoredToken {
        token_hash: hash.to_string(),
        key_id: format!("key_{hash}"),
        owner,
        issued_at: at(issued),
        expires_at: at(expires),
    }
}

pub async fn access_tokens(store: DynStore) {
    let account = new_account(&store, "Acme", at(0)).await;
    let a = token("hash-a", KeyOwner::Account(account), 10, 3610);
    let b = token("hash-b", KeyOwner::Operator, 20, 20 + 7200);
    for t in [&a, &b] {
        store
            .insert_access_token(t)
            .await
            .unwrap_or_else(|e| panic!("insert_access_token({t:?}) failed: {e:?}"));
    }
    assert_eq!(
        store.find_access_token("hash-a").await.expect("find"),
        Some(a.clone()),
        "an account token round-trips"
    );
    assert_eq!(
        store.find_access_token("hash-b").await.expect("find"),
        Some(b.clone()),
        "an operator token round-trips"
    );
    assert_eq!(
        store.find_access_token("unknown").await.expect("find"),
        None
    );
    let pruned = store
        .prune_access_tokens(at(3611), 100)
        .await
        .expect("prune_access_tokens");
    assert_eq!(pruned, 1, "only the token expired before the cut-off goes");
    assert_eq!(store.find_access_token("hash-a").await.expect("find"), None);
    assert_eq!(
        store.find_access_token("hash-b").await.expect("find"),
        Some(b)
    );
}

pub async fn callback_secrets(store: DynStore) {
    let acme = new_account(&store, "Acme", at(0)).await;
    let globex = new_account(&store, "Globex", at(0)).await;
    assert_eq!(store.get_callback_secret(acme).await.expect("get"), None);
    let first = HmacSecret::parse(&"a".repeat(32), "s").expect("valid secret");
    let second = HmacSecret::parse(&"B-2".repeat(20), "s").expect("valid secret");
    store
        .set_callback_secret(acme, &first, at(1))
        .await
        .expect("set");
    assert_eq!(
        store.get_callback_secret(acme).await.expect("get"),
        Some(first)
    );
    store
        .set_callback_secret(acme, &second, at(2))
        .await
        .expect("replace");
    assert_eq!(
        store.get_callback_secret(acme).await.expect("get"),
        Some(second),
        "setting again replaces"
    );
    assert_eq!(
        store.get_callback_secret(globex).await.expect("get"),
        None,
        "secrets are per account"
    );
}

pub async fn provisioning_queue(store: DynStore) {
    let acme = new_account(&store, "Acme", at(0)).await;
    let other = new_account(&store, "Globex", at(0)).await;
    import(&store, &[seattle("0100"), seattle("0101")], at(0)).await;
    let n = e164("+12065550100");
    assign(&store, acme, std::slice::from_ref(&n), at(1)).await;
    let sms = |plan: &str| ProvisioningRequest {
        channel: Channel::Sms,
        target: Some(json!({ "servicePlanId": plan })),
    };
    let voice = ProvisioningRequest {
        channel: Channel::Voice,
        target: Some(json!({ "type": "RTC", "appId": "app-1" })),
    };
    let patch = AssignmentPatch {
        display_name: Some(Some("Front desk".into())),
        ..Default::default()
    };

    expect_not_found(
        store
            .schedule_provisioning(other, &n, &patch, &[sms("x")], at(2))
            .await,
        "schedule_provisioning on another account's number",
    );
    let before = number(&store, &n).await;
    let seq = last_seq(&store).await;
    let (after, tasks) = store
        .schedule_provisioning(acme, &n, &patch, &[sms("plan-1"), voice.clone()], at(2))
        .await
        .expect("schedule_provisioning");
    assert_eq!(
        after.version,
        before.version + 1,
        "one version step per call"
    );
    assert_eq!(after.assignment.display_name.as_deref(), Some("Front desk"));
    assert_eq!(
        after.assignment.sms_configuration, None,
        "nothing is applied before the provisioner says so"
    );
    assert_eq!(tasks.len(), 2);
    assert!(tasks.iter().all(|t| t.status == ProvisioningStatus::Waiting
        && t.attempts == 0
        && t.assignment_id == after.assignment_id.expect("assigned")));
    let events = events_since(&store, seq).await;
    assert_eq!(of_kind(&events, EventKind::NumberUpdated).len(), 1);
    let requested = of_kind(&events, EventKind::NumberProvisioningRequested);
    assert_eq!(requested.len(), 2, "one event per task: {events:#?}");
    assert!(
        requested
            .iter()
            .all(|e| e.event.account_id == Some(acme) && e.event.resource_version == after.version)
    );

    // A newer SMS request supersedes the first; an empty patch writes no number.updated.
    let seq = last_seq(&store).await;
    let (_, newer) = store
        .schedule_provisioning(
            acme,
            &n,
            &AssignmentPatch::default(),
            &[sms("plan-2")],
            at(3),
        )
        .await
        .expect("schedule again");
    assert!(of_kind(&events_since(&store, seq).await, EventKind::NumberUpdated).is_empty());
    let holding = [after.assignment_id.expect("assigned")];
    let all = store.provisioning_tasks(&holding).await.expect("tasks");
    assert_eq!(all.len(), 3);
    let status_of = |id: ProvisioningId, list: &[numbers_core::provisioning::ProvisioningTask]| {
        list.iter()
            .find(|t| t.id == id)
            .expect("task listed")
            .status
    };
    assert_eq!(status_of(tasks[0].id, &all), ProvisioningStatus::Cancelled);
    assert_eq!(status_of(tasks[1].id, &all), ProvisioningStatus::Waiting);

    // Claims: oldest first, leased; nothing more while leases hold.
    let first = store
        .claim_provisioning(at(4), at(64))
        .await
        .expect("claim")
        .expect("a task is waiting");
    assert_eq!(
        first.id, tasks[1].id,
        "the voice task is the oldest live one"
    );
    assert_eq!(first.status, ProvisioningStatus::InProgress);
    assert_eq!(first.attempts, 1);
    let second = store
        .claim_provisioning(at(4), at(64))
        .await
        .expect("claim")
        .expect("the newer SMS task");
    assert_eq!(second.id, newer[0].id);
    assert_eq!(
        store
            .claim_provisioning(at(5), at(65))
            .await
            .expect("claim"),
        None,
        "both leased"
    );
    let reclaimed = store
        .claim_provisioning(at(70), at(130))
        .await
        .expect("claim")
        .expect("a lapsed lease is claimed again");
    assert_eq!(reclaimed.id, first.id);
    assert_eq!(reclaimed.attempts, 2);

    // Success applies; failure keeps the old configuration and records codes.
    let seq = last_seq(&store).await;
    let done = store
        .complete_provisioning(first.id, &ProvisioningOutcome::Succeeded, at(71))
        .await
        .expect("complete")
        .expect("in progress");
    assert_eq!(done.status, ProvisioningStatus::Succeeded);
    let applied = number(&store, &n).await;
    assert_eq!(applied.assignment.voice_configuration, voice.target);
    assert_eq!(applied.version, after.version + 2);
    assert_eq!(done.completed_version, Some(applied.version));
    let failed = store
        .complete_provisioning(
            second.id,
            &ProvisioningOutcome::Failed {
                error_codes: vec!["CAMPAIGN_NOT_AVAILABLE".into()],
            },
            at(72),
        )
        .await
        .expect("complete")
        .expect("in progress");
    assert_eq!(failed.status, ProvisioningStatus::Failed);
    assert_eq!(
        failed.error_codes,
        vec!["CAMPAIGN_NOT_AVAILABLE".to_string()]
    );
    let kept = number(&store, &n).await;
    assert_eq!(kept.assignment.sms_configuration, None);
    assert_eq!(kept.version, applied.version + 1);
    assert_eq!(failed.completed_version, Some(kept.version));
    let listed = store
        .provisioning_tasks(&[after.assignment_id.expect("assigned")])
        .await
        .expect("tasks");
    assert_eq!(
        listed
            .iter()
            .find(|t| t.id == first.id)
            .and_then(|t| t.completed_version),
        Some(applied.version),
        "completed_version is stored"
    );
    let events = events_since(&store, seq).await;
    assert_eq!(of_kind(&events, EventKind::NumberProvisioned).len(), 1);
    let failures = of_kind(&events, EventKind::NumberProvisioningFailed);
    assert_eq!(failures.len(), 1);
    assert_eq!(
        failures[0].event.details["error_codes"],
        json!(["CAMPAIGN_NOT_AVAILABLE"])
    );
    assert_eq!(failures[0].event.resource_version, kept.version);
    assert_eq!(
        store
            .complete_provisioning(first.id, &ProvisioningOutcome::Succeeded, at(73))
            .await
            .expect("complete twice"),
        None,
        "a finished task is not completed again"
    );

    // A task whose number left the account is cancelled, never handed to the provisioner.
    store
        .schedule_provisioning(
            acme,
            &n,
            &AssignmentPatch::default(),
            &[sms("plan-3")],
            at(80),
        )
        .await
        .expect("schedule");
    store
        .release_number(acme, &n, at(1000), at(81))
        .await
        .expect("release");
    assert_eq!(
        store
            .claim_provisioning(at(82), at(142))
            .await
            .expect("claim"),
        None
    );
    let all = store.provisioning_tasks(&holding).await.expect("tasks");
    assert_eq!(
        all.last().map(|t| t.status),
        Some(ProvisioningStatus::Cancelled)
    );
    assert_eq!(
        store.provisioning_tasks(&[]).await.expect("no holdings"),
        vec![]
    );
}

pub async fn catalog_regions_and_counts(store: DynStore) {
    let acme = new_account(&store, "Acme", at(0)).await;
    import(
        &store,
        &[
            seattle("0100"),
            seattle("0101"),
            seattle("0123"),
            toll_free("+18005550199"),
            au_mobile("+61491570156"),
        ],
        at(0),
    )
    .await;
    let regions = store.available_regions(at(1)).await.expect("regions");
    assert_eq!(
        regions,
        vec![
            ("AU".to_string(), NumberType::Mobile),
            ("US".to_string(), NumberType::Local),
            ("US".to_string(), NumberType::TollFree),
        ]
    );
    assert_eq!(
        store.available_regions(at(-10)).await.expect("regions"),
        vec![],
        "numbers not yet on offer do not count"
    );
    assign(
        &store,
        acme,
        &[
            e164("+12065550100"),
            e164("+12065550101"),
            e164("+18005550199"),
        ],
        at(2),
    )
    .await;
    let regions = store.available_regions(at(3)).await.expect("regions");
    assert!(!regions.contains(&("US".to_string(), NumberType::TollFree)));
    let count = |f: NumberFilter| {
        let store = store.clone();
        async move {
            store
                .count_account_numbers(acme, &f)
                .await
                .expect("count_account_numbers")
        }
    };
    assert_eq!(count(NumberFilter::default()).await, 3);
    assert_eq!(
        count(NumberFilter {
            types: vec![NumberType::Local],
            page_size: 1,
            after: Some("+12065550100".into()),
            ..Default::default()
        })
        .await,
        2,
        "page size and position do not change the total"
    );
    assert_eq!(
        count(NumberFilter {
            capabilities: CapabilityFilter {
                set: caps(&[Capability::Sms, Capability::Voice]),
                mode: CapabilityMatch::AllOf,
            },
            country: Some("AU".into()),
            ..Default::default()
        })
        .await,
        0
    );
    store
        .update_assignment(
            acme,
            &e164("+12065550101"),
            &AssignmentPatch {
                display_name: Some(Some("Desk".into())),
                ..Default::default()
            },
            at(4),
        )
        .await
        .expect("update");
    assert_eq!(
        count(NumberFilter {
            display_name: Some("Desk".into()),
            ..Default::default()
        })
        .await,
        1
    );
    assert_eq!(
        count(NumberFilter {
            display_name: Some("Des".into()),
            ..Default::default()
        })
        .await,
        0,
        "display name matches exactly"
    );
}
