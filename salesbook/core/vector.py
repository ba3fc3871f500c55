"""Small column operations the rules share: group numbers, running counts and per-distinct-value maps.

Each is what a pandas groupby or Series.map gives, done once with hash factorizing and numpy so a rule
over 100k rows makes no per-row Python objects (a groupby over several object columns builds and sorts
a key per column each time it is asked).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd


def codes(values: Sequence | np.ndarray | pd.Series, *, na_group: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(code of each value, the distinct values) numbered in order of first appearance, equal values alike
    (as a groupby sees them: 1 == 1.0, None == NaN). A blank (None, NaN, NA) is a value of its own when
    `na_group`, else its code is -1."""
    return pd.factorize(np.asarray(values, dtype=object) if not isinstance(values, np.ndarray | pd.Series)
                        else values, use_na_sentinel=not na_group)


def group_ids(columns: list, *, dropna: bool = False) -> np.ndarray:
    """One group number per row for the rows' combination of `columns`, numbered in order of first
    appearance: `groupby(columns, sort=False, dropna=dropna).ngroup()`, with -1 for a row with a blank key
    when `dropna` (ngroup gives NaN there). A column is values, or the codes `codes` gives (-1: blank)."""
    if not columns:
        raise ValueError("group_ids needs at least one column")
    key: np.ndarray | None = None
    missing = None
    span = 1  # key < span: the key's values stay below it, so key * width + c tells every pair apart
    for col in columns:
        if isinstance(col, np.ndarray) and col.dtype.kind in "iu":
            c, width = col.astype(np.int64, copy=False), int(col.max()) + 2 if len(col) else 1
        else:
            c, uniques = codes(col, na_group=not dropna)
            c, width = c.astype(np.int64, copy=False), len(uniques) + 1
        if dropna:
            blank = c < 0
            missing = blank if missing is None else missing | blank
        c = c + 1  # -1 (blank, kept as a group of its own unless dropna) becomes 0
        if key is not None and span * width >= 2**62:  # renumber the pairs so far densely before it overflows
            key, span = pd.factorize(key)[0].astype(np.int64, copy=False), len(key) + 1
        key, span = (c, width) if key is None else (key * width + c, span * width)
    key = pd.factorize(key)[0].astype(np.int64, copy=False)  # numbered in order of first appearance
    if missing is not None and missing.any():
        key = key.copy()
        key[missing] = -1
        kept = ~missing
        key[kept] = pd.factorize(key[kept])[0]
    return key


def cumcount(group: np.ndarray) -> np.ndarray:
    """For each row, how many earlier rows have its group number: `groupby(...).cumcount()`; -1 for a
    row whose group is -1 (a blank key that the groupby drops: its cumcount is NaN)."""
    n = len(group)
    out = np.full(n, -1, dtype=np.int64)
    if not n:
        return out
    order = np.argsort(group, kind="stable")
    g = group[order]
    start = np.ones(n, dtype=bool)
    start[1:] = g[1:] != g[:-1]
    run_start = np.maximum.accumulate(np.where(start, np.arange(n), 0))
    out[order] = np.arange(n) - run_start
    out[group < 0] = -1
    return out


def first_rows(group: np.ndarray) -> np.ndarray:
    """For each row, the position of the first row of its group."""
    _, first, inverse = np.unique(group, return_index=True, return_inverse=True)
    return first[inverse.ravel()]


def sorted_distinct(values: np.ndarray) -> np.ndarray:
    """np.unique(values) of a numeric array, by one sort: numpy 2.4's plain unique hashes first (0.05 s for a
    busy month's 157k evidence rows where the sort takes 2 ms)."""
    ordered = np.sort(values)
    keep = np.ones(len(ordered), dtype=bool)
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def map_distinct(values: pd.Series | np.ndarray, fn: Callable[[object], object], *,
                 blank: object = None) -> np.ndarray:
    """fn of every value as an object array, fn called once per distinct value (`blank` where blank)."""
    c, uniques = codes(values, na_group=False)
    table = np.empty(len(uniques) + 1, dtype=object)
    table[:-1] = [fn(v) for v in uniques.tolist()] if len(uniques) else []
    table[-1] = blank
    return table[c]
