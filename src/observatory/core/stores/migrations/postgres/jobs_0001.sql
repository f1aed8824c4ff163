-- Job store v1: the seed's columns plus attempts, run, last_error, completed_at.
CREATE TABLE IF NOT EXISTS jobs (
    id uuid PRIMARY KEY,
    type text NOT NULL,
    status text NOT NULL,
    payload jsonb NOT NULL DEFAULT '{}'::jsonb,
    metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    attempts integer NOT NULL DEFAULT 0,
    run integer NOT NULL DEFAULT 1,
    last_error text,
    event_id uuid,
    correlation_id text
);
CREATE INDEX IF NOT EXISTS jobs_created_idx ON jobs (created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS jobs_status_created_idx ON jobs (status, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS jobs_type_created_idx ON jobs (type, created_at DESC, id DESC);
CREATE TABLE IF NOT EXISTS job_attempts (
    job_id uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    attempt integer NOT NULL,
    started_at timestamptz NOT NULL,
    finished_at timestamptz,
    outcome text,
    error text,
    PRIMARY KEY (job_id, attempt)
);
