"""The Celery baseline of PERFORMANCE.md: RabbitMQ broker with publisher confirms, Redis
results, a task that inserts one PostgreSQL row and a no-op task.

The worker imports this module (`celery -A benchmarks.celery_app worker`) and builds its
app from BENCH_* variables; the benchmark builds the client side with `make_app`.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery  # type: ignore[import-untyped]  # celery ships no type information

TABLE_SQL = """
CREATE TABLE IF NOT EXISTS "{ns}".celery_jobs (
    id text PRIMARY KEY,
    created_at timestamptz NOT NULL,
    done_at timestamptz NOT NULL DEFAULT clock_timestamp()
)
"""

_connection: Any = None


def queue_name(ns: str) -> str:
    return f"{ns}.celery"


def make_app(ns: str, broker: str, backend: str, postgres: str) -> Celery:
    app = Celery(f"bench-{ns}", broker=broker, backend=backend)
    app.conf.update(
        task_default_queue=queue_name(ns),
        task_default_exchange=queue_name(ns),
        task_default_routing_key=queue_name(ns),
        broker_transport_options={"confirm_publish": True},
        broker_pool_limit=64,
        broker_connection_retry_on_startup=True,
        result_backend_transport_options={"global_keyprefix": f"{ns}:"},
        result_expires=3600,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        worker_enable_remote_control=False,
        worker_send_task_events=False,
        worker_hijack_root_logger=False,
    )

    @app.task(name="bench.insert_row")  # type: ignore[untyped-decorator]  # celery is untyped
    def insert_row(job_id: str, created_at: str) -> None:
        global _connection
        if _connection is None:
            import psycopg

            _connection = psycopg.connect(postgres, autocommit=True)
        _connection.execute(
            f'INSERT INTO "{ns}".celery_jobs (id, created_at) VALUES (%s, %s)', (job_id, created_at)
        )

    @app.task(name="bench.noop")  # type: ignore[untyped-decorator]  # celery is untyped
    def noop(job_id: str, created_at: str) -> None:
        return None

    return app


def _from_env() -> Celery | None:
    ns = os.environ.get("BENCH_NS")
    if not ns:
        return None
    return make_app(
        ns, os.environ["BENCH_BROKER"], os.environ["BENCH_BACKEND"], os.environ["BENCH_POSTGRES"]
    )


app = _from_env()
