-- Lists come back in creation order: Unix seconds tie for two rows made in one second (the
-- random id then decided), so rows also carry microseconds from a clock that never repeats
-- within an instance (db::creation_micros). Rows made before this keep their second.
ALTER TABLE notes ADD COLUMN created_us BIGINT NOT NULL DEFAULT 0;
UPDATE notes SET created_us = created_at * 1000000;
DROP INDEX IF EXISTS notes_owner_id;
CREATE INDEX IF NOT EXISTS notes_owner_created ON notes (owner_id, created_us);

ALTER TABLE users ADD COLUMN created_us BIGINT NOT NULL DEFAULT 0;
UPDATE users SET created_us = created_at * 1000000;
