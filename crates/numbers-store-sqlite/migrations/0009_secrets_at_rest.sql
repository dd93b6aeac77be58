-- Secrets at rest (docs/SECURITY.md): webhook secrets, format configurations (Bandwidth callback
-- passwords) and callback HMAC secrets are stored sealed (`enc:v1:<key id>:…`). This row names the
-- key the last complete re-seal pass left every one of them sealed with; NULL until the first
-- pass, since a database from before sealing holds them in clear: the first start with a server
-- secret seals them in place.
CREATE TABLE secrets_at_rest (
    name        TEXT    NOT NULL CONSTRAINT secrets_at_rest_pkey PRIMARY KEY,
    key_id      TEXT    NULL,
    updated_at  BIGINT  NOT NULL
);
INSERT INTO secrets_at_rest (name, key_id, updated_at) VALUES ('sealed_with', NULL, 0);
