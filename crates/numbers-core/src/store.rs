//! The storage contract. Methods are coarse: one call is one transaction that performs a whole
//! business step together with the events it produces. Transactions never cross this trait.
//! Where a step needs a domain decision (may this account take this number? is the order
//! complete, partial, backordered?) the store locks the rows and asks the pure functions of this
//! crate (`Number::claimable_by`, `order::plan_*`), so both databases apply the same rules.
//!
//! Every implementation must pass `numbers-store-conformance`.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::account::{Account, ApiKey, KeyOwner};
use crate::callback::HmacSecret;
use crate::clock::Timestamp;
use crate::disconnect::{Disconnect, NewDisconnect};
use crate::emergency::EmergencyAddress;
use crate::error::{ConflictKind, Error, Result};
use crate::event::Event;
use crate::ids::{
    AccountId, AssignmentId, DisconnectId, NumberId, NumberOrderId, OrderId, ProvisioningId,
    ReservationId,
};
use crate::kyc::{NumberRequirements, Registration};
use crate::note::{NoteText, OrderNote};
use crate::number::assignment::AssignmentPatch;
use crate::number::{E164, NewNumber, Number, NumberType};
use crate::number_order::{
    NewAttachment, NewNumberOrder, NumberOrder, NumberOrderAction, NumberOrderFilter,
};
use crate::order::{NewOrder, Order, OrderStatus};
use crate::provisioning::{ProvisioningOutcome, ProvisioningRequest, ProvisioningTask};
use crate::reservation::{NewReservation, Reservation};
use crate::search::{CapabilityFilter, DigitPattern, SearchQuery};
use crate::service::AgingPolicy;
use crate::site::{PeerFields, SipPeer, Site, SiteFields};
use crate::token::StoredToken;
use crate::webhook::WebhookStore;

#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Creates the account and its first key together.
    async fn create_account(&self, account: &Account, first_key: &ApiKey) -> Result<()>;
    async fn get_account(&self, id: AccountId) -> Result<Option<Account>>;
    async fn list_accounts(&self) -> Result<Vec<Account>>;
    /// `Conflict` if the key id exists.
    async fn insert_api_key(&self, key: &ApiKey) -> Result<()>;
    async fn find_api_key(&self, key_id: &str) -> Result<Option<ApiKey>>;
    async fn list_api_keys(&self, owner: KeyOwner) -> Result<Vec<ApiKey>>;
    /// False if there was no such live key.
    async fn revoke_api_key(&self, key_id: &str, at: Timestamp) -> Result<bool>;
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportOutcome {
    pub inserted: u64,
    /// Numbers already in the inventory, left untouched.
    pub existing: Vec<E164>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryStats {
    pub total: u64,
    pub available: u64,
    pub reserved: u64,
    pub assigned: u64,
    pub aging: u64,
}

/// Filters over an account's own (ASSIGNED) numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NumberFilter {
    pub label: Option<String>,
    pub metadata: Option<(String, String)>,
    pub country: Option<String>,
    pub types: Vec<NumberType>,
    pub capabilities: CapabilityFilter,
    pub pattern: Option<DigitPattern>,
    pub display_name: Option<String>,
    pub number_id: Option<NumberId>,
    pub classification: Option<crate::number::Classification>,
    pub page_size: u32,
    /// Keyset: E.164 of the last number of the previous page.
    pub after: Option<String>,
}

/// How much reading one search may do. A search walks one index in E.164 order and stops after
/// a page, so most read a few dozen entries; one whose other facets match little of what the
/// index narrows to (a rare capability within a state…) may read many before it fills a page.
/// The budget bounds that, so that no search can hold a connection for long: searches start
/// `Quick`, and the few that need more run again `Thorough`, a few at a time
/// (`Service::search`). The sizes are `SearchLimits`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchBudget {
    Quick,
    Thorough,
}

