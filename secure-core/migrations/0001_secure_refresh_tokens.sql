-- Refresh-token families and tokens (secure_core::auth::refresh).
-- The same SQL runs on SQLite and PostgreSQL. Tokens are stored as base64url(SHA-256(token)),
-- never raw. Times are seconds since the Unix epoch.
CREATE TABLE IF NOT EXISTS secure_refresh_families (
    family_id  TEXT PRIMARY KEY,
    subject    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX IF NOT EXISTS secure_refresh_families_subject
    ON secure_refresh_families (subject);
CREATE INDEX IF NOT EXISTS secure_refresh_families_expires_at
    ON secure_refresh_families (expires_at);

CREATE TABLE IF NOT EXISTS secure_refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    family_id  TEXT NOT NULL REFERENCES secure_refresh_families (family_id) ON DELETE CASCADE,
    issued_at  BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX IF NOT EXISTS secure_refresh_tokens_family_id
    ON secure_refresh_tokens (family_id);
