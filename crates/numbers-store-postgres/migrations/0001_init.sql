-- numbersd schema for PostgreSQL: the portable schema of docs/STORE-SEMANTICS.md.
-- Every integer column is BIGINT so the store binds i64 everywhere (tokio-postgres checks types
-- strictly). Text that is compared by range or ordered (E.164, national digits, ids) uses the "C"
-- collation so ordering is byte-wise, as in SQLite, whatever the database's default collation is:
-- the prefix ranges of numbers_store_sql (`col >= 'p' AND col < 'p;'`) depend on it.

CREATE TABLE accounts (
    id TEXT COLLATE "C" NOT NULL CONSTRAINT accounts_pkey PRIMARY KEY,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX accounts_created ON accounts (created_at, id);

CREATE TABLE api_keys (
    key_id TEXT COLLATE "C" NOT NULL CONSTRAINT api_keys_pkey PRIMARY KEY,
    account_id TEXT COLLATE "C" NULL CONSTRAINT api_keys_account_fkey REFERENCES accounts (id),
    is_operator BOOLEAN NOT NULL,
    secret_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT NULL
);
CREATE INDEX api_keys_account ON api_keys (account_id, created_at);

CREATE TABLE numbers (
    id TEXT COLLATE "C" NOT NULL CONSTRAINT numbers_pkey PRIMARY KEY,
    e164 TEXT COLLATE "C" NOT NULL CONSTRAINT numbers_e164_key UNIQUE,
    national TEXT COLLATE "C" NOT NULL,
    country TEXT NOT NULL,
    number_type TEXT NOT NULL,
    capabilities BIGINT NOT NULL,
    classification TEXT NOT NULL,
    rate_center TEXT NULL,
    state_code TEXT NULL,
    city TEXT NULL,
    lata TEXT NULL,
    zip TEXT NULL,
    tier BIGINT NULL,
    vendor_id TEXT NULL,
    vendor_name TEXT NULL,
    setup_price_micros BIGINT NULL,
    monthly_price_micros BIGINT NULL,
    currency TEXT NULL,
    protected BOOLEAN NOT NULL,
    state TEXT NOT NULL,
    owner_account_id TEXT COLLATE "C" NULL,
    last_owner_account_id TEXT COLLATE "C" NULL,
    assignment_id TEXT COLLATE "C" NULL,
    reservation_id TEXT COLLATE "C" NULL,
    reserved_until BIGINT NULL,
    available_after BIGINT NULL,
    assigned_at BIGINT NULL,
    available_from BIGINT NULL,
    assignment TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX numbers_offered ON numbers (e164) WHERE available_from IS NOT NULL;
CREATE INDEX numbers_national ON numbers (national);
-- Partial, so each index holds only the rows its query can want: imported numbers (no
-- owner, AVAILABLE) skip both indexes, which makes bulk imports markedly faster.
CREATE INDEX numbers_owner ON numbers (owner_account_id, e164) WHERE owner_account_id IS NOT NULL;
CREATE INDEX numbers_aging ON numbers (state, available_after) WHERE state = 'AGING';
-- Reservations return / mark ORDERED by looking up the numbers held under them.
CREATE INDEX numbers_reservation ON numbers (reservation_id) WHERE reservation_id IS NOT NULL;

CREATE TABLE assignments (
    id TEXT COLLATE "C" NOT NULL CONSTRAINT assignments_pkey PRIMARY KEY,
    number_id TEXT COLLATE "C" NOT NULL,
    account_id TEXT COLLATE "C" NOT NULL,
    order_id TEXT COLLATE "C" NULL,
    created_at BIGINT NOT NULL,
    released_at BIGINT NULL
);
-- The database-level guarantee that a number is never sold twice.
CREATE UNIQUE INDEX assignments_one_live_per_number ON assignments (number_id) WHERE released_at IS NULL;

CREATE TABLE reservations (
    id TEXT COLLATE "C" NOT NULL CONSTRAINT reservations_pkey PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL,
    numbers TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX reservations_expiry ON reservations (status, expires_at);

CREATE TABLE orders (
    id TEXT COLLATE "C" NOT NULL CONSTRAINT orders_pkey PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL,
    status TEXT NOT NULL,
    request TEXT NOT NULL,
    partial_allowed BOOLEAN NOT NULL,
    backorder_requested BOOLEAN NOT NULL,
    reservation_ids TEXT NOT NULL,
    template TEXT NOT NULL,
    name TEXT NULL,
    customer_order_id TEXT NULL,
    idempotency_key TEXT NULL,
    request_fingerprint TEXT NOT NULL,
    dialect_data TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    completed_at BIGINT NULL,
    closed BOOLEAN NOT NULL,
    lease_until BIGINT NULL,
    version BIGINT NOT NULL,
    CONSTRAINT orders_idempotency_key UNIQUE (account_id, idempotency_key)
);
CREATE INDEX orders_account ON orders (account_id, created_at DESC, id DESC);
CREATE INDEX orders_queue ON orders (status, created_at, id);

CREATE TABLE order_items (
    order_id TEXT COLLATE "C" NOT NULL,
    seq BIGINT NOT NULL,
    e164 TEXT COLLATE "C" NULL,
    number_id TEXT COLLATE "C" NULL,
    outcome TEXT NOT NULL,
    code TEXT NULL,
    message TEXT NULL,
    CONSTRAINT order_items_pkey PRIMARY KEY (order_id, seq)
);

CREATE TABLE events (
    seq BIGSERIAL CONSTRAINT events_pkey PRIMARY KEY,
    id TEXT COLLATE "C" NOT NULL CONSTRAINT events_id_key UNIQUE,
    kind TEXT NOT NULL,
    at BIGINT NOT NULL,
    account_id TEXT COLLATE "C" NULL,
    number_id TEXT COLLATE "C" NULL,
    e164 TEXT COLLATE "C" NULL,
    order_id TEXT COLLATE "C" NULL,
    reservation_id TEXT COLLATE "C" NULL,
    resource_version BIGINT NOT NULL,
    details TEXT NOT NULL
);
CREATE INDEX events_e164 ON events (e164, seq);
CREATE INDEX events_account ON events (account_id, seq);
CREATE INDEX events_order ON events (order_id, seq);
