#!/usr/bin/env python3
"""Container health check of the task-observatory image (Docker HEALTHCHECK, compose).

One image serves five services, so the check finds out which one this container runs:
the service named after `serve` on PID 1's command line (`odto serve processor`), or
`ODTO_SERVICE` when set. It GETs `http://127.0.0.1:<port><path>` with a short timeout and
exits 0 on HTTP 200, 1 otherwise. The port is the service's `<NAME>_PORT` variable (as
`odto serve` reads it) or its standard port. A container that serves nothing (the TUI, a
one-off command) has nothing to check and reports healthy.

Usage: odto-healthcheck [--path /healthz|/readyz] [--timeout SECONDS]
Standard library only: it runs every few seconds and must start fast.
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

# Mirrors observatory.core.settings.DEFAULT_PORTS (a unit test keeps them equal); not
# imported, because importing the package would cost more than the check itself.
STANDARD_PORTS = {
    "gateway": 3000,
    "processor": 8000,
    "metrics-engine": 8090,
    "read-model": 8080,
    "web": 8081,
}
CMDLINE = Path("/proc/1/cmdline")


def service_from_cmdline(raw: bytes) -> str | None:
    """The service after `serve` in a NUL-separated command line, if it is one of ours."""
    args = [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]
    for index, arg in enumerate(args[:-1]):
        if arg == "serve" and args[index + 1] in STANDARD_PORTS:
            return args[index + 1]
    return None


def port_of(service: str, env: Mapping[str, str]) -> int:
    """The port `service` listens on: `<NAME>_PORT` (e.g. READ_MODEL_PORT) or the standard."""
    value = env.get(service.upper().replace("-", "_") + "_PORT", "")
    return int(value) if value.strip() else STANDARD_PORTS[service]


def check(url: str, timeout: float) -> tuple[bool, str]:
    """GET `url`; (True, detail) only for HTTP 200."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (our URL)
            return response.status == 200, f"{url} -> {response.status}"
    except urllib.error.HTTPError as exc:
        return False, f"{url} -> {exc.code}"
    except (OSError, ValueError) as exc:
        return False, f"{url} -> {exc}"


def main(
    argv: Sequence[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    cmdline: Path = CMDLINE,
) -> int:
    parser = argparse.ArgumentParser(prog="odto-healthcheck")
    parser.add_argument("--path", default="/healthz", help="route to check (default /healthz)")
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds (default 3)")
    args = parser.parse_args(argv)
    environ = os.environ if env is None else env

    service = environ.get("ODTO_SERVICE") or None
    if service is None:
        try:
            service = service_from_cmdline(cmdline.read_bytes())
        except OSError:
            service = None
    if service is None:
        print("odto-healthcheck: no service is served here; nothing to check")
        return 0
    if service not in STANDARD_PORTS:
        print(f"odto-healthcheck: unknown service {service!r}", file=sys.stderr)
        return 1
    url = f"http://127.0.0.1:{port_of(service, environ)}{args.path}"
    healthy, detail = check(url, args.timeout)
    print(f"odto-healthcheck: {service} {detail}", file=sys.stdout if healthy else sys.stderr)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
