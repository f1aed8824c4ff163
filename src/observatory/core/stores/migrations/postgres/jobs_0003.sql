-- Job store v3: indexes for job search (GET /jobs filters; core/stores/job_search.py).
-- metadata `@>` (meta.<key>=<value>): jsonb_path_ops is the smaller, faster GIN for `@>`.
CREATE INDEX IF NOT EXISTS jobs_metadata_idx ON jobs USING gin (metadata jsonb_path_ops);
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
