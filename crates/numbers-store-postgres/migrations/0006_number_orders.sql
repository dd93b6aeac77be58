-- KYC number orders (docs/NUMBER-ORDERS.md): requirements per (region, number type) set by the
-- operator, number orders holding a reservation while the tenant registers and uploads, and the
-- uploaded documents themselves (stored in the database, so a backup of the database is a
-- backup of the orders).

CREATE TABLE number_requirements (
    region_code TEXT COLLATE "C" NOT NULL,
    number_type TEXT COLLATE "C" NOT NULL,
    document    TEXT   NOT NULL, -- JSON of numbers_core::kyc::NumberRequirements
    updated_at  BIGINT NOT NULL,
    CONSTRAINT number_requirements_pkey PRIMARY KEY (region_code, number_type)
);

CREATE TABLE number_orders (
    id             TEXT COLLATE "C" NOT NULL CONSTRAINT number_orders_pkey PRIMARY KEY,
    account_id     TEXT COLLATE "C" NOT NULL,
    state          TEXT   NOT NULL,
    reservation_id TEXT COLLATE "C" NOT NULL CONSTRAINT number_orders_reservation_key UNIQUE,
    expire_at      BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    version        BIGINT NOT NULL,
    document       TEXT   NOT NULL -- JSON of numbers_core::number_order::NumberOrder, attachments left out
);
CREATE INDEX number_orders_account ON number_orders (account_id, id);
CREATE INDEX number_orders_state ON number_orders (state, expire_at);

CREATE TABLE number_order_attachments (
    number_order_id TEXT COLLATE "C" NOT NULL CONSTRAINT number_order_attachments_order_fkey REFERENCES number_orders (id),
    attachment_id   TEXT   NOT NULL,
    file_name       TEXT   NOT NULL,
    mime_type       TEXT   NOT NULL,
    document_type   TEXT   NULL,
    size_bytes      BIGINT NOT NULL,
    upload_status   TEXT   NOT NULL,
    content         BYTEA  NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    CONSTRAINT number_order_attachments_pkey PRIMARY KEY (number_order_id, attachment_id)
);
