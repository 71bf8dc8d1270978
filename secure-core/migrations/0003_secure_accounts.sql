-- Accounts (secure_core::accounts): users, their second factors and their sign-ins.
-- The same SQL runs on SQLite and PostgreSQL: text ids (base64url of 16 random bytes),
-- integer Unix seconds, no booleans. Secrets are stored sealed (TOTP) or hashed (passwords,
-- recovery codes), never as given.
CREATE TABLE IF NOT EXISTS secure_accounts (
    id                 TEXT PRIMARY KEY,
    username           TEXT NOT NULL UNIQUE,
    email              TEXT NOT NULL,
    password_hash      TEXT NOT NULL,
    -- role wire names, space-separated
    roles              TEXT NOT NULL,
    -- raised by every change of credentials: sign-ins recorded under an older value end
    credential_version BIGINT NOT NULL,
    -- the confirmed TOTP secret, sealed with the data key; NULL while MFA is off
    totp_secret        TEXT,
    -- a secret from enrolment, sealed, waiting for its first code
    totp_pending       TEXT,
    -- the last accepted TOTP time step (replay protection)
    totp_last_step     BIGINT,
    created_at         BIGINT NOT NULL
);

-- single-use recovery codes, salted hashes (never the codes)
CREATE TABLE IF NOT EXISTS secure_account_recovery_codes (
    id        TEXT PRIMARY KEY,
    user_id   TEXT NOT NULL REFERENCES secure_accounts (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS secure_account_recovery_codes_user_id
    ON secure_account_recovery_codes (user_id);

-- how the sign-in that started a refresh-token family authenticated: a refreshed access
-- token keeps its `amr` and `auth_time`, and ends with the credentials it was made under
CREATE TABLE IF NOT EXISTS secure_account_signins (
    family_id          TEXT PRIMARY KEY,
    user_id            TEXT NOT NULL REFERENCES secure_accounts (id) ON DELETE CASCADE,
    -- authentication methods, space-separated (RFC 8176 names)
    amr                TEXT NOT NULL,
    auth_time          BIGINT NOT NULL,
    credential_version BIGINT NOT NULL,
    created_at         BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS secure_account_signins_user_id
    ON secure_account_signins (user_id);

-- password reset tokens: base64url(SHA-256(token)), single-use, short-lived
CREATE TABLE IF NOT EXISTS secure_account_resets (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES secure_accounts (id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX IF NOT EXISTS secure_account_resets_expires_at
    ON secure_account_resets (expires_at);
