"""The per-series random numbers, against the published mixers written out in Python."""

from __future__ import annotations

import numpy as np

from stockplan.random_streams import stream_uniforms32

MASK64, MASK32 = 2**64 - 1, 2**32 - 1
GOLDEN64, GOLDEN32 = 0x9E3779B97F4A7C15, 0x9E3779B9


def _splitmix64_finaliser(x: int) -> int:
    """SplitMix64's output function (Steele, Lea & Flood 2014)."""
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9 & MASK64
    x = (x ^ (x >> 27)) * 0x94D049BB133111EB & MASK64
    return x ^ (x >> 31)


def _lowbias32(x: int) -> int:
    """C. Wellons' lowbias32 (2018)."""
    x = (x ^ (x >> 16)) * 0x7FEB352D & MASK32
    x = (x ^ (x >> 15)) * 0x846CA68B & MASK32
    return x ^ (x >> 16)


def test_segment_uniforms_are_lowbias32_of_a_weyl_sequence_from_each_segment_key():
    # segment k: key = low 32 bits of mix64(stream + start x G64); number i of it is
    # lowbias32(key + i x G32) >> 8, over 2^24; an empty segment takes no numbers
    streams = np.array([1, 2**63 + 12345, 987654321, 42], dtype=np.uint64)
    start = np.array([0, 5 << 20, 3, 7], dtype=np.uint64)
    length = np.array([3, 0, 600_000, 2])  # the third spans cache blocks
    got = stream_uniforms32(streams, start, length)
    assert got.dtype == np.float32 and got.size == length.sum()
    expected = []
    for stream, first, count in zip(streams.tolist(), start.tolist(), length.tolist(), strict=True):
        key = _splitmix64_finaliser((stream + first * GOLDEN64) & MASK64) & MASK32
        expected += [(_lowbias32((key + i * GOLDEN32) & MASK32) >> 8) / 2**24 for i in range(count)]
    assert np.array_equal(got, np.array(expected, dtype=np.float32))
    assert got.min() >= 0.0 and got.max() < 1.0
