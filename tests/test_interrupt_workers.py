"""Ctrl-C while worker processes run (statsforecast's pool in the forecast stage) ends the
command at once: exit 130, one line, no worker left behind. A terminal sends SIGINT to the
whole process group; the pool's own cleanup then waited for a lock an idle worker held,
and the command and its workers hung until killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

# a command body whose pool workers are busy (as forecasting keeps them), run under the
# command line's guard as every command is
SCRIPT = textwrap.dedent(
    """
    import multiprocessing, sys, time
    import typer
    from stockplan.cli.display import _STATE, _guard

    def fit(_):
        time.sleep(60)

    def forecast():
        with multiprocessing.get_context("fork").Pool(2) as pool:
            pool.map(fit, range(8))

    if __name__ == "__main__":
        _STATE["lang"] = sys.argv[1]
        try:
            _guard(False, forecast)
        except typer.Exit as done:
            sys.exit(done.exit_code)
    """
)


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(p) for p in found.stdout.split()]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc, pgrep")
@pytest.mark.parametrize(("lang", "said"), [("en", "interrupted"), ("zh", "已中断")])
@pytest.mark.parametrize("to_group", [True, False], ids=["ctrl-c", "kill-int"])
def test_ctrl_c_with_busy_workers_exits_130_at_once_and_leaves_no_worker(
    tmp_path: Path, lang: str, said: str, to_group: bool
):
    script = tmp_path / "busy.py"
    script.write_text(SCRIPT, encoding="utf-8")
    command = subprocess.Popen(
        [sys.executable, str(script), lang],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as a terminal gives a command
    )
    try:
        deadline = time.monotonic() + 30
        while len(_children(command.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        workers = _children(command.pid)
        assert len(workers) >= 2
        time.sleep(0.5)  # the workers are inside their tasks
        if to_group:  # Ctrl-C in a terminal: the command and its workers
            os.killpg(command.pid, signal.SIGINT)
        else:  # kill -INT <pid>: the command alone
            command.send_signal(signal.SIGINT)
        started = time.monotonic()
        _, err = command.communicate(timeout=20)
        took = time.monotonic() - started
    finally:
        if command.poll() is None:
            os.killpg(command.pid, signal.SIGKILL)
            command.wait()
        for worker in _children(command.pid):
            os.kill(worker, signal.SIGKILL)
    assert command.returncode == 130
    assert err.decode().strip() == f"stockplan: {said}"
    assert took < 10
    time.sleep(0.2)
    assert not [w for w in workers if _alive(w)]
    # nor a worker the pool started for one ended: nothing is left in the command's group
    group = subprocess.run(["pgrep", "-g", str(command.pid)], capture_output=True, text=True)
    assert not [int(p) for p in group.stdout.split() if _alive(int(p))]


def test_ctrl_c_inside_an_import_lock_is_said_as_interrupted_not_an_internal_error(
    small_shop: Path, monkeypatch: pytest.MonkeyPatch
):
    # importlib's module lock turns a KeyboardInterrupt that lands while another thread
    # imports the same module into a KeyError (seen: Ctrl-C while the forecasting
    # libraries were loading on the preload thread): exit 4 "internal error" before
    from typer.testing import CliRunner

    import stockplan.pipeline
    from stockplan.cli import app

    def interrupted_import(*args, **kwargs):
        try:
            raise KeyboardInterrupt
        finally:
            raise KeyError(140664491244416)  # noqa: B012 (as importlib raises it)

    monkeypatch.setattr(stockplan.pipeline, "run_plan", interrupted_import)
    result = CliRunner().invoke(app, ["plan", "-c", str(small_shop), "-o", "-", "--lang", "zh"])
    assert result.exit_code == 130
    assert result.stderr.strip().splitlines()[-1] == "stockplan: 已中断"


# a program that runs the command line in-process while it has a child process of its own
# (its own pool or cluster): a Ctrl-C inside the command is not the program's end
HOST = textwrap.dedent(
    """
    import multiprocessing, sys, time
    import typer
    from stockplan.cli.display import _guard

    def wait():
        time.sleep(60)

    def interrupted():
        raise KeyboardInterrupt

    if __name__ == "__main__":
        own = multiprocessing.get_context("fork").Process(target=wait, daemon=True)
        own.start()
        try:
            _guard(False, interrupted)
        except typer.Exit as done:
            print("exit", done.exit_code, "child alive", own.is_alive(), flush=True)
        own.kill()
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork")
def test_ctrl_c_in_a_command_run_in_process_leaves_the_host_and_its_own_children(
    tmp_path: Path,
):
    # the guard ended every multiprocessing child and the whole process (os._exit(130)):
    # a test run's Dask cluster and the test run itself went with it
    script = tmp_path / "host.py"
    script.write_text(HOST, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "exit 130 child alive True"
    assert done.stderr.strip() == "stockplan: interrupted"
