-- Job store v3 (SQLite): indexes for job search (core/stores/job_search.py).
CREATE INDEX IF NOT EXISTS jobs_updated_idx ON jobs (updated_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS jobs_status_type_created_idx
    ON jobs (status, type, created_at DESC, id DESC);
