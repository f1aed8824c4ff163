-- Event store v2 (SQLite): dead-letter state for replays (SPEC §13), the queue and reason
-- as columns so they can be filtered.
ALTER TABLE dead_letters ADD COLUMN state TEXT NOT NULL DEFAULT 'new';
ALTER TABLE dead_letters ADD COLUMN queue TEXT;
ALTER TABLE dead_letters ADD COLUMN reason TEXT NOT NULL DEFAULT '';
ALTER TABLE dead_letters ADD COLUMN replay_key TEXT;
ALTER TABLE dead_letters ADD COLUMN replay_error TEXT;
ALTER TABLE dead_letters ADD COLUMN state_at TEXT;
UPDATE dead_letters SET reason = coalesce(json_extract(document, '$.validation_error'), '');
CREATE INDEX IF NOT EXISTS dead_letters_state_idx ON dead_letters (state, seq DESC);
CREATE INDEX IF NOT EXISTS dead_letters_replay_key_idx ON dead_letters (replay_key);
-- Audit entries (who did what), and the jobs each one touched (for the job's timeline).
CREATE TABLE IF NOT EXISTS audit_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    occurred_at TEXT NOT NULL,
    entry TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_jobs (
    job_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (job_id, seq)
);
