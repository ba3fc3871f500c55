"""Memory handed back between the phases of a run: the cycles the rules and scoring leave go by a young
collection, without a full one walking the whole dataset."""

from __future__ import annotations

import gc
import weakref

from salesbook.io.memory import cycle_collector_paused, release_memory


class _Node:
    pass


def _cycle() -> weakref.ref:
    node = _Node()
    node.me = node  # only the cycle collector frees it
    return weakref.ref(node)


def test_a_young_collection_frees_the_cycles_made_while_the_collector_was_paused():
    with cycle_collector_paused():
        gone = _cycle()
        assert gone() is not None
        release_memory(young=True)
        assert gone() is None


def test_without_a_collection_the_cycles_stay_for_later():
    with cycle_collector_paused():
        kept = _cycle()
        release_memory(collect=False)
        assert kept() is not None
    gc.collect()
    assert kept() is None
