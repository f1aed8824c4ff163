#!/bin/sh
# Install the Distributed Task Observatory (`odto`, `odd-dashboard`) from a release.
#
#   ODTO_RELEASE_URL=https://host/releases/1.0.0 sh install.sh
#
# A release is a folder holding the wheel, the sdist and SHA256SUMS (what
# `make release-check` builds in dist/). This script detects the platform and a Python
# (3.11 or newer), downloads SHA256SUMS and the wheel of the pinned version, verifies the
# wheel against SHA256SUMS and only then installs it: with uv, else pipx, else pip.
# It stops with a message on an unsupported platform, a missing file or a checksum that
# does not match, and installs nothing then.
#
# Settings (environment, or the options of the same name):
#   ODTO_RELEASE_URL   --url URL        the release folder (http://, https:// or file://); required
#   ODTO_VERSION       --version V      the version to install (default: the one below)
#   ODTO_INSTALL_DIR   --dir DIR        a virtualenv to install into (made when missing);
#                                       unset: a tool install (uv tool / pipx / pip --user)
#   ODTO_INSTALLER     --installer I    uv, pipx or pip instead of the first one found
#   ODTO_PYTHON        --python PATH    the Python to use instead of the first 3.11+ found
# pip and uv read their own settings too (PIP_INDEX_URL, PIP_NO_INDEX, UV_OFFLINE, ...).
set -eu

PINNED_VERSION="1.0.0"  # the package version; a unit test keeps the two equal

RELEASE_URL="${ODTO_RELEASE_URL:-}"
VERSION="${ODTO_VERSION:-$PINNED_VERSION}"
INSTALL_DIR="${ODTO_INSTALL_DIR:-}"
INSTALLER="${ODTO_INSTALLER:-}"
PYTHON="${ODTO_PYTHON:-}"

say() { printf 'install.sh: %s\n' "$*"; }
fail() { printf 'install.sh: error: %s\n' "$*" >&2; exit 1; }

usage() {
    sed -n '2,21p' "$0" 2>/dev/null | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
    case "$1" in
        --url) RELEASE_URL="${2:?--url needs a value}"; shift 2 ;;
        --version) VERSION="${2:?--version needs a value}"; shift 2 ;;
        --dir) INSTALL_DIR="${2:?--dir needs a value}"; shift 2 ;;
        --installer) INSTALLER="${2:?--installer needs a value}"; shift 2 ;;
        --python) PYTHON="${2:?--python needs a value}"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) fail "unknown option $1 (see --help)" ;;
    esac
done

[ -n "$RELEASE_URL" ] || fail "set ODTO_RELEASE_URL (or --url) to the release folder holding SHA256SUMS"
RELEASE_URL="${RELEASE_URL%/}"

# --- platform ---------------------------------------------------------------------------
# The wheel is pure Python; its compiled dependencies (uvloop, orjson, asyncpg, ...) ship
# wheels for these systems and machines.
os_name="$(uname -s)"
machine="$(uname -m)"
case "$os_name" in
    Linux|Darwin) ;;
    *) fail "unsupported platform: $os_name $machine (Linux and macOS are supported; elsewhere: pip install task-observatory==$VERSION)" ;;
esac
case "$machine" in
    x86_64|amd64|aarch64|arm64) ;;
    *) fail "unsupported platform: $os_name $machine (x86_64 and arm64 are supported)" ;;
esac

# --- Python -----------------------------------------------------------------------------
python_ok() {
    "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1
}
if [ -n "$PYTHON" ]; then
    python_ok "$PYTHON" || fail "$PYTHON is not Python 3.11 or newer"
else
    for candidate in python3.13 python3.12 python3.11 python3 python; do
        if command -v "$candidate" >/dev/null 2>&1 && python_ok "$candidate"; then
            PYTHON="$(command -v "$candidate")"
            break
        fi
    done
    [ -n "$PYTHON" ] || fail "no Python 3.11 or newer found (set ODTO_PYTHON to one)"
fi

