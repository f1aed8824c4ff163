-- Embedded counters v2: the time-series buckets (core/stores/series.py), one row per
-- (level, bucket start, field); `depth` is set, every other field added to.
CREATE TABLE IF NOT EXISTS series_buckets (
    level INTEGER NOT NULL,
    start INTEGER NOT NULL,
    field TEXT NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (level, start, field)
) WITHOUT ROWID;
