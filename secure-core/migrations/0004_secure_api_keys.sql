-- API keys of accounts (secure_core::accounts): machine clients calling scoped routes.
-- The same SQL runs on SQLite and PostgreSQL. A key is stored as the SHA-256 of it, never as
-- given; its id (the first 8 characters of its random part) is public and finds the row.
CREATE TABLE IF NOT EXISTS secure_api_keys (
    id           TEXT PRIMARY KEY,
    owner_id     TEXT NOT NULL REFERENCES secure_accounts (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    -- base64url(SHA-256(key))
    key_hash     TEXT NOT NULL,
    -- scope wire names, space-separated
    scopes       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    revoked_at   BIGINT,
    last_used_at BIGINT
);
CREATE INDEX IF NOT EXISTS secure_api_keys_owner_id ON secure_api_keys (owner_id);
