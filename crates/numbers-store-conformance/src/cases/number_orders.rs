//! KYC requirements and number orders (`NumberOrderStore`): requirements stored and replaced per
//! (region, type); an order reserves its numbers exactly like a reservation (all or nothing, same
//! events) in the same transaction as the order; registration and attachments (bytes and all)
//! persist; the state machine of `NumberOrder::apply` is applied to the stored row with the
//! numbers moved as its effect says; listing filters; the expiry sweep, which leaves alone an
//! order whose numbers an approval already ordered.

use numbers_core::clock::Timestamp;
use numbers_core::error::{ConflictKind, Error};
use numbers_core::event::EventKind;
use numbers_core::ids::{AccountId, NumberOrderId, ReservationId};
use numbers_core::kyc::{NumberRequirements, Registration, default_requirements_for};
use numbers_core::number::{E164, NumberState, NumberType};
use numbers_core::number_order::{
    AttachmentMeta, NUMBER_ORDER_TTL_HOURS, NewAttachment, NewNumberOrder, NumberOrder,
    NumberOrderAction, NumberOrderFilter, NumberOrderState, NumberSelection, UploadStatus,
};
use numbers_core::order::OrderStatus;
use numbers_core::reservation::ReservationStatus;
use serde_json::json;

use crate::fixtures::{at, au_mobile, e164, hours, minutes};

use crate::support::{
    DynStore, events_since, expect_conflict, explicit_order, import, last_seq, new_account, number,
    of_kind, place,
};

fn au_requirements() -> NumberRequirements {
    default_requirements_for("AU", NumberType::Mobile).unwrap_or_else(|| {
        panic!("the built-in requirements include AU MOBILE");
    })
}

fn new_order(account: AccountId, numbers: &[E164], created_at: Timestamp) -> NewNumberOrder {
    NewNumberOrder {
        id: NumberOrderId::new(),
        account,
        region_code: "AU".into(),
        number_type: NumberType::Mobile,
        selection: NumberSelection::Number(numbers[0].clone()),
        numbers: numbers.to_vec(),
        reservation_id: ReservationId::new(),
        requirements: au_requirements(),
        callback_url: Some("https://hooks.example.com/orders".into()),
        sms_configuration: Some(json!({"servicePlanId": "plan-1"})),
        voice_configuration: None,
        created_at,
        expire_at: created_at + chrono::Duration::hours(NUMBER_ORDER_TTL_HOURS),
    }
}

async fn create(store: &DynStore, new: &NewNumberOrder) -> NumberOrder {
    store
        .create_number_order(new)
        .await
        .unwrap_or_else(|e| panic!("create_number_order failed: {e:?}"))
        .unwrap_or_else(|refusals| panic!("create_number_order refused: {refusals:?}"))
}

async fn act(
    store: &DynStore,
    account: Option<AccountId>,
    id: NumberOrderId,
    action: NumberOrderAction,
    now: Timestamp,
) -> Result<NumberOrder, Error> {
    store
        .act_on_number_order(account, id, &action, now)
        .await
        .map(|o| o.unwrap_or_else(|| panic!("act_on_number_order({id}) found no order")))
}

fn registration(requirements: &NumberRequirements) -> Registration {
    Registration::parse(
        requirements,
        &json!({"businessName": "Acme Pty Ltd", "contactFirstName": "Jo", "contactLastName": "Citizen",
                "contactEmail": "jo@acme.com.au", "streetAddress": "1 George St", "city": "Sydney",
                "state": "NSW", "postalCode": "2000", "useCase": "TWO_WAY_SMS"}),
        "",
    )
    .unwrap_or_else(|e| panic!("the fixture registration is valid: {e:?}"))
}

fn attachment(order: &NumberOrder, content: &[u8], name: &str, now: Timestamp) -> NewAttachment {
    NewAttachment {
        meta: AttachmentMeta {
            attachment_id: order.requirements.attachments[0].id,
            file_name: name.into(),
            mime_type: "application/pdf".into(),
            document_type: Some("PASSPORT".into()),
            size_bytes: content.len() as u64,
            upload_status: UploadStatus::Completed,
            created_at: now,
            updated_at: now,
        },
        content: content.to_vec(),
    }
}

