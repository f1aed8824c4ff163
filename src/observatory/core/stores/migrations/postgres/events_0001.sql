-- Event store v1: whole envelopes, unique on eventId; dead letters keyed by content hash.
CREATE TABLE IF NOT EXISTS job_events (
    seq bigserial,
    event_id uuid PRIMARY KEY,
    job_id text,
    event_type text NOT NULL,
    occurred_at timestamptz NOT NULL,
    envelope json NOT NULL
);
CREATE INDEX IF NOT EXISTS job_events_job_idx ON job_events (job_id, occurred_at, seq);
CREATE INDEX IF NOT EXISTS job_events_time_idx ON job_events (occurred_at DESC, seq DESC);
CREATE TABLE IF NOT EXISTS dead_letters (
    seq bigserial PRIMARY KEY,
    key text NOT NULL UNIQUE,
    rejected_at timestamptz NOT NULL DEFAULT now(),
    document json NOT NULL
);
