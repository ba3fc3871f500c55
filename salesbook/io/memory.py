"""Handing freed memory back to the system between the big phases of a run.

Python and pandas free their objects into the C allocator, which keeps the pages: the process's
resident size then stays at its highest, and a writer forked afterwards starts with all of it.
glibc's malloc_trim returns the free pages (elsewhere this does nothing), and Arrow's pool its cached ones.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys
from contextlib import contextmanager

_trim = None
if sys.platform.startswith("linux"):
    try:
        _trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
        _trim = None


def release_memory(*, collect: bool = True, young: bool = False) -> None:
    """Collect cycles (unless `collect` is False: what was just dropped goes by reference counting, and a
    full collection walks everything alive), then give the allocators' free pages back to the system (the
    C allocator's, and Arrow's memory pool's where pyarrow is in use: mimalloc keeps the pages of freed
    buffers).

    `young`: collect only the two young generations, where every container made while the collector was
    paused (`cycle_collector_paused`) still is: their cycles go, the old objects are not walked."""
    if collect:
        gc.collect(1) if young else gc.collect()
    if _trim is not None:
        _trim(0)
    arrow = sys.modules.get("pyarrow")  # never imported here just for this
    if arrow is not None and hasattr(arrow, "default_memory_pool"):
        arrow.default_memory_pool().release_unused()


@contextmanager
def cycle_collector_paused():
    """Pause the automatic cycle collector for a phase that allocates many containers and makes next to
    no cycles (the rules and scoring: each full collection would walk everything alive, the dataset
    included, for nothing); restored as it was after, and `release_memory` still collects at once."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
