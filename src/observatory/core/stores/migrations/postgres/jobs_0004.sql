-- Job store v4: a narrowed metadata search (meta.<key>=<value> with status, type, error...)
-- on a value held by few jobs. job_meta finds those jobs but not their status or error:
-- each one cost a row lookup (2,000 for one tenant of 500 at 1,000,000 jobs). A GIN on the
-- metadata (containment, jsonb_path_ops: one hash per path and value, small) gives their
-- row addresses at once, and PostgreSQL ANDs them with the status or error indexes before
-- reading a row (core/stores/postgres_job_search.py, `_contained_page`).
CREATE INDEX IF NOT EXISTS jobs_metadata_idx ON jobs USING gin (metadata jsonb_path_ops);
