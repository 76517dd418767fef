"""Time stockplan's commands as a buyer runs them: separate processes, median of N runs.

    python bench/speed.py                      # the bundled sample, 3 runs each
    python bench/speed.py --runs 5 -c my.yaml

Every command runs as a subprocess (`python -m stockplan ...`), so imports, loading and
writing count. For each: median wall time and median CPU time (user + sys of the child,
from resource.getrusage(RUSAGE_CHILDREN)), and the 1-minute load average before each run;
on a shared machine the wall time grows with the load, the CPU time much less.

Baseline measured in the same run: `plan --no-cache` with `forecast.expensive_classes: []`
written to a temporary copy of the config is the cheap plan; `python -c pass` is the
interpreter's own start. Ratios are to the cheap plan. `n_jobs: 1` is the default
config with every fit in one process. `plan (cached)` is a second plan
on unchanged inputs; `explain`, `risk` and `notices` read the same cache.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str], runs: int, cwd: Path) -> dict[str, float]:
    """Median wall and CPU seconds of `runs` runs of argv; the load averages seen."""
    walls, cpus, loads = [], [], []
    for _ in range(runs):
        loads.append(os.getloadavg()[0])
        cpu, wall = _child_cpu(), time.perf_counter()
        done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
        walls.append(time.perf_counter() - wall)
        cpus.append(_child_cpu() - cpu)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr}")
    return {
        "wall": statistics.median(walls),
        "cpu": statistics.median(cpus),
        "load_min": min(loads),
        "load_max": max(loads),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-c", "--config", type=Path, default=ROOT / "config.example.yaml")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sku", default="010007", help="SKU for explain")
    args = parser.parse_args()
    config = args.config.resolve()
    python = [sys.executable]
    stockplan = [*python, "-m", "stockplan"]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        cache_dir = out / "cache"
        env_cache = {"STOCKPLAN_CACHE_DIR": str(cache_dir)}
        os.environ.update(env_cache)
        settings = yaml.safe_load(config.read_text(encoding="utf-8"))
        settings.setdefault("forecast", {})["expensive_classes"] = []
        cheap = config.parent / f".speed-cheap-{os.getpid()}.yaml"  # inputs stay relative
        cheap.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
        settings = yaml.safe_load(config.read_text(encoding="utf-8"))
        settings.setdefault("forecast", {})["n_jobs"] = 1
        serial = config.parent / f".speed-serial-{os.getpid()}.yaml"
        serial.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
        plan = [*stockplan, "plan", "-c", str(config), "-o", str(out / "plan.xlsx"), "-q"]
        commands = {
            "python -c pass": [*python, "-c", "pass"],
            "stockplan --help": [*stockplan, "--help"],
            "validate": [*stockplan, "validate", "-c", str(config), "-q"],
            "suppliers": [*stockplan, "suppliers", "-c", str(config), "-q", "-o", "-"],
            "classify --no-cache": [
                *stockplan,
                *["classify", "-c", str(config), "-q", "-o", "-", "--no-cache"],
            ],
            "plan, cheap models (baseline)": [
                *stockplan,
                *["plan", "-c", str(cheap), "-o", str(out / "cheap.xlsx"), "-q", "--no-cache"],
            ],
            "plan (default config, --no-cache)": [*plan, "--no-cache"],
            "plan (default, n_jobs: 1, --no-cache)": [
                *stockplan,
                *["plan", "-c", str(serial), "-o", str(out / "serial.xlsx"), "-q", "--no-cache"],
            ],
            "plan (cached)": plan,
            "explain (cached)": [
                *stockplan,
                *["explain", args.sku, "-c", str(config), "-q", "--no-chart"],
            ],
            "risk (cached)": [*stockplan, "risk", "-c", str(config), "-q", "-o", "-"],
            "notices (cached)": [*stockplan, "notices", "-c", str(config), "-q", "-o", "-"],
        }
        print(
            f"stockplan speed, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, "
            f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
            f"Python {platform.python_version()}, {args.runs} runs each, config {config.name}"
        )
        try:
            subprocess.run(plan, cwd=ROOT, capture_output=True, check=True)  # fill the cache
            results = {name: timed(argv, args.runs, ROOT) for name, argv in commands.items()}
        finally:
            cheap.unlink(missing_ok=True)
            serial.unlink(missing_ok=True)
    base = results["plan, cheap models (baseline)"]
    print(f"{'command':40s} {'wall s':>7s} {'CPU s':>7s} {'x base':>7s}  load average")
    for name, r in results.items():
        print(
            f"{name:40s} {r['wall']:7.2f} {r['cpu']:7.2f} {r['wall'] / base['wall']:7.2f}  "
            f"{r['load_min']:.1f}-{r['load_max']:.1f}"
        )


if __name__ == "__main__":
    main()
