-- Event store v2: dead-letter state for replays (SPEC §13), the queue and reason as
-- columns so they can be filtered.
ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS state text NOT NULL DEFAULT 'new';
ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS queue text;
ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS reason text NOT NULL DEFAULT '';
ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS replay_key text;
ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS replay_error text;
ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS state_at timestamptz;
UPDATE dead_letters SET reason = coalesce(document->>'validation_error', '');
CREATE INDEX IF NOT EXISTS dead_letters_state_idx ON dead_letters (state, seq DESC);
CREATE INDEX IF NOT EXISTS dead_letters_replay_key_idx ON dead_letters (replay_key);
-- Audit entries (who did what), and the jobs each one touched (for the job's timeline).
CREATE TABLE IF NOT EXISTS audit_events (
    seq bigserial PRIMARY KEY,
    event_id uuid NOT NULL UNIQUE,
    occurred_at timestamptz NOT NULL,
    entry json NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_jobs (
    job_id text NOT NULL,
    seq bigint NOT NULL,
    PRIMARY KEY (job_id, seq)
);
