-- Job store v4: a search from an updatedFrom reads its update range from the index alone
-- (core/stores/postgres_job_search.py, `_updated_page`): jobs_updated_idx carries each
-- job's created_at, so the range's matches are sorted by creation without visiting their
-- rows (at 10,000,000 jobs an hour's range is ~14,000 rows).
DROP INDEX IF EXISTS jobs_updated_idx;
CREATE INDEX jobs_updated_idx ON jobs (updated_at DESC, id DESC) INCLUDE (created_at);
