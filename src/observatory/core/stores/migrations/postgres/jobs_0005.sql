-- Job store v5: keep job_meta's pages marked all-visible, so a metadata search reads its
-- index range alone (core/stores/postgres_job_search.py: one index entry per pair, no row).
-- job_meta is insert-mostly: PostgreSQL vacuums such a table after inserts reach 20 % of
-- it by default, which leaves up to a fifth of a large table unmarked, the newest jobs
-- (the ones searched most) among them, and each pair on an unmarked page costs a row read
-- (at 1,000,000 jobs, status+error+tenant, a tenant's 2,000 pairs: 10-13 ms a search
-- with its pages unmarked, 3.4-3.8 ms marked, on the benchmark's machine). Vacuum it
-- after 1 % instead; such a vacuum reads only the pages not yet marked.
ALTER TABLE job_meta SET (
    autovacuum_vacuum_insert_scale_factor = 0.01,
    autovacuum_vacuum_insert_threshold = 10000
);
