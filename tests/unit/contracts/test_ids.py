"""Every spelling of a UUID becomes the one canonical id; nothing else is an id (SPEC §12)."""

from __future__ import annotations

import pytest

from observatory.core.contracts.ids import canonical_uuid

ID = "6f1c2a4e-8b3d-4f5a-9c7e-1d2b3a4c5e6f"


@pytest.mark.parametrize(
    "spelling",
    [
        ID,
        ID.upper(),
        "6F1c2A4e-8b3D-4f5a-9c7e-1d2b3a4c5e6f",
        ID.replace("-", ""),
        f"{{{ID}}}",
        f"{{{ID.replace('-', '')}}}",
        f"urn:uuid:{ID}",
        f"URN:UUID:{ID.upper()}",
        f"urn:uuid:{{{ID}}}",
    ],
)
def test_every_spelling_becomes_the_canonical_form(spelling: str) -> None:
    assert canonical_uuid(spelling) == ID


@pytest.mark.parametrize(
    "value",
    [
        "not-a-uuid",
        "",
        None,
        42,
        ID[:-1],
        ID + "0",
        "+" + ID[1:],  # uuid.UUID() takes these through int(..., 16)
        "6f1c_a4e-8b3d-4f5a-9c7e-1d2b3a4c5e6f",
        f" {ID}",
        f"{ID}\n",
        ID[:-1] + "\u0663",  # an Arabic-Indic digit
        "6f1c2a4e8b3d-4f5a-9c7e-1d2b3a4c5e6f",  # hyphens only in some places
        f"{{{ID}",
        f"{ID}}}",
        f"{{{{{ID}}}}}",
        f"uuid:{ID}",
        "urn:uuid:" + "0" * 10_000,
    ],
)
def test_anything_else_is_no_id(value: object) -> None:
    assert canonical_uuid(value) is None
