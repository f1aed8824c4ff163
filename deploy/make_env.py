#!/usr/bin/env python3
"""Write a credentials env file from its committed example, with random passwords.

    python3 deploy/make_env.py deploy/compose/.env.example deploy/compose/.env
    python3 deploy/make_env.py deploy/k8s/overlays/kind/secrets.env.example \
        deploy/k8s/overlays/kind/secrets.env

Every `*_PASSWORD=` or `*_COOKIE=` left empty in the example gets a fresh random URL-safe
value; every other line (comments, user names, optional keys such as ODTO_API_TOKEN) is copied as it
is. An existing target is never overwritten (exit 0, "kept"), so credentials stay stable
across runs. The target is created readable by its owner only. `odto cluster up` runs this
for the kind overlay; for compose run it once by hand. Standard library only.
"""

from __future__ import annotations

import os
import re
import secrets
import sys
from pathlib import Path

GENERATED = re.compile(r"^(?P<key>[A-Z][A-Z0-9_]*_(?:PASSWORD|COOKIE))=\s*$")


def render(example: str) -> str:
    """The example's text with each empty `*_PASSWORD=` or `*_COOKIE=` given a random value."""
    lines = []
    for line in example.splitlines():
        match = GENERATED.match(line)
        lines.append(f"{match['key']}={secrets.token_urlsafe(24)}" if match else line)
    return "\n".join(lines) + "\n"


def write_env(example: Path, target: Path) -> bool:
    """Create `target` from `example`; False (and no change) when it already exists."""
    if target.exists():
        return False
    text = render(example.read_text("utf-8"))
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return True


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: make_env.py EXAMPLE TARGET", file=sys.stderr)
        return 2
    example, target = Path(argv[0]), Path(argv[1])
    try:
        created = write_env(example, target)
    except OSError as exc:
        print(f"make_env: {exc}", file=sys.stderr)
        return 1
    print(f"{'created' if created else 'kept existing'} {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
