-- Sites and SIP peers (Bandwidth's sub-accounts and locations), disconnect orders and order
-- notes. Numeric ids for sites, peers and notes, as Bandwidth's.

CREATE TABLE sites (
    id INTEGER CONSTRAINT sites_pkey PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL CONSTRAINT sites_account_fkey REFERENCES accounts(id),
    name TEXT NOT NULL,
    description TEXT NULL,
    customer_name TEXT NULL,
    customer_provided_id TEXT NULL,
    address TEXT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX sites_account ON sites (account_id, id);

CREATE TABLE sip_peers (
    id INTEGER CONSTRAINT sip_peers_pkey PRIMARY KEY AUTOINCREMENT,
    site_id BIGINT NOT NULL CONSTRAINT sip_peers_site_fkey REFERENCES sites(id),
    account_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NULL,
    is_default BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT sip_peers_site_name_key UNIQUE (site_id, name)
);
-- At most one default peer per site: the default-peer rule relies on it.
CREATE UNIQUE INDEX sip_peers_one_default_per_site ON sip_peers (site_id) WHERE is_default;

CREATE TABLE disconnects (
    id TEXT NOT NULL CONSTRAINT disconnects_pkey PRIMARY KEY,
    account_id TEXT NOT NULL,
    status TEXT NOT NULL,
    numbers TEXT NOT NULL,
    mode TEXT NOT NULL,
    protected TEXT NOT NULL,
    name TEXT NULL,
    customer_order_id TEXT NULL,
    items TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    completed_at BIGINT NULL
);
CREATE INDEX disconnects_account ON disconnects (account_id, created_at, id);
CREATE INDEX disconnects_waiting ON disconnects (created_at, id) WHERE status = 'RECEIVED';

CREATE TABLE order_notes (
    id INTEGER CONSTRAINT order_notes_pkey PRIMARY KEY AUTOINCREMENT,
    order_id TEXT NOT NULL CONSTRAINT order_notes_order_fkey REFERENCES orders(id),
    account_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX order_notes_order ON order_notes (order_id, id);
