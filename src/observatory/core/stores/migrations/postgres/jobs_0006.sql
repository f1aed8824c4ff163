-- Job store v6: the metadata pairs of finished jobs under their final status, so a search
-- by a final status and metadata (the failed jobs of one tenant) reads one index range of
-- its own (core/stores/postgres_job_search.py). Through job_meta alone such a search met
-- every job of the value and looked each row up for its status: at 10,000,000 jobs a
-- tenant's 20,000 rows, 115 ms a search, to find none. Written once, when a job reaches
-- COMPLETED, FAILED or CANCELLED (a job's final status does not change but by a rerun,
-- whose rows then stay behind: the search checks each row's status, so such a row is
-- skipped, never shown). In-flight statuses are few rows at any time: the jobs' own
-- status index serves them (the probe).
CREATE TABLE IF NOT EXISTS job_meta_final (
    meta_key text NOT NULL,
    meta_value text NOT NULL,
    meta_status text NOT NULL,
    meta_created_at timestamptz NOT NULL,
    meta_job_id uuid NOT NULL,
    PRIMARY KEY (meta_key, meta_value, meta_status, meta_created_at, meta_job_id)
);
INSERT INTO job_meta_final (meta_key, meta_value, meta_status, meta_created_at, meta_job_id)
SELECT m.meta_key, m.meta_value, j.status, m.meta_created_at, m.meta_job_id
FROM job_meta AS m JOIN jobs AS j ON j.id = m.meta_job_id AND j.created_at = m.meta_created_at
WHERE j.status IN ('COMPLETED', 'FAILED', 'CANCELLED')
ON CONFLICT DO NOTHING;
-- insert-mostly like job_meta (jobs_0005): kept all-visible for index-only reads
ALTER TABLE job_meta_final SET (
    autovacuum_vacuum_insert_scale_factor = 0.01,
    autovacuum_vacuum_insert_threshold = 10000
);
