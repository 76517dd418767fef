"""Random numbers per series that do not depend on which other series are drawn with it.

Each series has a 64-bit stream key: a hash of its sku and location (FNV-1a over the
characters' code points, the same in every process, machine and library version) mixed
with the plan's seed and a purpose. The i-th number of a stream is a hash of (key, i): a
counter-based generator (Salmon et al. 2011, "Parallel random numbers: as easy as 1, 2,
3"), mixed by SplitMix64's finaliser (Steele, Lea & Flood 2014). A series therefore draws
the same numbers alone, in a block of 2,000 series or in any partition of a cluster, and
the numbers of a whole block come from a few vectorised passes (no loop over series).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from stockplan.demand import SERIES

_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = np.uint64(0x100000001B3)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_LOW32 = np.uint64(0xFFFFFFFF)
_GOLDEN32 = np.uint32(0x9E3779B9)

CACHE_BLOCK = 1 << 18  # numbers mixed at a time: the passes over them stay in cache
LEAD_TIME, WINDOW_START, DAY_PICK = 1, 2, 3
"""Purposes: each has its own stream per series."""


def mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser on a uint64 array (wrapping arithmetic), in place on a copy."""
    x = np.array(x, dtype=np.uint64, copy=True)
    x ^= x >> np.uint64(30)
    x *= _M1
    x ^= x >> np.uint64(27)
    x *= _M2
    x ^= x >> np.uint64(31)
    return x


def _fnv1a(values: pl.Series) -> np.ndarray:
    """FNV-1a (64 bit) of each string over its characters' code points (null as "")."""
    text = values.cast(pl.String).fill_null("")
    lengths = text.str.len_chars().to_numpy()
    width = max(1, int(lengths.max(initial=0)))
    points = text.to_numpy().astype(f"U{width}").view(np.uint32).reshape(len(text), width)
    h = np.full(len(text), _FNV_OFFSET, dtype=np.uint64)
    for j in range(width):  # one pass per character position, over every series at once
        active = j < lengths
        h[active] = (h[active] ^ points[active, j].astype(np.uint64)) * _FNV_PRIME
    return h


def series_streams(keys: pl.DataFrame, seed: int = 0) -> np.ndarray:
    """One uint64 stream key per row of `keys` (sku, location), from the pair and `seed`."""
    seeded = mix64(np.array([seed], dtype=np.uint64) * _GOLDEN + _GOLDEN)
    sku, location = (_fnv1a(keys[c]) for c in SERIES)
    return mix64(mix64(sku ^ seeded) + location * _GOLDEN)


def substreams(streams: np.ndarray, tag: int | np.ndarray) -> np.ndarray:
    """Stream keys for one use of each stream (a purpose, a backtest origin's day)."""
    tag = np.atleast_1d(np.asarray(tag, dtype=np.uint64))  # arrays wrap without a warning
    return mix64(np.asarray(streams, dtype=np.uint64) ^ mix64(tag * _GOLDEN + _M1))


def uniforms(streams: np.ndarray, count: int) -> np.ndarray:
    """[series, count] uniforms in (0, 1), float64: numbers 0 .. count - 1 of each stream."""
    counter = np.arange(count, dtype=np.uint64) * _GOLDEN
    x = mix64(np.asarray(streams, dtype=np.uint64)[:, None] + counter[None, :])
    return ((x >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53


def stream_uniforms32(streams: np.ndarray, start: np.ndarray, length: np.ndarray) -> np.ndarray:
    """`length[k]` float32 uniforms in [0, 1) (24 random bits) for each segment k, from
    stream `streams[k]` at its position `start[k]`, flattened.

    Each segment's key is one 64-bit mix of (stream, start); its numbers are a 32-bit
    Weyl sequence from that key through a 32-bit finaliser (lowbias32, C. Wellons 2018),
    the counter-based scheme in 32-bit words, which numpy multiplies in SIMD lanes (the
    bulk of the day bootstrap's picks)."""
    length = np.asarray(length, dtype=np.int64)
    total = int(length.sum())
    key = mix64(np.asarray(streams, dtype=np.uint64) + np.asarray(start, dtype=np.uint64) * _GOLDEN)
    key = (key & _LOW32).astype(np.uint32)
    keep = length > 0
    key, length = key[keep], length[keep]
    first = np.cumsum(length) - length  # where each segment begins
    out = np.empty(total, dtype=np.float32)
    if total == 0:
        return out
    with np.errstate(over="ignore"):
        # x_i = key_k + (i - first_k) G inside segment k, as a running sum of steps: G
        # within a segment, key_k minus the previous segment's last number at its start
        last = key + (length - 1).astype(np.uint32) * _GOLDEN32
        step = np.full(total, _GOLDEN32, dtype=np.uint32)
        step[first] = key - np.concatenate([[np.uint32(0)], last[:-1]]).astype(np.uint32)
        x = np.cumsum(step, dtype=np.uint32)
        del step
        for lo in range(0, total, CACHE_BLOCK):  # blocks that stay in the CPU cache
            y = x[lo : lo + CACHE_BLOCK]
            y ^= y >> np.uint32(16)
            y *= np.uint32(0x7FEB352D)
            y ^= y >> np.uint32(15)
            y *= np.uint32(0x846CA68B)
            y ^= y >> np.uint32(16)
            y >>= np.uint32(8)
            # y < 2^24 converts to float32 exactly and the power of two scales it exactly:
            # the same numbers as one mixed-type multiply, which numpy runs through float64
            # at four times the cost
            u = out[lo : lo + CACHE_BLOCK]
            u[...] = y
            u *= np.float32(2.0**-24)
    return out
