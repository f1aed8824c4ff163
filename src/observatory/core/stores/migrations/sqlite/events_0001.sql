-- Event store v1 (SQLite).
CREATE TABLE IF NOT EXISTS job_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    job_id TEXT,
    event_type TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    envelope TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS job_events_job_idx ON job_events (job_id, occurred_at, seq);
CREATE INDEX IF NOT EXISTS job_events_time_idx ON job_events (occurred_at, seq);
CREATE TABLE IF NOT EXISTS dead_letters (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    rejected_at TEXT NOT NULL,
    document TEXT NOT NULL
);
