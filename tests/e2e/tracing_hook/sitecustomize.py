"""Loaded by a child Python whose PYTHONPATH starts here: at exit it writes the
OpenTelemetry modules it imported, and the system's own tracing modules, to the file
ODTO_TEST_MODULES_REPORT names, so a test can see what a whole system loaded.
Test-only: the system never reads this variable."""

from __future__ import annotations

import atexit
import json
import os
import sys


def _report() -> None:
    prefixes = ("opentelemetry", "observatory.core.tracing")
    loaded = sorted(name for name in sys.modules if name.startswith(prefixes))
    with open(os.environ["ODTO_TEST_MODULES_REPORT"], "w", encoding="utf-8") as report:
        json.dump(loaded, report)


if os.environ.get("ODTO_TEST_MODULES_REPORT"):
    atexit.register(_report)
