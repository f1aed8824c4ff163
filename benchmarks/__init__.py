"""Benchmarks of the Task Observatory against PERFORMANCE.md, with a Celery baseline."""
