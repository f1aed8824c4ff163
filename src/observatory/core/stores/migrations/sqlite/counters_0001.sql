-- Embedded counters v1: values, applied-effect keys, and the latest event time.
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS counter_effects (key TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS counter_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
