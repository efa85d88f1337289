"""Vectorised drawing and text helpers for the demo generator (numpy in, Arrow out)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
Texts = npt.NDArray[np.object_]  # Python str or None
Column = npt.NDArray[Any]  # a lead column: Texts, or Floats with NaN for null


class WordLists:
    """Word lists per group, flattened into one array for vectorised per-row picks.

    Examples
    --------
    >>> lists = WordLists([["a", "b"], ["c"]])
    >>> lists.values[lists.pick(np.random.default_rng(0), np.array([1, 1]))].tolist()
    ['c', 'c']
    """

    def __init__(self, groups: Sequence[Sequence[str]]) -> None:
        self.values: Texts = words([word for group in groups for word in group])
        self.sizes: Ints = np.array([len(group) for group in groups], dtype=np.int64)
        self.offsets: Ints = np.cumsum(self.sizes) - self.sizes

    def pick(self, rng: np.random.Generator, group: Ints, skew: float = 1.0) -> Ints:
        """Per row, the index in ``values`` of a word of the row's group; a ``skew``
        above 1 favours the first words of each group."""
        u = rng.random(len(group)) ** skew
        return self.offsets[group] + (u * self.sizes[group]).astype(np.int64)


def choice(rng: np.random.Generator, weights: Sequence[float], size: int) -> Ints:
    """``size`` indices into ``weights``, drawn in proportion to them."""
    p = np.asarray(weights, dtype=np.float64)
    return rng.choice(len(p), size=size, p=p / p.sum())


def cumulative(weights: Sequence[Sequence[float]] | Floats) -> Floats:
    """Per row of ``weights``, the cumulative distribution (last value exactly 1)."""
    table = np.asarray(weights, dtype=np.float64)
    out = np.cumsum(table / table.sum(axis=1, keepdims=True), axis=1)
    out[:, -1] = 1.0
    return out


def draw(rng: np.random.Generator, distributions: Floats, rows: Ints) -> Ints:
    """Per element, an index drawn from the cumulative distribution ``distributions[row]``."""
    u = rng.random(len(rows))
    index: Ints = np.sum(u[:, None] >= distributions[rows], axis=1, dtype=np.int64)
    return index


def words(values: Sequence[str | None] | npt.NDArray[Any]) -> Texts:
    """An object array of texts (numpy's own strings would truncate on assignment)."""
    return np.array(values, dtype=object)


def numbered(values: Ints) -> Texts:
    """Whole numbers as texts."""
    return values.astype(str).astype(object)


def missing(values: Texts) -> Bools:
    """Where ``values`` holds None."""
    none: Bools = np.equal(values, np.array(None, dtype=object))
    return none


def blanked(values: Texts, where: Bools) -> Texts:
    """A copy of ``values`` with None where ``where`` holds."""
    out = values.astype(object)
    out[where] = None
    return out


def recased(values: Texts, case: str) -> Texts:
    """``values`` (which may hold None) in ``upper``, ``lower`` or ``capitalize`` case."""
    out = values.copy()
    present = ~missing(values)
    out[present] = getattr(np.char, case)(values[present].astype(str)).astype(object)
    return out


def rank(values: Texts) -> Ints:
    """Per element, how many equal elements come before it (0 for the first one)."""
    _, inverse = np.unique(values.astype(str), return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    grouped = inverse[order]
    out = np.empty(len(values), dtype=np.int64)
    out[order] = np.arange(len(values)) - np.searchsorted(grouped, grouped)
    return out


def strings(values: Texts) -> pa.StringArray:
    """A string column from an object array (None is null)."""
    return pa.array(values, pa.string())


def integers(values: Floats) -> pa.Int64Array:
    """A nullable integer column from floats, NaN being null."""
    return pa.array(np.nan_to_num(values).astype(np.int64), pa.int64(), mask=np.isnan(values))


def coded(vocabulary: Sequence[str | None] | Texts, codes: Ints) -> pa.StringArray:
    """A string column from indices into a vocabulary; a negative index is null."""
    indices = pa.array(codes, pa.int64(), mask=codes < 0)
    return pa.array(list(vocabulary), pa.string()).take(indices)
