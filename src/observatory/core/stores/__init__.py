"""Storage ports (job store, counters, event store) and their adapters."""