pub async fn number_requirements_store(store: DynStore) {
    assert_eq!(
        store
            .get_number_requirements("AU", NumberType::Mobile)
            .await
            .unwrap_or_else(|e| panic!("get_number_requirements failed: {e:?}")),
        None,
        "a fresh database stores no requirements (the built-in defaults live in the service)"
    );
    let au = au_requirements();
    let de = NumberRequirements::from_json(
        "DE",
        NumberType::Local,
        &json!({"fields": [{"name": "companyName", "required": true, "max_length": 10}]}),
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    for r in [&de, &au] {
        store
            .put_number_requirements(r, at(1))
            .await
            .unwrap_or_else(|e| panic!("put_number_requirements failed: {e:?}"));
    }
    let got = store
        .get_number_requirements("AU", NumberType::Mobile)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(got.as_ref(), Some(&au), "stored requirements round-trip");
    let mut changed = au.clone();
    changed.fields.truncate(1);
    changed.attachments.clear();
    store
        .put_number_requirements(&changed, at(2))
        .await
        .unwrap_or_else(|e| panic!("replacing requirements failed: {e:?}"));
    let listed = store
        .list_number_requirements()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(
        listed,
        vec![changed, de],
        "replaced in place; listed by region then type"
    );
    assert_eq!(
        store
            .get_number_requirements("AU", NumberType::Local)
            .await
            .unwrap_or_else(|e| panic!("{e:?}")),
        None,
        "keyed by region AND type"
    );
}

pub async fn number_order_lifecycle(store: DynStore) {
    let acme = new_account(&store, "Acme", at(0)).await;
    let globex = new_account(&store, "Globex", at(0)).await;
    import(
        &store,
        &[au_mobile("+61491570156"), au_mobile("+61491570157")],
        at(0),
    )
    .await;
    let (n1, n2) = (e164("+61491570156"), e164("+61491570157"));

    let seq = last_seq(&store).await;
    let new = new_order(acme, std::slice::from_ref(&n1), minutes(1));
    let order = create(&store, &new).await;
    assert_eq!(order.state, NumberOrderState::Created, "new order state");
    assert_eq!(
        (order.version, order.expire_at, order.reservation_id),
        (1, new.expire_at, new.reservation_id),
        "version, expiry and reservation id"
    );
    assert_eq!(order.numbers.len(), 1, "one ordered number");
    assert_eq!(order.numbers[0].e164, n1, "the ordered number");
    assert!(
        order.numbers[0].price.is_some(),
        "the number's price is kept"
    );
    let held = number(&store, &n1).await;
    assert_eq!(
        (
            held.state,
            held.owner,
            held.reservation_id,
            held.reserved_until
        ),
        (
            NumberState::Reserved,
            Some(acme),
            Some(new.reservation_id),
            Some(new.expire_at)
        ),
        "the number is reserved for the account until the order expires"
    );
    let reservation = store
        .get_reservation(acme, new.reservation_id)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"))
        .unwrap_or_else(|| panic!("the order's reservation exists"));
    assert_eq!(
        reservation.status,
        ReservationStatus::Active,
        "reservation active"
    );
    let events = events_since(&store, seq).await;
    assert_eq!(
        of_kind(&events, EventKind::NumberReserved).len(),
        1,
        "number.reserved"
    );
    let created = of_kind(&events, EventKind::NumberOrderCreated);
    assert_eq!(created.len(), 1, "number_order.created");
    assert_eq!(created[0].event.account_id, Some(acme), "event account");
    assert_eq!(
        created[0].event.details["number_order_id"],
        json!(order.id.to_string()),
        "event names the order"
    );

    // Another account cannot take the held number; the refusal writes nothing.
    let seq = last_seq(&store).await;
    let refused = store
        .create_number_order(&new_order(globex, &[n1.clone(), n2.clone()], minutes(2)))
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let Err(refusals) = refused else {
        panic!("an order for a number held by another account was created");
    };
    assert_eq!(
        refusals.len(),
        1,
        "only the held number is refused: {refusals:?}"
    );
    assert_eq!(refusals[0].0, n1, "the refused number");
    assert_eq!(
        number(&store, &n2).await.state,
        NumberState::Available,
        "all or nothing"
    );
    assert!(
        events_since(&store, seq).await.is_empty(),
        "no events for a refusal"
    );

    // Isolation.
    for (who, visible) in [(Some(acme), true), (Some(globex), false), (None, true)] {
        let got = store
            .get_number_order(who, order.id)
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(got.is_some(), visible, "visibility to {who:?}");
    }
    let wrong = store
        .set_number_order_registration(globex, order.id, &Registration::default(), minutes(3))
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(wrong.is_none(), "another account cannot register");

    // Submitting an incomplete order is refused, naming what is missing.
    match act(
        &store,
        Some(acme),
        order.id,
        NumberOrderAction::Submit,
        minutes(3),
    )
    .await
    {
        Err(Error::Validation(missing)) => {
            assert!(
                missing
                    .iter()
                    .any(|f| f.field == "registration.businessName"),
                "{missing:?}"
            );
        }
        other => panic!("incomplete submit: expected Validation, got {other:?}"),
    }

    let reg = registration(&order.requirements);
    let updated = store
        .set_number_order_registration(acme, order.id, &reg, minutes(4))
        .await
        .unwrap_or_else(|e| panic!("{e:?}"))
        .unwrap_or_else(|| panic!("registration of own order"));
    assert_eq!(
        updated.registration.as_ref(),
        Some(&reg),
        "registration kept"
    );
    assert_eq!(
        (updated.version, updated.updated_at),
        (2, minutes(4)),
        "registration bumps version"
    );

    let first = attachment(&order, b"%PDF-1.4 first", "passport.pdf", minutes(5));
    store
        .put_number_order_attachment(acme, order.id, &first, minutes(5))
        .await
        .unwrap_or_else(|e| panic!("{e:?}"))
        .unwrap_or_else(|| panic!("attachment of own order"));
    let second = attachment(
        &order,
        b"%PDF-1.4 second, better scan",
        "passport2.pdf",
        minutes(6),
    );
    let with_doc = store
        .put_number_order_attachment(acme, order.id, &second, minutes(6))
        .await
        .unwrap_or_else(|e| panic!("{e:?}"))
        .unwrap_or_else(|| panic!("attachment of own order"));
    assert_eq!(
        with_doc.attachments.len(),
        1,
        "a re-upload replaces the document"
    );
    let meta = &with_doc.attachments[0];
    assert_eq!(
        (
            meta.file_name.as_str(),
            meta.size_bytes,
            meta.created_at,
            meta.updated_at
        ),
        (
            "passport2.pdf",
            second.content.len() as u64,
            minutes(5),
            minutes(6)
        ),
        "replaced metadata keeps its first upload time"
    );
    let stored = store
        .get_number_order_attachment(None, order.id, meta.attachment_id)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"))
        .unwrap_or_else(|| panic!("the operator reads the document"));
    assert_eq!(stored.content, second.content, "bytes stored durably");
    assert_eq!(stored.meta, *meta, "metadata of the stored document");
    let hidden = store
        .get_number_order_attachment(Some(globex), order.id, meta.attachment_id)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(hidden.is_none(), "another account cannot read the document");
    let reread = store
        .get_number_order(Some(acme), order.id)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"))
        .unwrap_or_else(|| panic!("own order"));
    assert_eq!(reread, with_doc, "the order reads back as it was returned");

    let seq = last_seq(&store).await;
    let submitted = act(
        &store,
        Some(acme),
        order.id,
        NumberOrderAction::Submit,
        minutes(7),
    )
    .await
    .unwrap_or_else(|e| panic!("complete submit failed: {e:?}"));
    assert_eq!(
        (submitted.state, submitted.submitted_at),
        (NumberOrderState::InReview, Some(minutes(7))),
        "submitted"
    );
    assert_eq!(
        of_kind(
            &events_since(&store, seq).await,
            EventKind::NumberOrderInReview
        )
        .len(),
        1,
        "number_order.in_review"
    );
    let late = store
        .set_number_order_registration(acme, order.id, &reg, minutes(8))
        .await;
    expect_conflict(
        late,
        ConflictKind::NumberOrderNotEditable,
        "registration in review",
    );

    // Reject: numbers back on offer, reservation released, reason in the logs.
    let seq = last_seq(&store).await;
    let rejected = act(
        &store,
        None,
        order.id,
        NumberOrderAction::Reject {
            reason: "document unreadable".into(),
        },
        minutes(9),
    )
    .await
    .unwrap_or_else(|e| panic!("reject failed: {e:?}"));
    assert_eq!(rejected.state, NumberOrderState::Rejected, "rejected");
    assert_eq!(
        rejected.logs.last().map(|l| l.message.as_str()),
        Some("Rejected: document unreadable"),
        "reason logged"
    );
    let n = number(&store, &n1).await;
    assert_eq!(
        (n.state, n.owner, n.reservation_id),
        (NumberState::Available, None, None),
        "released"
    );
    let r = store
        .get_reservation(acme, new.reservation_id)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"))
        .unwrap_or_else(|| panic!("reservation"));
    assert_eq!(
        r.status,
        ReservationStatus::Released,
        "reservation released"
    );
    let events = events_since(&store, seq).await;
    assert_eq!(
        of_kind(&events, EventKind::NumberReservationReleased).len(),
        1,
        "number event"
    );
    let ev = of_kind(&events, EventKind::NumberOrderRejected);
    assert_eq!(ev.len(), 1, "number_order.rejected");
    assert_eq!(
        ev[0].event.resource_version, rejected.version,
        "event carries the order version"
    );
    assert!(
        events.last().map(|e| e.event.kind) == Some(EventKind::NumberOrderRejected),
        "the order's event comes after its numbers' events"
    );
    let again = act(
        &store,
        None,
        order.id,
        NumberOrderAction::Block { reason: "x".into() },
        minutes(10),
    )
    .await;
    expect_conflict(
        again,
        ConflictKind::NumberOrderState,
        "a final order cannot be blocked",
    );

    // Listing: newest first, by state and account, with a keyset.
    let second_order = create(
        &store,
        &new_order(globex, std::slice::from_ref(&n2), minutes(11)),
    )
    .await;
    let list = |filter: NumberOrderFilter| {
        let store = store.clone();
        async move {
            store
                .list_number_orders(&filter)
                .await
                .unwrap_or_else(|e| panic!("list_number_orders failed: {e:?}"))
                .iter()
                .map(|o| o.id)
                .collect::<Vec<_>>()
        }
    };
    let page = |states: Vec<NumberOrderState>, account: Option<AccountId>| NumberOrderFilter {
        account,
        states,
        page_size: 10,
        before: None,
    };
    assert_eq!(
        list(page(vec![], None)).await,
        vec![second_order.id, order.id],
        "newest first"
    );
    assert_eq!(
        list(page(vec![NumberOrderState::Created], None)).await,
        vec![second_order.id],
        "by state"
    );
    assert_eq!(
        list(page(vec![], Some(acme))).await,
        vec![order.id],
        "by account"
    );
    assert_eq!(
        list(NumberOrderFilter {
            page_size: 1,
            ..page(vec![], None)
        })
        .await,
        vec![second_order.id, order.id],
        "page_size + 1 rows"
    );
    assert_eq!(
        list(NumberOrderFilter {
            before: Some(second_order.id),
            ..page(vec![], None)
        })
        .await,
        vec![order.id],
        "keyset"
    );
}

pub async fn number_order_expiry(store: DynStore) {
    let acme = new_account(&store, "Acme", at(0)).await;
    import(
        &store,
        &[
            au_mobile("+61491570156"),
            au_mobile("+61491570157"),
            au_mobile("+61491570158"),
        ],
        at(0),
    )
    .await;
    let (n1, n2, n3) = (
        e164("+61491570156"),
        e164("+61491570157"),
        e164("+61491570158"),
    );
    let open = create(&store, &new_order(acme, std::slice::from_ref(&n1), at(0))).await;
    let blocked = create(&store, &new_order(acme, std::slice::from_ref(&n2), at(0))).await;
    act(
        &store,
        None,
        blocked.id,
        NumberOrderAction::Block {
            reason: "suspected fraud".into(),
        },
        minutes(1),
    )
    .await
    .unwrap_or_else(|e| panic!("block failed: {e:?}"));
    assert_eq!(
        number(&store, &n2).await.state,
        NumberState::Available,
        "blocking releases"
    );

    // An approval that ordered the numbers (reservation ORDERED) but had not yet recorded it.
    let approving_new = new_order(acme, std::slice::from_ref(&n3), at(0));
    let approving = create(&store, &approving_new).await;
    let mut order = explicit_order(acme, std::slice::from_ref(&n3), hours(1));
    order.reservation_ids = vec![approving_new.reservation_id];
    let core = place(&store, &order, hours(1)).await;
    assert_eq!(
        core.status,
        OrderStatus::Complete,
        "the approval's order completes"
    );

    let expire_at = open.expire_at;
    let n = store
        .expire_number_orders(expire_at - chrono::Duration::milliseconds(1), 100)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(n, 0, "nothing expires before its time");
    let seq = last_seq(&store).await;
    let n = store
        .expire_number_orders(expire_at, 100)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(
        n, 1,
        "only the open order expires (not the blocked one, not the ordered one)"
    );
    let expired = store
        .get_number_order(None, open.id)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"))
        .unwrap_or_else(|| panic!("order"));
    assert_eq!(expired.state, NumberOrderState::Expired, "expired");
    assert_eq!(
        expired.finished_at,
        Some(expire_at),
        "finished at the sweep"
    );
    let nn = number(&store, &n1).await;
    assert_eq!(
        (nn.state, nn.owner),
        (NumberState::Available, None),
        "expired order's number released"
    );
    let events = events_since(&store, seq).await;
    assert_eq!(
        of_kind(&events, EventKind::NumberReservationExpired).len(),
        1,
        "number event"
    );
    assert_eq!(
        of_kind(&events, EventKind::NumberOrderExpired).len(),
        1,
        "order event"
    );
    let r = store
        .get_reservation(acme, open.reservation_id)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"))
        .unwrap_or_else(|| panic!("reservation"));
    assert_eq!(
        r.status,
        ReservationStatus::Expired,
        "reservation expired with the order"
    );
    assert_eq!(
        store
            .expire_number_orders(expire_at + chrono::Duration::hours(1), 100)
            .await
            .unwrap_or_else(|e| panic!("{e:?}")),
        0,
        "a second sweep finds nothing"
    );
    let n3_now = number(&store, &n3).await;
    assert_eq!(
        (n3_now.state, n3_now.owner),
        (NumberState::Assigned, Some(acme)),
        "the ordered number stays assigned"
    );
    let still = store
        .get_number_order(None, approving.id)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"))
        .unwrap_or_else(|| panic!("order"));
    assert_eq!(
        still.state,
        NumberOrderState::Created,
        "left for the approval to finish"
    );
    expect_conflict(
        act(
            &store,
            Some(acme),
            open.id,
            NumberOrderAction::Submit,
            expire_at + chrono::Duration::hours(1),
        )
        .await,
        ConflictKind::NumberOrderExpired,
        "an expired order cannot be submitted",
    );
}
