-- Cookie sessions (secure_core::session). The same SQL runs on SQLite and PostgreSQL.
-- Sessions are keyed by base64url(SHA-256(session id)), never the raw id. roles and amr are
-- JSON arrays of strings. Times are seconds since the Unix epoch.
CREATE TABLE IF NOT EXISTS secure_sessions (
    id_hash    TEXT PRIMARY KEY,
    subject    TEXT NOT NULL,
    roles      TEXT NOT NULL,
    amr        TEXT NOT NULL,
    auth_time  BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS secure_sessions_subject ON secure_sessions (subject);
CREATE INDEX IF NOT EXISTS secure_sessions_last_seen ON secure_sessions (last_seen);
CREATE INDEX IF NOT EXISTS secure_sessions_created_at ON secure_sessions (created_at);
