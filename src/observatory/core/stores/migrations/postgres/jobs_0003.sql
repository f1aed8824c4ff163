-- Job store v3: indexes for job search (GET /jobs filters; core/stores/job_search.py).
-- meta.<key>=<value>: each top-level metadata pair in its text form (`->>`), ordered like a
-- jobs page, so a metadata search reads one index range in keyset order whatever the
-- value's frequency (a GIN on metadata has to fetch and sort every match). Keys over 64
-- and values over 200 characters are left out: no filter can ask for them.
CREATE TABLE IF NOT EXISTS job_meta (
    meta_key text NOT NULL,
    meta_value text NOT NULL,
    meta_created_at timestamptz NOT NULL,
    meta_job_id uuid NOT NULL,
    PRIMARY KEY (meta_key, meta_value, meta_created_at, meta_job_id)
);
INSERT INTO job_meta (meta_key, meta_value, meta_created_at, meta_job_id)
SELECT e.key, e.value, j.created_at, j.id
FROM jobs AS j, jsonb_each_text(j.metadata) AS e
WHERE e.value IS NOT NULL AND length(e.key) <= 64 AND length(e.value) <= 200
ON CONFLICT DO NOTHING;
-- updatedFrom/updatedTo.
CREATE INDEX IF NOT EXISTS jobs_updated_idx ON jobs (updated_at DESC, id DESC);
-- status and type together (the dashboard's usual pair), newest first.
CREATE INDEX IF NOT EXISTS jobs_status_type_created_idx
    ON jobs (status, type, created_at DESC, id DESC);
-- error text (`ILIKE '%...%'`): a trigram GIN when pg_trgm can be had. Without it (not
-- installed, or no right to create it) the search still answers, by scanning; the
-- migration must not fail for it.
DO $$
DECLARE
    trgm_schema text;
BEGIN
    SELECT extnamespace::regnamespace::text INTO trgm_schema
    FROM pg_extension WHERE extname = 'pg_trgm';
    IF trgm_schema IS NULL THEN
        BEGIN
            CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
            trgm_schema := 'public';
        EXCEPTION WHEN OTHERS THEN
            RAISE NOTICE 'pg_trgm unavailable (%): error search scans', SQLERRM;
        END;
    END IF;
    IF trgm_schema IS NOT NULL THEN
        EXECUTE format(
            'CREATE INDEX IF NOT EXISTS jobs_error_trgm_idx ON jobs USING gin (last_error %I.gin_trgm_ops)',
            trgm_schema);
    END IF;
END
$$;
