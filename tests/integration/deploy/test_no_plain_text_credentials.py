"""No plain-text credential in any file of the repository (tracked or about to be)."""

from __future__ import annotations

from tests.unit.deploy.credentials import scan_repository
from tests.unit.deploy.manifests import REPO


def test_no_file_in_the_repository_holds_a_plain_text_credential() -> None:
    findings = scan_repository(REPO)
    assert [str(f) for f in findings] == []
