"""The M5-sized bench's memory sampler counts the pages a forked worker shares once."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from m5_scale import consistent_total  # noqa: E402

MIB = 2**20


def test_a_sample_without_a_worker_starting_is_consistent():
    driver, workers, consistent = consistent_total(psutil.Process())
    assert consistent
    assert driver > 10 * MIB  # this interpreter with pytest and polars loaded
    assert workers >= 0


class _ForksWhileRead:
    """A process whose PSS read starts a child, as a pool forking its workers does."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.started: list[subprocess.Popen] = []

    def children(self, recursive: bool = False):
        return self.process.children(recursive=recursive)

    def memory_full_info(self):
        self.started.append(subprocess.Popen(["sleep", "5"]))
        return self.process.memory_full_info()


def test_a_worker_started_while_the_driver_is_read_marks_the_sample_inconsistent():
    process = _ForksWhileRead()
    try:
        _, _, consistent = consistent_total(process)
    finally:
        for child in process.started:
            child.kill()
            child.wait()
    assert not consistent


def _hold(ready, done) -> None:
    ready.set()
    done.wait(30)


def test_a_forked_worker_shares_the_parent_pages_so_reading_before_the_fork_counts_them_twice():
    """200 MiB written by the parent, then a worker forked that only reads: together they
    hold about 200 MiB (PSS splits the shared pages 100 + 100), but the parent's PSS read
    before the fork (about 200) plus the worker's after it (about 100) gives about 300."""
    block = bytearray(os.urandom(1024)) * (200 * 1024)  # 200 MiB, every page written
    me = psutil.Process()
    # processes this test did not start are not the worker's: the session's Dask cluster,
    # when this file runs after the engine tests in the same process (a pytest-xdist worker)
    _, others, _ = consistent_total(me)
    before_fork = me.memory_full_info().pss
    context = multiprocessing.get_context("fork")
    ready, done = context.Event(), context.Event()
    worker = context.Process(target=_hold, args=(ready, done))
    worker.start()
    try:
        assert ready.wait(30)
        driver, workers, consistent = consistent_total(me)
        assert consistent
        workers -= others
        naive = before_fork + workers
        together = driver + workers
        # the block is counted once when both are read after the fork: 200 MiB, plus the
        # interpreter (well under 100 MiB of private pages here); the naive sum counts half
        # of it again
        assert abs(together - before_fork) < 60 * MIB
        assert naive - together > 80 * MIB
    finally:
        done.set()
        worker.join(30)
    assert len(block) == 200 * MIB
