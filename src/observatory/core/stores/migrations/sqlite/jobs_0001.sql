-- Job store v1 (SQLite): timestamps are RFC 3339 UTC text, which sorts in time order.
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    status TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}',
    metadata TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    completed_at TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    run INTEGER NOT NULL DEFAULT 1,
    last_error TEXT,
    event_id TEXT,
    correlation_id TEXT
);
CREATE INDEX IF NOT EXISTS jobs_created_idx ON jobs (created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS jobs_status_created_idx ON jobs (status, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS jobs_type_created_idx ON jobs (type, created_at DESC, id DESC);
CREATE TABLE IF NOT EXISTS job_attempts (
    job_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    outcome TEXT,
    error TEXT,
    PRIMARY KEY (job_id, attempt)
);
