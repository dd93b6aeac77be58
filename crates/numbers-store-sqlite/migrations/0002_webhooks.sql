-- Webhooks: subscriptions, the fan-out cursor over the event log, deliveries (each with its
-- rendered request) and their attempt log. Portable types as in 0001; every constraint named.

CREATE TABLE webhook_subscriptions (
    id                          TEXT    NOT NULL CONSTRAINT webhook_subscriptions_pkey PRIMARY KEY,
    account_id                  TEXT    NOT NULL,
    url                         TEXT    NOT NULL,
    format                      TEXT    NOT NULL,
    format_config               TEXT    NOT NULL,
    event_types                 TEXT    NOT NULL,
    active                      BOOLEAN NOT NULL,
    secret                      TEXT    NOT NULL,
    previous_secret             TEXT    NULL,
    previous_secret_expires_at  BIGINT  NULL,
    disabled_reason             TEXT    NULL,
    created_at                  BIGINT  NOT NULL,
    updated_at                  BIGINT  NOT NULL,
    version                     BIGINT  NOT NULL
);
CREATE INDEX webhook_subscriptions_account ON webhook_subscriptions (account_id, id);

-- One row: the seq of the last event turned into deliveries. Starts at the newest event, so a
-- database that had events before webhooks existed does not send its history.
CREATE TABLE webhook_fanout (
    name      TEXT   NOT NULL CONSTRAINT webhook_fanout_pkey PRIMARY KEY,
    last_seq  BIGINT NOT NULL
);
INSERT INTO webhook_fanout (name, last_seq) SELECT 'events', COALESCE(MAX(seq), 0) FROM events;

CREATE TABLE webhook_deliveries (
    id                TEXT    NOT NULL CONSTRAINT webhook_deliveries_pkey PRIMARY KEY,
    dedupe_key        TEXT    NOT NULL CONSTRAINT webhook_deliveries_dedupe_key UNIQUE,
    subscription_id   TEXT    NULL,
    account_id        TEXT    NULL,
    event_seq         BIGINT  NOT NULL,
    event_id          TEXT    NOT NULL,
    event_type        TEXT    NOT NULL,
    url               TEXT    NOT NULL,
    target_key        TEXT    NOT NULL,
    format            TEXT    NOT NULL,
    format_config     TEXT    NOT NULL,
    signing_secret    TEXT    NULL,
    content_type      TEXT    NOT NULL,
    headers           TEXT    NOT NULL,
    body              TEXT    NOT NULL,
    status            TEXT    NOT NULL CONSTRAINT webhook_deliveries_status CHECK (status IN ('PENDING', 'SUCCEEDED', 'FAILED', 'CANCELLED')),
    attempts          BIGINT  NOT NULL,
    next_attempt_at   BIGINT  NOT NULL,
    lease_until       BIGINT  NULL,
    last_status_code  BIGINT  NULL,
    last_error        TEXT    NULL,
    created_at        BIGINT  NOT NULL,
    updated_at        BIGINT  NOT NULL,
    completed_at      BIGINT  NULL
);
-- Partial: the claim only ever looks at PENDING deliveries.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'PENDING';
CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, id);

CREATE TABLE webhook_attempts (
    delivery_id  TEXT   NOT NULL,
    attempt      BIGINT NOT NULL,
    at           BIGINT NOT NULL,
    status_code  BIGINT NULL,
    latency_ms   BIGINT NOT NULL,
    error        TEXT   NULL,
    CONSTRAINT webhook_attempts_pkey PRIMARY KEY (delivery_id, attempt)
);
