"""Exact order statistics of values held in several places (a cluster's partitions),
found from counts, so that the values themselves never travel.

Each float is placed by its sortable 64-bit key (`order_keys`: its bits, with the sign
bit set for positives and every bit flipped for negatives, so keys compare as the floats
do; -0.0 just below 0.0). NaN sorts last, as `np.sort` puts it. The rank-th smallest of
every key's values (`order_statistics`), 1-based:

1. every place returns per key its count, NaN count, lowest and highest key and the sum
   of squares of its values (`Summarise`; added over places by `add_summaries`);
2. while a rank's range holds more than `VALUES` values, the driver cuts the range into
   `BINS` bins of equal width in key space, every place counts its values per bin and
   returns the lowest and highest key it has in the range (`CountBins`), and the bin that
   holds the rank (by the cumulative counts) becomes the range, the rank taken within it
   (a range whose lowest and highest key are one: every value ties, found). A bin of
   width w in key space holds at most w distinct floats, so 64 / log2(BINS) rounds
   separate any two, however the values cluster;
3. a range of at most `VALUES` values: every place returns them as distinct key -> count
   (`ValuesIn`: ties compress) and the driver reads the rank off their cumulative count.
   One round's counts and values travel in one pass (`Refine`).

No place returns more than `BINS` counts per range and round, and all places together
at most `VALUES` values per range, whatever the number of values.
The functions are pure: `answer` runs in each place on its own values, `order_statistics`
on the driver with a `fetch` that runs a request in every place and returns the answers.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass

import numpy as np

BINS = 256
"""Bins per range and counting round: each place returns at most this many counts (4
bytes each) per range, and each round narrows a range about this many times."""

VALUES = 256
"""The most values a range may hold (over every place) to be sent as values."""

SIGN = 1 << 63
Values = dict[Hashable, np.ndarray]


def order_keys(values: np.ndarray) -> np.ndarray:
    """uint64 keys that sort as the (non-NaN) float64 values do."""
    bits = np.ascontiguousarray(values, dtype=np.float64).view(np.uint64)
    negative = (bits >> np.uint64(63)).astype(bool)
    return np.where(negative, ~bits, bits | np.uint64(SIGN))


def key_value(key: int) -> float:
    """The float64 of an `order_keys` key."""
    bits = key ^ SIGN if key & SIGN else ~key & (2**64 - 1)
    return float(np.array([bits], dtype=np.uint64).view(np.float64)[0])


@dataclass(frozen=True)
class Summary:
    """A key's values: count (NaN included), NaNs, lowest and highest order key of the
    others (None without any) and the sum of their squares (NaN with a NaN)."""

    count: int
    nans: int
    low: int | None
    high: int | None
    sum_squares: float


@dataclass(frozen=True)
class Summarise:
    """Request: a `Summary` per key."""


@dataclass(frozen=True)
class CountBins:
    """Request: per range (key, low, high, width, bins) the values whose order key lies
    in [low, high]: their lowest and highest key (None without any) and their counts per
    bin (key - low) // width, as `bins` uint32 counts or, where fewer bins are filled,
    the filled bins (uint16) and their counts."""

    ranges: tuple[tuple[Hashable, int, int, int, int], ...]


@dataclass(frozen=True)
class ValuesIn:
    """Request: per range (key, low, high) the distinct order keys in [low, high] and
    their counts."""

    ranges: tuple[tuple[Hashable, int, int], ...]


@dataclass(frozen=True)
class Refine:
    """Request: both, in one pass over the places (one round of `order_statistics`)."""

    counts: CountBins
    values: ValuesIn


Request = Summarise | CountBins | ValuesIn | Refine


def _keys_in(values: Values, key: Hashable, low: int, high: int) -> np.ndarray:
    found = values.get(key)
    if found is None or found.size == 0:
        return np.zeros(0, dtype=np.uint64)
    found = np.asarray(found, dtype=np.float64)
    keys = order_keys(found[~np.isnan(found)])
    return keys[(keys >= np.uint64(low)) & (keys <= np.uint64(high))]


def squares(values: np.ndarray) -> float:
    """The sum of the squared values (inf past the float range, as np.mean's would be)."""
    with np.errstate(over="ignore"):
        return float(np.sum(np.square(values)))


def answer(values: Values, request: Request) -> object:
    """One place's answer to `request` about its own values (see the module docstring)."""
    if isinstance(request, Summarise):
        summaries = {}
        for key, found in values.items():
            found = np.asarray(found, dtype=np.float64)
            finite = found[~np.isnan(found)]
            keys = order_keys(finite)
            summaries[key] = Summary(
                int(found.size),
                int(found.size - finite.size),
                int(keys.min()) if keys.size else None,
                int(keys.max()) if keys.size else None,
                squares(found),
            )
        return summaries
    if isinstance(request, Refine):
        return answer(values, request.counts), answer(values, request.values)
    if isinstance(request, CountBins):
        counted = []
        for key, low, high, width, bins in request.ranges:
            keys = _keys_in(values, key, low, high)
            if keys.size == 0:
                counted.append((None, None, None, np.zeros(0, dtype=np.uint32)))
                continue
            where = ((keys - np.uint64(low)) // np.uint64(width)).astype(np.int64)
            counts = np.bincount(where, minlength=bins).astype(np.uint32)
            filled = np.flatnonzero(counts)
            lowest, highest = int(keys.min()), int(keys.max())
            if filled.size * 3 < bins:  # sparse: 6 bytes a filled bin against 4 a bin
                counted.append((lowest, highest, filled.astype(np.uint16), counts[filled]))
            else:
                counted.append((lowest, highest, None, counts))
        return counted
    return [
        np.unique(_keys_in(values, key, low, high), return_counts=True)
        for key, low, high in request.ranges
    ]


def add_summaries(parts: Iterable[dict[Hashable, Summary]]) -> dict[Hashable, Summary]:
    """The summaries of every place, added per key (in the order of `parts`)."""
    total: dict[Hashable, Summary] = {}
    for part in parts:
        for key, s in part.items():
            t = total.get(key)
            if t is None:
                total[key] = s
                continue
            lows = [k for k in (t.low, s.low) if k is not None]
            highs = [k for k in (t.high, s.high) if k is not None]
            total[key] = Summary(
                t.count + s.count,
                t.nans + s.nans,
                min(lows) if lows else None,
                max(highs) if highs else None,
                t.sum_squares + s.sum_squares,
            )
    return total


@dataclass
class _Query:
    key: Hashable
    rank: int  # within [low, high]
    low: int
    high: int
    size: int  # values in [low, high]


def order_statistics(
    fetch: Callable[[Request], list],
    summaries: dict[Hashable, Summary],
    wanted: dict[Hashable, Iterable[int]],
    bins: int | None = None,
    most: int | None = None,
) -> dict[tuple[Hashable, int], float]:
    """(key, rank) -> the rank-th smallest (1-based) of the key's values in every place,
    NaN last (as `np.sort(values)[rank - 1]`); NaN for a rank past the values. `fetch`
    runs a request (`answer`) in every place and returns their answers; `summaries` are
    the added `Summarise` answers; `bins` and `most` (`BINS`, `VALUES`) the bins per
    counting round and the most values a range is sent as."""
    bins = bins or BINS
    most = most or VALUES
    found: dict[tuple[Hashable, int], float] = {}
    open_: dict[tuple[Hashable, int], _Query] = {}
    for key, ranks in wanted.items():
        s = summaries.get(key)
        for rank in ranks:
            numbers = 0 if s is None else s.count - s.nans
            if rank < 1 or rank > numbers:
                found[(key, rank)] = float("nan")
            else:
                assert s is not None and s.low is not None and s.high is not None
                open_[(key, rank)] = _Query(key, rank, s.low, s.high, numbers)
    while open_:
        for name, q in list(open_.items()):
            if q.low == q.high:
                found[name] = key_value(q.low)
                del open_[name]
        counts = sorted({(q.key, q.low, q.high) for q in open_.values() if q.size > most}, key=repr)
        values = sorted(
            {(q.key, q.low, q.high) for q in open_.values() if q.size <= most}, key=repr
        )
        if not open_:
            break
        request_counts = tuple(
            (key, low, high, -(-(high - low + 1) // bins), bins) for key, low, high in counts
        )
        answers = fetch(Refine(CountBins(request_counts), ValuesIn(tuple(values))))
        answers_counts = [counted for counted, _ in answers]
        answers_values = [listed for _, listed in answers]
        binned = {}
        for index, (key, low, high, width, _) in enumerate(request_counts):
            per_bin = np.zeros(bins, dtype=np.int64)
            lows, highs = [], []
            for place in answers_counts:
                lowest, highest, filled, number = place[index]
                if lowest is None:
                    continue
                lows.append(lowest)
                highs.append(highest)
                if filled is None:
                    per_bin += number
                else:
                    np.add.at(per_bin, filled.astype(np.int64), number)
            binned[(key, low, high)] = (width, min(lows), max(highs), np.cumsum(per_bin), per_bin)
        listed = {}
        for index, name in enumerate(values):
            keys = np.concatenate([place[index][0] for place in answers_values])
            number = np.concatenate([place[index][1] for place in answers_values])
            distinct, inverse = np.unique(keys, return_inverse=True)
            listed[name] = (distinct, np.cumsum(np.bincount(inverse, weights=number)))
        for name, q in list(open_.items()):
            span = (q.key, q.low, q.high)
            if span in listed:
                distinct, cumulative = listed[span]
                found[name] = key_value(int(distinct[np.searchsorted(cumulative, q.rank)]))
                del open_[name]
                continue
            width, lowest, highest, cumulative, per_bin = binned[span]
            if lowest == highest:  # every value of the range ties
                found[name] = key_value(lowest)
                del open_[name]
                continue
            b = int(np.searchsorted(cumulative, q.rank))
            before = int(cumulative[b - 1]) if b else 0
            low = max(q.low + b * width, lowest)
            high = min(q.low + (b + 1) * width - 1, highest)
            open_[name] = _Query(q.key, q.rank - before, low, high, int(per_bin[b]))
    return found
