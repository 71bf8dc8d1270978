-- Accounts move to secure-core's accounts module (its migration made secure_accounts and
-- the tables beside it before this one runs). The same SQL runs on SQLite and PostgreSQL.

-- Every user, with their password hash (kept: nobody needs a new password), role, and
-- second factor. TOTP secrets were sealed for this app's rows; they are sealed again for the
-- accounts' at the next start (src/upgrade.rs), listed here until then.
INSERT INTO secure_accounts (id, username, email, password_hash, roles, credential_version,
                             totp_secret, totp_pending, totp_last_step, created_at)
    SELECT id, username, email, password_hash, role, 0,
           totp_secret, totp_pending, totp_last_step, created_at
    FROM users;
INSERT INTO secure_account_recovery_codes (id, user_id, code_hash)
    SELECT id, user_id, code_hash FROM recovery_codes;

CREATE TABLE notes_totp_to_reseal (
    user_id TEXT PRIMARY KEY REFERENCES secure_accounts (id) ON DELETE CASCADE
);
INSERT INTO notes_totp_to_reseal (user_id)
    SELECT id FROM users WHERE totp_secret IS NOT NULL OR totp_pending IS NOT NULL;

-- Notes belong to accounts now: the table again, its owner referring to secure_accounts.
CREATE TABLE notes_owned (
    id         TEXT PRIMARY KEY,
    owner_id   TEXT NOT NULL REFERENCES secure_accounts (id) ON DELETE CASCADE,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    created_us BIGINT NOT NULL
);
INSERT INTO notes_owned (id, owner_id, title, body, created_at, updated_at, created_us)
    SELECT id, owner_id, title, body, created_at, updated_at, created_us FROM notes;
DROP TABLE notes;
ALTER TABLE notes_owned RENAME TO notes;
CREATE INDEX IF NOT EXISTS notes_owner_created ON notes (owner_id, created_us);

-- Sign-ins made before have no record the accounts could keep their `auth_time` from: their
-- refresh tokens are refused at their next use, and their sessions end here. Everyone signs
-- in once more.
DELETE FROM secure_sessions;
DROP TABLE login_families;
DROP TABLE recovery_codes;
DROP TABLE users;
