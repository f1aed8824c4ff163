"""`odd-dashboard`: the console script. Parses flags, then runs doctor or the TUI."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from observatory.core.settings import environment
from observatory.interfaces.buildinfo import version_block
from observatory.interfaces.tui.config import ENVIRONMENT, TuiConfig

KEYS = (
    "Q quit · R refresh · N new task · U UIs · / filter · Enter job detail · ? help"
    " · Ctrl+P commands"
)


def parser() -> argparse.ArgumentParser:
    environment = "\n".join(f"  {name:<34} {text}" for name, text in ENVIRONMENT.items())
    root = argparse.ArgumentParser(
        prog="odd-dashboard",
        description="Terminal dashboard of the Distributed Task Observatory.",
        epilog=f"keys:\n  {KEYS}\n\nenvironment:\n{environment}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    root.add_argument(
        "-V",
        "--version",
        action="store_true",
        help="print version, commit, build, Python and platform",
    )
    root.add_argument(
        "--gateway-url", metavar="URL", help="gateway base URL (env ODTO_GATEWAY_URL)"
    )
    root.add_argument(
        "--read-model-url", metavar="URL", help="read-model base URL (env ODTO_READ_MODEL_URL)"
    )
    root.add_argument("--registry", metavar="FILE", help="UI registry file (env ODTO_UI_REGISTRY)")
    root.add_argument(
        "--token-file", metavar="FILE", help="read your token from FILE (instead of ODTO_TOKEN)"
    )
    commands = root.add_subparsers(dest="command", metavar="COMMAND")
    doctor = commands.add_parser(
        "doctor", help="check that this machine can start and show the system"
    )
    doctor.add_argument(
        "--cluster", action="store_true", help="also require docker, kubectl and kind"
    )
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.version:
        print(version_block())
        return 0
    if args.command == "doctor":
        from observatory.interfaces.tui.doctor import report, run_checks

        return report(run_checks(cluster=args.cluster, env=environment()), sys.stdout)
    from observatory.interfaces.tui.app import ObservatoryApp

    token = None
    if args.token_file:
        try:
            token = Path(args.token_file).read_text(encoding="utf-8").strip() or None
        except OSError as exc:
            print(f"odd-dashboard: cannot read --token-file: {exc.strerror}", file=sys.stderr)
            return 2
    config = TuiConfig.from_env(
        environment(),
        api_token=token,
        gateway_url=args.gateway_url,
        read_model_url=args.read_model_url,
        registry_path=Path(args.registry) if args.registry else None,
    )
    app = ObservatoryApp(config)
    try:
        app.run()
    finally:
        if app.system is not None:
            app.system.kill_now()
    return 0


if __name__ == "__main__":
    sys.exit(main())
