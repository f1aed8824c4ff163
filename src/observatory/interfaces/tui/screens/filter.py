"""/: show only the jobs the read model's search selects (GET /jobs filters: status,
type, id prefix, error text, metadata key=value pairs)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Input, Label, Select

from observatory.core.job_filter import MAX_META_PAIRS, id_prefix_problem
from observatory.interfaces.tui.models import STATUSES, JobFilter
from observatory.interfaces.tui.screens.filter_form import FilterForm
from observatory.interfaces.tui.validation import InvalidInput, validate_job_type


def parse_meta(text: str) -> tuple[tuple[str, str], ...]:
    """`region=eu, tier=gold` → pairs; InvalidInput naming what is wrong."""
    pairs = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"metadata must be key=value pairs, not {part!r}")
        pairs.append((key.strip(), value.strip()))
    if len(pairs) > MAX_META_PAIRS:
        raise InvalidInput(f"at most {MAX_META_PAIRS} metadata pairs")
    return tuple(pairs)


def meta_text(pairs: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f"{key}={value}" for key, value in pairs)


class FilterScreen(FilterForm[JobFilter]):
    title_text = "Filter jobs"
    dialog_id = "filter"
    message_id = "filter-message"
    first_field = "filter-type"

    def fields(self) -> ComposeResult:
        yield Label("Status")
        yield Select(
            [(status, status) for status in STATUSES],
            prompt="Any status",
            value=self.current.status or Select.NULL,
            id="filter-status",
        )
        yield Label("Type")
        yield Input(self.current.job_type, placeholder="any type", id="filter-type")
        yield Label("Id starts with")
        yield Input(self.current.id_prefix, placeholder="e.g. 3f2a", id="filter-id")
        yield Label("Error contains")
        yield Input(self.current.error, placeholder="any error text", id="filter-error")
        yield Label("Metadata")
        yield Input(meta_text(self.current.meta), placeholder="key=value, …", id="filter-meta")

    def read(self) -> JobFilter:
        status = self.query_one("#filter-status", Select).value
        raw_type = self.value("#filter-type")
        job_type = validate_job_type(raw_type) if raw_type else ""
        prefix = self.value("#filter-id").lower()
        if prefix and (why := id_prefix_problem(prefix)):
            raise InvalidInput(f"id {why}")
        return JobFilter(
            status if isinstance(status, str) else "",
            job_type,
            id_prefix=prefix,
            error=self.value("#filter-error"),
            meta=parse_meta(self.value("#filter-meta")),
        )

    def empty(self) -> JobFilter:
        return JobFilter()