# --- installer --------------------------------------------------------------------------
if [ -z "$INSTALLER" ]; then
    if command -v uv >/dev/null 2>&1; then
        INSTALLER=uv
    elif [ -z "$INSTALL_DIR" ] && command -v pipx >/dev/null 2>&1; then
        INSTALLER=pipx  # pipx manages its own virtualenvs; with a directory pip does the job
    else
        INSTALLER=pip
    fi
fi
case "$INSTALLER" in
    uv|pip) ;;
    pipx) [ -z "$INSTALL_DIR" ] || fail "pipx chooses its own directory: unset ODTO_INSTALL_DIR or use uv or pip" ;;
    *) fail "unknown installer $INSTALLER (uv, pipx or pip)" ;;
esac
command -v "$INSTALLER" >/dev/null 2>&1 || [ "$INSTALLER" = pip ] || fail "$INSTALLER is not installed"

say "platform $os_name $machine, Python $("$PYTHON" -c 'import platform; print(platform.python_version())') ($PYTHON), installer $INSTALLER"

# --- download and verify ----------------------------------------------------------------
if command -v curl >/dev/null 2>&1; then
    fetch() { curl --fail --silent --show-error --location --output "$2" "$1"; }
elif command -v wget >/dev/null 2>&1; then
    fetch() { wget --quiet --output-document="$2" "$1"; }
else
    fail "neither curl nor wget is installed"
fi
if command -v sha256sum >/dev/null 2>&1; then
    digest() { sha256sum "$1" | cut -d ' ' -f 1; }
elif command -v shasum >/dev/null 2>&1; then
    digest() { shasum -a 256 "$1" | cut -d ' ' -f 1; }
else
    fail "neither sha256sum nor shasum is installed"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT HUP INT TERM

fetch "$RELEASE_URL/SHA256SUMS" "$work/SHA256SUMS" 2>"$work/error" \
    || fail "cannot download $RELEASE_URL/SHA256SUMS: $(cat "$work/error")"

wheel="task_observatory-$VERSION-py3-none-any.whl"
# SHA256SUMS lines are "<hex digest>  <file name>" (sha256sum's format; "*" marks binary mode).
expected="$(awk -v name="$wheel" '$2 == name || $2 == "*" name { print $1 }' "$work/SHA256SUMS")"
[ -n "$expected" ] || fail "SHA256SUMS at $RELEASE_URL lists no $wheel (is $VERSION released there?)"

fetch "$RELEASE_URL/$wheel" "$work/$wheel" 2>"$work/error" \
    || fail "cannot download $RELEASE_URL/$wheel: $(cat "$work/error")"
actual="$(digest "$work/$wheel")"
[ "$actual" = "$expected" ] \
    || fail "checksum mismatch for $wheel: SHA256SUMS says $expected, the download is $actual; nothing was installed"
say "verified $wheel (sha256 $actual)"

# --- install ----------------------------------------------------------------------------
if [ -n "$INSTALL_DIR" ]; then
    case "$INSTALLER" in
        uv)
            [ -x "$INSTALL_DIR/bin/python" ] || uv venv --quiet --python "$PYTHON" "$INSTALL_DIR"
            uv pip install --quiet --python "$INSTALL_DIR/bin/python" "$work/$wheel"
            ;;
        pip)
            [ -x "$INSTALL_DIR/bin/python" ] || "$PYTHON" -m venv "$INSTALL_DIR"
            "$INSTALL_DIR/bin/python" -m pip install --quiet "$work/$wheel"
            ;;
    esac
    bin="$INSTALL_DIR/bin"
else
    case "$INSTALLER" in
        uv) uv tool install --quiet --python "$PYTHON" "$work/$wheel" ;;
        pipx) pipx install --python "$PYTHON" "$work/$wheel" ;;
        pip) "$PYTHON" -m pip install --quiet --user "$work/$wheel" ;;
    esac
    bin="the installer's bin folder (uv tool dir --bin, pipx ensurepath, or ~/.local/bin)"
fi
say "installed task-observatory $VERSION: odto and odd-dashboard are in $bin"