/// The two search budgets, in rows read. Each store turns rows into what it can enforce:
/// SQLite counts virtual-machine instructions (a progress handler), PostgreSQL, which cannot
/// count the rows a statement reads, sets a statement timeout of so many microseconds per row
/// (each store's docs say how many).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchLimits {
    /// A page of an ordinary search reads under a hundred rows.
    pub quick_rows: u64,
    pub thorough_rows: u64,
}

impl Default for SearchLimits {
    fn default() -> Self {
        SearchLimits {
            quick_rows: 20_000,
            thorough_rows: 400_000,
        }
    }
}

impl SearchLimits {
    pub fn rows(&self, budget: SearchBudget) -> u64 {
        match budget {
            SearchBudget::Quick => self.quick_rows,
            SearchBudget::Thorough => self.thorough_rows,
        }
    }
}

#[async_trait]
pub trait InventoryStore: Send + Sync {
    /// Inserts the numbers not yet in the inventory as AVAILABLE from `at`, in one transaction,
    /// with one `number.imported` event for the batch.
    async fn import_numbers(&self, numbers: &[NewNumber], at: Timestamp) -> Result<ImportOutcome>;
    /// Up to `page_size + 1` numbers matching the query and publicly available at `now`
    /// (`Number::is_publicly_available`), in E.164 order after `query.after`, with the
    /// `Thorough` budget.
    async fn search_available(&self, query: &SearchQuery, now: Timestamp) -> Result<Vec<Number>> {
        self.search_available_within(query, now, SearchBudget::Thorough)
            .await
    }
    /// `search_available`, giving up with `Error::OverLimit(Limit::SearchTooBroad)` once the
    /// search has read more than `budget` allows.
    async fn search_available_within(
        &self,
        query: &SearchQuery,
        now: Timestamp,
        budget: SearchBudget,
    ) -> Result<Vec<Number>>;
    async fn get_number(&self, e164: &E164) -> Result<Option<Number>>;
    async fn get_number_by_id(&self, id: NumberId) -> Result<Option<Number>>;
    /// Up to `page_size + 1` numbers ASSIGNED to the account, in E.164 order after `filter.after`.
    async fn list_account_numbers(
        &self,
        account: AccountId,
        filter: &NumberFilter,
    ) -> Result<Vec<Number>>;
    async fn inventory_stats(&self) -> Result<InventoryStats>;
}

/// Why a reservation could not be made: every refused number with its reason.
pub use crate::reservation::ReservationRefusals;

#[async_trait]
pub trait ReservationStore: Send + Sync {
    /// All or nothing: every number becomes RESERVED for the account, or none does and the
    /// refusals say why (checked with `Number::claimable_by` and no reservation ids).
    async fn create_reservation(
        &self,
        reservation: &NewReservation,
    ) -> Result<std::result::Result<Reservation, ReservationRefusals>>;
    async fn get_reservation(
        &self,
        account: AccountId,
        id: ReservationId,
    ) -> Result<Option<Reservation>>;
    /// Returns its still-reserved numbers to AVAILABLE. `None` if unknown to this account;
    /// `Conflict` if it is no longer active.
    async fn release_reservation(
        &self,
        account: AccountId,
        id: ReservationId,
        now: Timestamp,
    ) -> Result<Option<Reservation>>;
    /// Expires up to `limit` reservations whose time has passed; returns how many.
    async fn expire_reservations(&self, now: Timestamp, limit: u32) -> Result<u32>;
}

#[derive(Debug, Clone, PartialEq)]
pub enum CreatedOrder {
    Created(Order),
    /// The idempotency key was used before with the same request: that order.
    Existing(Order),
}

