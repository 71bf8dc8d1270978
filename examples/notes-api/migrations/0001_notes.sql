-- notes-api tables. The same SQL runs on SQLite and PostgreSQL: text ids (base64url of 16
-- random bytes), integer Unix seconds, no booleans or database-specific types.
-- The refresh-token and session tables belong to secure-core (its stores migrate them).

CREATE TABLE IF NOT EXISTS users (
    id             TEXT PRIMARY KEY,
    username       TEXT NOT NULL UNIQUE,
    email          TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL,
    -- the confirmed TOTP secret (base32); NULL while MFA is off
    totp_secret    TEXT,
    -- a secret from /auth/mfa/enroll, waiting for its first code
    totp_pending   TEXT,
    -- the last accepted TOTP time step (replay protection)
    totp_last_step BIGINT,
    created_at     BIGINT NOT NULL
);

-- single-use recovery codes, salted SHA-256 (never the codes)
CREATE TABLE IF NOT EXISTS recovery_codes (
    id        TEXT PRIMARY KEY,
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS recovery_codes_user_id ON recovery_codes (user_id);

-- how the login that started a refresh-token family authenticated, so a refreshed access
-- token keeps its `amr` and `auth_time` instead of losing the second factor
CREATE TABLE IF NOT EXISTS login_families (
    family_id  TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    mfa        BIGINT NOT NULL,
    auth_time  BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS login_families_created_at ON login_families (created_at);

CREATE TABLE IF NOT EXISTS notes (
    id         TEXT PRIMARY KEY,
    owner_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS notes_owner_id ON notes (owner_id, created_at);
