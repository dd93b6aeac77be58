-- numbersd schema for SQLite: the logical schema of docs/STORE-SEMANTICS.md with portable column
-- types (TEXT ids, BIGINT epoch milliseconds, TEXT JSON). Every constraint is named so errors
-- can be recognised by name.

CREATE TABLE accounts (
    id          TEXT   NOT NULL CONSTRAINT accounts_pkey PRIMARY KEY,
    name        TEXT   NOT NULL,
    status      TEXT   NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX accounts_created_at ON accounts (created_at, id);

CREATE TABLE api_keys (
    key_id       TEXT    NOT NULL CONSTRAINT api_keys_pkey PRIMARY KEY,
    account_id   TEXT    NULL CONSTRAINT api_keys_account_fkey REFERENCES accounts (id),
    is_operator  BOOLEAN NOT NULL,
    secret_hash  TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    revoked_at   BIGINT  NULL
);
CREATE INDEX api_keys_account ON api_keys (account_id, created_at);

CREATE TABLE numbers (
    id                     TEXT    NOT NULL CONSTRAINT numbers_pkey PRIMARY KEY,
    e164                   TEXT    NOT NULL CONSTRAINT numbers_e164_key UNIQUE,
    national               TEXT    NOT NULL,
    country                TEXT    NOT NULL,
    number_type            TEXT    NOT NULL,
    capabilities           INTEGER NOT NULL,
    classification         TEXT    NOT NULL,
    rate_center            TEXT    NULL,
    state_code             TEXT    NULL,
    city                   TEXT    NULL,
    lata                   TEXT    NULL,
    zip                    TEXT    NULL,
    tier                   INTEGER NULL,
    vendor_id              TEXT    NULL,
    vendor_name            TEXT    NULL,
    setup_price_micros     BIGINT  NULL,
    monthly_price_micros   BIGINT  NULL,
    currency               TEXT    NULL,
    protected              BOOLEAN NOT NULL,
    state                  TEXT    NOT NULL,
    owner_account_id       TEXT    NULL,
    last_owner_account_id  TEXT    NULL,
    assignment_id          TEXT    NULL,
    reservation_id         TEXT    NULL,
    reserved_until         BIGINT  NULL,
    available_after        BIGINT  NULL,
    assigned_at            BIGINT  NULL,
    available_from         BIGINT  NULL,
    assignment             TEXT    NOT NULL,
    created_at             BIGINT  NOT NULL,
    updated_at             BIGINT  NOT NULL,
    version                BIGINT  NOT NULL
);
-- Search walks this in E.164 order, skipping what is held.
CREATE INDEX numbers_available_e164 ON numbers (e164) WHERE available_from IS NOT NULL;
CREATE INDEX numbers_national ON numbers (national);
-- Partial: only held numbers have an owner, so a bulk import of AVAILABLE numbers skips it.
CREATE INDEX numbers_owner_e164 ON numbers (owner_account_id, e164) WHERE owner_account_id IS NOT NULL;
-- Partial: only the aging sweep reads it, and it only looks at AGING numbers.
CREATE INDEX numbers_aging ON numbers (state, available_after) WHERE state = 'AGING';

CREATE TABLE assignments (
    id           TEXT   NOT NULL CONSTRAINT assignments_pkey PRIMARY KEY,
    number_id    TEXT   NOT NULL,
    account_id   TEXT   NOT NULL,
    order_id     TEXT   NULL,
    created_at   BIGINT NOT NULL,
    released_at  BIGINT NULL
);
-- The database-level guarantee that a number is never sold twice.
CREATE UNIQUE INDEX assignments_one_live_per_number ON assignments (number_id) WHERE released_at IS NULL;

CREATE TABLE reservations (
    id          TEXT   NOT NULL CONSTRAINT reservations_pkey PRIMARY KEY,
    account_id  TEXT   NOT NULL,
    numbers     TEXT   NOT NULL,
    status      TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX reservations_active_expiry ON reservations (expires_at) WHERE status = 'ACTIVE';

CREATE TABLE orders (
    id                   TEXT    NOT NULL CONSTRAINT orders_pkey PRIMARY KEY,
    account_id           TEXT    NOT NULL,
    status               TEXT    NOT NULL,
    request              TEXT    NOT NULL,
    partial_allowed      BOOLEAN NOT NULL,
    backorder_requested  BOOLEAN NOT NULL,
    reservation_ids      TEXT    NOT NULL,
    template             TEXT    NOT NULL,
    name                 TEXT    NULL,
    customer_order_id    TEXT    NULL,
    idempotency_key      TEXT    NULL,
    request_fingerprint  TEXT    NOT NULL,
    dialect_data         TEXT    NOT NULL,
    created_at           BIGINT  NOT NULL,
    updated_at           BIGINT  NOT NULL,
    completed_at         BIGINT  NULL,
    closed               BOOLEAN NOT NULL,
    lease_until          BIGINT  NULL,
    version              BIGINT  NOT NULL,
    CONSTRAINT orders_idempotency_key UNIQUE (account_id, idempotency_key)
);
CREATE INDEX orders_account_created ON orders (account_id, created_at DESC, id DESC);
CREATE INDEX orders_status_created ON orders (status, created_at, id);

CREATE TABLE order_items (
    order_id   TEXT    NOT NULL,
    seq        INTEGER NOT NULL,
    e164       TEXT    NULL,
    number_id  TEXT    NULL,
    outcome    TEXT    NOT NULL CONSTRAINT order_items_outcome CHECK (outcome IN ('COMPLETED', 'FAILED')),
    code       TEXT    NULL,
    message    TEXT    NULL,
    CONSTRAINT order_items_pkey PRIMARY KEY (order_id, seq)
);

CREATE TABLE events (
    seq               INTEGER NOT NULL CONSTRAINT events_pkey PRIMARY KEY AUTOINCREMENT,
    id                TEXT    NOT NULL CONSTRAINT events_id_key UNIQUE,
    kind              TEXT    NOT NULL,
    at                BIGINT  NOT NULL,
    account_id        TEXT    NULL,
    number_id         TEXT    NULL,
    e164              TEXT    NULL,
    order_id          TEXT    NULL,
    reservation_id    TEXT    NULL,
    resource_version  BIGINT  NOT NULL,
    details           TEXT    NOT NULL
);
CREATE INDEX events_e164_seq ON events (e164, seq);
CREATE INDEX events_account_seq ON events (account_id, seq);
CREATE INDEX events_order_seq ON events (order_id, seq);
