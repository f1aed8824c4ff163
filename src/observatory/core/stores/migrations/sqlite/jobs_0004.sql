-- Job store v4 (SQLite): nothing to add. PostgreSQL's v4 is a GIN on jobs.metadata for
-- narrowed metadata searches; SQLite checks metadata row by row (odto_meta_text). The file
-- keeps both engines' job store versions in step.
SELECT 1;