impl CreatedOrder {
    /// The answer to `new` when its idempotency key already names `existing`: that order if the
    /// request is the same, a conflict if it differs.
    pub fn repeated(existing: Order, new: &NewOrder) -> Result<CreatedOrder> {
        if existing.new.request_fingerprint == new.request_fingerprint {
            Ok(CreatedOrder::Existing(existing))
        } else {
            Err(Error::conflict(
                ConflictKind::IdempotencyKeyReused,
                "this idempotency key was already used with a different request",
            ))
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderFilter {
    pub statuses: Vec<OrderStatus>,
    pub created_from: Option<Timestamp>,
    pub created_to: Option<Timestamp>,
    pub customer_order_id: Option<String>,
    pub page_size: u32,
    /// Keyset: id of the last order of the previous page (orders are listed newest first).
    pub before: Option<OrderId>,
}

#[async_trait]
pub trait OrderStore: Send + Sync {
    /// Stores a RECEIVED order with its `order.received` event. With an idempotency key already
    /// used by the account: the earlier order if the fingerprint matches, `Conflict` otherwise.
    async fn create_order(&self, order: &NewOrder) -> Result<CreatedOrder>;
    /// `account = None` is the operator's view.
    async fn get_order(&self, account: Option<AccountId>, id: OrderId) -> Result<Option<Order>>;
    /// Newest first, up to `page_size + 1`.
    async fn list_orders(&self, account: AccountId, filter: &OrderFilter) -> Result<Vec<Order>>;
    /// Moves the oldest RECEIVED order (or a PROCESSING one whose lease ran out) to PROCESSING
    /// with a lease until `lease_until`; safe with several processes (SKIP LOCKED).
    async fn claim_next_order(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Option<OrderId>>;
    /// Ids of BACKORDERED orders, oldest first, to be retried.
    async fn backordered_orders(&self, limit: u32) -> Result<Vec<OrderId>>;
    /// One fulfilment attempt in one transaction (see `order::plan_explicit` / `plan_search`).
    /// A final order is returned unchanged. `Conflict` of kind `Retry` (`Error::is_retry`) asks the caller to retry.
    async fn fulfil_order(&self, id: OrderId, now: Timestamp) -> Result<Order>;
    /// Stops a BACKORDERED order from waiting (`order::status_after_close`). `Conflict` if the
    /// order is not backordered.
    async fn close_backorder(
        &self,
        account: AccountId,
        id: OrderId,
        now: Timestamp,
    ) -> Result<Option<Order>>;
}

#[async_trait]
pub trait NumberStore: Send + Sync {
    /// Applies the patch to a number ASSIGNED to the account; `NotFound` otherwise.
    async fn update_assignment(
        &self,
        account: AccountId,
        e164: &E164,
        patch: &AssignmentPatch,
        now: Timestamp,
    ) -> Result<Number>;
    /// ASSIGNED → AGING until `available_after` (or straight to AVAILABLE when that is not in
    /// the future); clears the assignment data; the account stays `last_owner`.
    async fn release_number(
        &self,
        account: AccountId,
        e164: &E164,
        available_after: Timestamp,
        now: Timestamp,
    ) -> Result<Number>;
    /// AGING numbers whose time has come become AVAILABLE (up to `limit`); returns how many.
    async fn age_numbers(&self, now: Timestamp, limit: u32) -> Result<u32>;
}

/// An uploaded document with its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAttachment {
    pub meta: crate::number_order::AttachmentMeta,
    pub content: Vec<u8>,
}

/// KYC requirements and number orders (`kyc`, `number_order`). Each change locks the order row
/// and asks the order's own methods (`set_registration`, `put_attachment`, `apply`) whether and
/// how it may change, so the rules live in the core; the stores persist the outcome, move the
/// reserved numbers where `apply` says, and append the order's state event in the same
/// transaction.
#[async_trait]
pub trait NumberOrderStore: Send + Sync {
    /// Inserts or replaces the requirements of their (region, type).
    async fn put_number_requirements(
        &self,
        requirements: &NumberRequirements,
        at: Timestamp,
    ) -> Result<()>;
    async fn get_number_requirements(
        &self,
        region_code: &str,
        number_type: NumberType,
    ) -> Result<Option<NumberRequirements>>;
    /// Every stored set, by region then type.
    async fn list_number_requirements(&self) -> Result<Vec<NumberRequirements>>;
    /// Reserves `order.numbers` exactly like `create_reservation` (all or nothing, same events,
    /// reservation id `order.reservation_id`, expiry `order.expire_at`) and stores the CREATED
    /// order with its `number_order.created` event, in one transaction. Refusals write nothing.
    async fn create_number_order(
        &self,
        order: &NewNumberOrder,
    ) -> Result<std::result::Result<NumberOrder, ReservationRefusals>>;
    /// `account = None` is the operator's view. Attachments carry metadata only.
    async fn get_number_order(
        &self,
        account: Option<AccountId>,
        id: NumberOrderId,
    ) -> Result<Option<NumberOrder>>;
    /// Newest first (id descending), up to `page_size + 1`.
    async fn list_number_orders(&self, filter: &NumberOrderFilter) -> Result<Vec<NumberOrder>>;
    /// `NumberOrder::set_registration` on the locked row; `None` if not the account's.
    async fn set_number_order_registration(
        &self,
        account: AccountId,
        id: NumberOrderId,
        registration: &Registration,
        now: Timestamp,
    ) -> Result<Option<NumberOrder>>;
    /// `NumberOrder::put_attachment` on the locked row, storing the bytes (replacing an earlier
    /// upload for the same attachment id); `None` if not the account's.
    async fn put_number_order_attachment(
        &self,
        account: AccountId,
        id: NumberOrderId,
        attachment: &NewAttachment,
        now: Timestamp,
    ) -> Result<Option<NumberOrder>>;
    async fn get_number_order_attachment(
        &self,
        account: Option<AccountId>,
        id: NumberOrderId,
        attachment_id: uuid::Uuid,
    ) -> Result<Option<StoredAttachment>>;
    /// `NumberOrder::apply(action, now)` on the locked row; then returns the reservation's
    /// still-reserved numbers when the effect says so (as `release_reservation` /
    /// `expire_reservations` do, with their events), saves the order and appends its state
    /// event. `None` if unknown (to this account, when given).
    async fn act_on_number_order(
        &self,
        account: Option<AccountId>,
        id: NumberOrderId,
        action: &NumberOrderAction,
        now: Timestamp,
    ) -> Result<Option<NumberOrder>>;
    /// Expires up to `limit` CREATED / IN_REVIEW orders whose `expire_at <= now` (skipping any
    /// whose reservation is ORDERED: an approval already assigned its numbers and will complete
    /// it); returns how many.
    async fn expire_number_orders(&self, now: Timestamp, limit: u32) -> Result<u32>;
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    pub account: Option<AccountId>,
    pub e164: Option<E164>,
    pub order: Option<OrderId>,
    pub after_seq: Option<i64>,
    pub limit: u32,
}

#[async_trait]
pub trait EventStore: Send + Sync {
    /// Events in `seq` order after `after_seq`, at most `limit`.
    async fn list_events(&self, filter: &EventFilter) -> Result<Vec<Event>>;
}

#[async_trait]
pub trait HealthStore: Send + Sync {
    /// A trivial round trip: is the database answering?
    async fn ping(&self) -> Result<()>;
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
}

/// Sites and SIP peers of an account (Bandwidth's sub-accounts and locations). Every call is
/// scoped to the account: another account's site answers like a missing one.
#[async_trait]
pub trait SiteStore: Send + Sync {
    async fn create_site(
        &self,
        account: AccountId,
        fields: &SiteFields,
        now: Timestamp,
    ) -> Result<Site>;
    async fn get_site(&self, account: AccountId, id: i64) -> Result<Option<Site>>;
    /// By id.
    async fn list_sites(&self, account: AccountId) -> Result<Vec<Site>>;
    /// Replaces the fields; `None` if unknown.
    async fn update_site(
        &self,
        account: AccountId,
        id: i64,
        fields: &SiteFields,
        now: Timestamp,
    ) -> Result<Option<Site>>;
    /// False if unknown; `Conflict` of kind `SiteHasPeers` while it has peers.
    async fn delete_site(&self, account: AccountId, id: i64) -> Result<bool>;
    /// `None` if the site is unknown. The peer becomes the site's default per
    /// `site::becomes_default` (the previous default stops being one); a name already used in the
    /// site is `Conflict` of kind `PeerNameTaken`.
    async fn create_peer(
        &self,
        account: AccountId,
        site_id: i64,
        fields: &PeerFields,
        now: Timestamp,
    ) -> Result<Option<SipPeer>>;
    /// One peer of the site, as `list_peers` lists it.
    async fn get_peer(
        &self,
        account: AccountId,
        site_id: i64,
        peer_id: i64,
    ) -> Result<Option<SipPeer>> {
        let peers = self.list_peers(account, site_id).await?;
        Ok(peers.and_then(|peers| peers.into_iter().find(|p| p.id == peer_id)))
    }
    /// By id; `None` if the site is unknown.
    async fn list_peers(&self, account: AccountId, site_id: i64) -> Result<Option<Vec<SipPeer>>>;
    /// Replaces the fields, with the same default rule as creation (the site's other peers count).
    async fn update_peer(
        &self,
        account: AccountId,
        site_id: i64,
        peer_id: i64,
        fields: &PeerFields,
        now: Timestamp,
    ) -> Result<Option<SipPeer>>;
    /// False if unknown. Deleting the default peer leaves the site without one.
    async fn delete_peer(&self, account: AccountId, site_id: i64, peer_id: i64) -> Result<bool>;
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DisconnectFilter {
    pub statuses: Vec<OrderStatus>,
    pub created_from: Option<Timestamp>,
    pub created_to: Option<Timestamp>,
    pub page_size: u32,
    /// Keyset: id of the last disconnect of the previous page (newest first).
    pub before: Option<DisconnectId>,
}

#[async_trait]
pub trait DisconnectStore: Send + Sync {
    /// Stores a RECEIVED disconnect with its `disconnect.received` event.
    async fn create_disconnect(&self, disconnect: &NewDisconnect) -> Result<Disconnect>;
    async fn get_disconnect(
        &self,
        account: AccountId,
        id: DisconnectId,
    ) -> Result<Option<Disconnect>>;
    /// Newest first (created_at DESC, id DESC), up to `page_size + 1`.
    async fn list_disconnects(
        &self,
        account: AccountId,
        filter: &DisconnectFilter,
    ) -> Result<Vec<Disconnect>>;
    /// Takes the oldest RECEIVED disconnect (SKIP LOCKED) and processes it whole in one
    /// transaction: each number, locked in E.164 order, is released as `release_number` does
    /// (with `disconnect::plan_number` deciding, its protected flag changed as asked, and a
    /// `number.released` event whose details carry `disconnect_id`) or recorded as failed; the
    /// status becomes `disconnect::final_status`, with a `disconnect.completed|partial|failed`
    /// event. `None` when nothing was waiting.
    async fn process_next_disconnect(
        &self,
        aging: &AgingPolicy,
        now: Timestamp,
    ) -> Result<Option<Disconnect>>;
}

/// A paged list whose total is asked for: its filter's statuses, creation dates (and, for
/// orders, customer order id) count; its `page_size` and `before` do not.
#[derive(Debug, Clone, Copy)]
pub enum Counted<'a> {
    Orders(&'a OrderFilter),
    Disconnects(&'a DisconnectFilter),
}

/// Totals of the paged lists (Bandwidth's `TotalCount`), counted by the database in one query
/// instead of by reading every page.
#[async_trait]
pub trait CountStore: Send + Sync {
    /// How many of the account's orders or disconnects the filter matches.
    async fn count(&self, account: AccountId, what: Counted<'_>) -> Result<u64>;
}

#[async_trait]
pub trait OrderNoteStore: Send + Sync {
    /// `None` if the order is not the account's. Appends an `order.note_added` event.
    async fn add_order_note(
        &self,
        account: AccountId,
        order: OrderId,
        text: &NoteText,
        now: Timestamp,
    ) -> Result<Option<OrderNote>>;
    /// Oldest first; `None` if the order is not the account's.
    async fn list_order_notes(
        &self,
        account: AccountId,
        order: OrderId,
    ) -> Result<Option<Vec<OrderNote>>>;
}

/// OAuth2 access tokens, kept as hashes (see `token`).
#[async_trait]
pub trait TokenStore: Send + Sync {
    async fn insert_access_token(&self, token: &StoredToken) -> Result<()>;
    async fn find_access_token(&self, token_hash: &str) -> Result<Option<StoredToken>>;
    /// Deletes up to `limit` tokens that expired before `before`; returns how many.
    async fn prune_access_tokens(&self, before: Timestamp, limit: u32) -> Result<u32>;
}

/// Per-account callback settings (see `callback`).
#[async_trait]
pub trait CallbackSecretStore: Send + Sync {
    async fn get_callback_secret(&self, account: AccountId) -> Result<Option<HmacSecret>>;
    /// Sets or replaces the account's secret.
    async fn set_callback_secret(
        &self,
        account: AccountId,
        secret: &HmacSecret,
        now: Timestamp,
    ) -> Result<()>;
}

/// Where a re-seal pass is: which stored secret field, and the last row key done in it. Opaque
/// to everyone but the store that handed it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResealCursor {
    pub field: u32,
    pub after: String,
}

/// What one page of a re-seal pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResealPage {
    /// Stored secrets looked at.
    pub examined: u64,
    /// Written before sealing existed (in clear), now sealed.
    pub sealed: u64,
    /// Sealed with another (previous) key, now sealed with the current one.
    pub resealed: u64,
    /// Where the next page starts; `None` when the pass is complete.
    pub next: Option<ResealCursor>,
}

/// Secrets at rest (see `sealing`): a store seals every secret field it writes with its
/// `SecretBox` and opens it when reading, so callers only ever see plaintext. These calls bring
/// what was stored earlier — in clear, or under a previous key — under the current key, and
/// remember which key a complete pass left everything under (so a start-up pass runs once).
#[async_trait]
pub trait SecretStore: Send + Sync {
    /// The id of the key this store seals with (`None`: no server secret, nothing is sealed).
    fn sealing_key_id(&self) -> Option<String>;
    /// Seals with the current key every stored secret not yet sealed with it, among the next
    /// `limit` rows from `from` (the beginning when `None`), in one transaction. A value that
    /// changed between reading and writing is left as the writer made it (sealed).
    async fn reseal_secrets(&self, from: Option<&ResealCursor>, limit: u32) -> Result<ResealPage>;
    /// The key the last complete pass left every stored secret sealed with.
    async fn secrets_sealed_with(&self) -> Result<Option<String>>;
    async fn set_secrets_sealed_with(&self, key_id: &str, now: Timestamp) -> Result<()>;
    /// After a pass that replaced values: drops the replaced copies the database keeps in its own
    /// files where it can (SQLite rewrites the file and empties its WAL; PostgreSQL keeps old row
    /// versions until their space is reused — docs/SECURITY.md says how to drop them).
    async fn compact_after_reseal(&self) -> Result<()>;
}

/// The provisioning queue (see `provisioning`).
#[async_trait]
pub trait ProvisioningStore: Send + Sync {
    /// On a number ASSIGNED to the account (`NotFound` otherwise): applies `patch` (event
    /// `number.updated` when not empty), cancels the unfinished tasks of the same holding and
    /// channel as each request, and inserts one WAITING task per request (event
    /// `number.provisioning_requested` each). The number's version moves once.
    async fn schedule_provisioning(
        &self,
        account: AccountId,
        e164: &E164,
        patch: &AssignmentPatch,
        requests: &[ProvisioningRequest],
        now: Timestamp,
    ) -> Result<(Number, Vec<ProvisioningTask>)>;
    /// Takes the oldest WAITING task (or IN_PROGRESS one whose lease ran out): IN_PROGRESS until
    /// `lease_until`, attempts + 1. A task whose holding has ended is CANCELLED on the way.
    /// Safe with several processes (SKIP LOCKED).
    async fn claim_provisioning(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Option<ProvisioningTask>>;
    /// Records the outcome of an IN_PROGRESS task: SUCCEEDED applies its configuration to the
    /// number (`provisioning::apply_succeeded`, event `number.provisioned`); FAILED keeps the
    /// error codes (event `number.provisioning_failed`); both move the number's version. A task
    /// that is no longer IN_PROGRESS (superseded meanwhile) → `Ok(None)`, nothing written; a task
    /// whose holding ended → CANCELLED.
    async fn complete_provisioning(
        &self,
        id: ProvisioningId,
        outcome: &ProvisioningOutcome,
        now: Timestamp,
    ) -> Result<Option<ProvisioningTask>>;
    /// Every task of these holdings, oldest first.
    async fn provisioning_tasks(
        &self,
        assignments: &[AssignmentId],
    ) -> Result<Vec<ProvisioningTask>>;
}

/// Aggregate reads over the inventory.
#[async_trait]
pub trait CatalogStore: Send + Sync {
    /// The distinct (country, type) pairs of numbers publicly available at `now`, sorted.
    async fn available_regions(&self, now: Timestamp) -> Result<Vec<(String, NumberType)>>;
    /// How many numbers `list_account_numbers` would list over all pages (`page_size` and
    /// `after` are ignored).
    async fn count_account_numbers(&self, account: AccountId, filter: &NumberFilter)
    -> Result<u64>;
}

/// Loading millions of numbers into an empty inventory. Maintaining every search index row by
/// row costs several random B-tree writes per number; building an index once at the end is a
/// sort. Only the search indexes are set aside (never a constraint: the unique E.164 still
/// de-duplicates), only while the inventory is empty at the start, and searches stay correct
/// without them (slower). A store rebuilds missing search indexes when it opens, so a load that
/// died half-way heals at the next start.
#[async_trait]
pub trait BulkLoadStore: Send + Sync {
    /// Before a bulk import: sets the search indexes aside if the inventory is empty; answers
    /// whether it did.
    async fn begin_bulk_load(&self) -> Result<bool>;
    /// After it (also after a failed one): builds whatever search index is missing.
    async fn finish_bulk_load(&self) -> Result<()>;
}

/// Emergency (E911) addresses of assigned numbers (`crate::emergency`). An address belongs to
/// the number's current assignment: it is kept with the assignment's id, so once the number is
/// released (or assigned anew) the old address is no longer seen, without the release having to
/// know about addresses; the next `put` replaces the stale row.
#[async_trait]
pub trait EmergencyAddressStore: Send + Sync {
    /// The address of `e164` while it is assigned to `account`, under its current assignment.
    async fn get_emergency_address(
        &self,
        account: AccountId,
        e164: &E164,
    ) -> Result<Option<EmergencyAddress>>;
    /// Sets the address in one transaction with the check that `e164` is assigned to `account`;
    /// `false` (nothing written) when it is not.
    async fn put_emergency_address(
        &self,
        account: AccountId,
        e164: &E164,
        address: &EmergencyAddress,
        now: Timestamp,
    ) -> Result<bool>;
    /// Removes the address of the current assignment; `false` when there was none.
    async fn delete_emergency_address(&self, account: AccountId, e164: &E164) -> Result<bool>;
}

/// Everything numbersd needs from a database.
pub trait Store:
    AccountStore
    + BulkLoadStore
    + InventoryStore
    + ReservationStore
    + OrderStore
    + NumberStore
    + EventStore
    + HealthStore
    + NumberOrderStore
    + SiteStore
    + DisconnectStore
    + OrderNoteStore
    + TokenStore
    + CallbackSecretStore
    + SecretStore
    + ProvisioningStore
    + CatalogStore
    + WebhookStore
    + EmergencyAddressStore
    + CountStore
{
}

impl<T> Store for T where
    T: AccountStore
        + BulkLoadStore
        + InventoryStore
        + ReservationStore
        + OrderStore
        + NumberStore
        + EventStore
        + HealthStore
        + NumberOrderStore
        + SiteStore
        + DisconnectStore
        + OrderNoteStore
        + TokenStore
        + CallbackSecretStore
        + SecretStore
        + ProvisioningStore
        + CatalogStore
        + WebhookStore
        + EmergencyAddressStore
        + CountStore
{
}
