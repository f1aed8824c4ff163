"""settle_collector (interfaces.cli.servers): what a service's process does to its garbage
collector once it listens. The test puts the collector back as it found it."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from observatory.interfaces.cli.servers import YOUNG_OBJECTS, settle_collector

pytestmark = pytest.mark.unit


class Node:
    other: Node


@pytest.fixture
def collector() -> Iterator[None]:
    threshold = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


@pytest.mark.usefixtures("collector")
def test_startup_objects_are_frozen_and_later_cycles_still_collected() -> None:
    startup = [Node() for _ in range(1000)]
    settle_collector()
    assert gc.get_freeze_count() >= len(startup)
    assert gc.get_threshold()[0] == YOUNG_OBJECTS

    # a cycle made while serving is still collected, without anyone calling gc.collect
    a, b = Node(), Node()
    a.other, b.other = b, a
    gone = weakref.ref(a)
    del a, b
    work: list[list[int]] = [
        [] for _ in range(3 * YOUNG_OBJECTS)
    ]  # allocations: the collector runs itself
    assert len(work) == 3 * YOUNG_OBJECTS
    assert gone() is None
