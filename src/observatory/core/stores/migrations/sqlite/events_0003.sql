-- Event store v3 (SQLite): retention removes old audit entries (SPEC §13) in batches, oldest
-- first, with the links that file them under jobs.
CREATE INDEX IF NOT EXISTS audit_events_occurred_at_idx ON audit_events (occurred_at);
CREATE INDEX IF NOT EXISTS audit_jobs_seq_idx ON audit_jobs (seq);
