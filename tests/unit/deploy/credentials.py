"""A scanner for plain-text credentials in the repository's files.

Two findings:
- a URL whose user-info carries a password (`user:password@` after the `scheme://`) as a literal
  rather than an interpolation (`${VAR}`, `$(VAR)`, `{var}`);
- in configuration and scripts (YAML, JSON, env, TOML, INI, shell, Dockerfile, Makefile),
  a key named like a secret (…PASSWORD, …PASSWD, …SECRET, …TOKEN, …API_KEY, …_PASS)
  assigned a literal value.

Test code legitimately holds throw-away credentials of local test services and fake
tokens, so under tests/ and benchmarks/ only URLs are checked, and those may carry a
password only for a loopback host or a reserved example domain.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

URL_PASSWORD = re.compile(
    r"(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<user>[^\s:/@'\"`]*):(?P<password>[^\s@/'\"`]+)@(?P<host>[^\s/:'\"`?]+)"
)
SECRET_ASSIGNMENT = re.compile(
    r"""^\s*(?:export\s+|-\s+)?["']?(?P<key>[A-Za-z0-9_.-]*(?:PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|APIKEY|_PASS))["']?\s*[:=]\s*(?P<value>.*)$""",
    re.IGNORECASE,
)
CONFIG_SUFFIXES = {".yml", ".yaml", ".json", ".env", ".example", ".toml", ".ini", ".cfg",
                   ".conf", ".sh", ".properties"}  # fmt: skip
CONFIG_NAMES = {"Dockerfile", "Makefile", "run", ".env", ".dockerignore"}
TEST_DIRS = ("tests/", "benchmarks/")
# A GitHub workflow's `permissions:` grant (`id-token: write`) names a scope and a level;
# the token itself never appears in the file.
WORKFLOWS = ".github/workflows/"
PERMISSION_LEVELS = {"read", "write", "none"}
SAFE_HOSTS = re.compile(
    r"^(127\.\d+\.\d+\.\d+|localhost|\[?::1\]?|.*\.(example|test|invalid)|example\.(com|org|net))$"
)


@dataclass(frozen=True, slots=True)
class Finding:
    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


def interpolated(value: str) -> bool:
    """True for a value that names a variable instead of holding a secret."""
    value = value.strip().strip("\"'")
    return (
        not value
        or value.startswith(("${", "$(", "$$", "{{", "<", "%"))
        or bool(re.fullmatch(r"\$[A-Za-z_][A-Za-z0-9_]*", value))
        or value in {"null", "None", "~", "''", '""', "[]", "{}", "|", ">", ">-", "|-"}
        or value.lower() in {"true", "false", "yes", "no"}  # a flag, not a secret
        or value.isdigit()
    )


def literal_value(raw: str) -> str:
    """The assigned value without a trailing comment."""
    value = raw.strip()
    if value and value[0] in "\"'":
        end = value.find(value[0], 1)
        return value[1:end] if end > 0 else value[1:]
    return re.split(r"\s+#", value, maxsplit=1)[0].strip()


def scan_text(path: str, text: str) -> list[Finding]:
    findings = []
    in_tests = path.startswith(TEST_DIRS)
    name = Path(path).name
    config = Path(path).suffix in CONFIG_SUFFIXES or name in CONFIG_NAMES or ".env" in name
    for number, line in enumerate(text.splitlines(), start=1):
        for match in URL_PASSWORD.finditer(line):
            password, host = match["password"], match["host"]
            if interpolated(password) or password.startswith("{"):
                continue
            if in_tests and SAFE_HOSTS.match(host):
                continue
            findings.append(Finding(path, number, f"password in URL {match['scheme']}://…@{host}"))
        if config and not in_tests:
            assignment = SECRET_ASSIGNMENT.match(line)
            if assignment and not line.lstrip().startswith("#"):
                value = literal_value(assignment["value"])
                grant = path.startswith(WORKFLOWS) and value in PERMISSION_LEVELS
                if not interpolated(value) and not value.endswith(":") and not grant:
                    findings.append(Finding(path, number, f"literal value for {assignment['key']}"))
    return findings


def repository_files(root: Path) -> list[str]:
    """Files git tracks or would track (untracked but not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=root,
        capture_output=True,
        check=True,
        timeout=60,
    )
    return sorted({p for p in listed.stdout.decode().split("\0") if p})


def scan_repository(root: Path) -> list[Finding]:
    findings = []
    for path in repository_files(root):
        file = root / path
        if not file.is_file() or path.startswith("tests/fixtures/schemas/"):
            continue
        try:
            text = file.read_text("utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # binary
        findings.extend(scan_text(path, text))
    return findings
