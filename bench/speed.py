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

    python bench/speed.py --stages --runs 3    # where the default plan's time goes
    python bench/speed.py --stages --runs 5 --against 2dee034   # and at an older revision

`--stages` runs the default `plan -o plan.xlsx --no-cache` in a fresh process that times
each stage (wall, and CPU of the process with its threads and finished workers), median
of N runs: importing the CLI and the pipeline's modules, reading and typing the inputs,
the demand stage, the forecast (and inside it the wait for statsforecast's import, the
backtest and the final forecast), the rest of the supply stage, orders, purchasing and
writing the workbook. `--against REV` exports the project at git revision REV to a
temporary folder and times it in the same way, its runs alternating with this tree's, so
both see the same load (stages an older revision lacks show as "-").

    python bench/speed.py --plan-against 56ea3d5 --runs 5   # whole plan, old vs this tree

Every tree timed has its package compiled first (`python -m compileall -q stockplan`), as
the README's set-up command leaves it. `--source` times it without: the package's
`__pycache__` folders removed and none written, so every command compiles stockplan's
sources again, as an editable install does on a machine with PYTHONDONTWRITEBYTECODE set
when the set-up skipped compileall. The tree stays without its bytecode afterwards: the
next run without `--source` (or `python -m compileall -q stockplan`) writes it again.

`--plan-against REV` runs `plan -q -c CONFIG --no-cache -o plan.xlsx` as whole processes
(interpreter exit included, which `--stages` does not see), alternately on the project at
REV and on this tree (the first of each pair alternating too), and prints the median wall
and CPU time of each, the ratio of the CPU medians and the load average seen.

    python bench/speed.py --replan-against caaea8a --runs 3   # re-plan after a stock edit
    python bench/speed.py --simulate-against 87331c1 --runs 3  # simulate, old vs this tree

`--replan-against REV` times the re-plan a buyer makes after editing one stock count: per
run and tree, with an empty cache folder, `plan -q -c CONFIG -o plan.xlsx` on the inputs
as they are (untimed: it fills the cache), then the same command after `--edit OLD=NEW`
(a text replacement in a copy of the stock file; default the sample's 010007 at WH-BJ,
on hand 503 -> 504), timed; trees alternating as in `--plan-against`.

`--simulate-against REV` times `simulate -q -c FILL -o simulation.csv` as whole processes,
trees alternating as in `--plan-against`, FILL being CONFIG with absolute input paths,
`policy.service_measure: fill_rate` and `simulate.targets: [0.9, 0.95, 0.98]` (the replay
tests/test_simulate.py runs); it also says whether the two trees wrote the same bytes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
START = (time.perf_counter(), time.process_time())


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


STAGES = [
    ("stockplan.api", "read_inputs", "read and type inputs"),
    ("stockplan.pipeline", "demand_stage", "demand stage"),
    ("stockplan.pipeline", "forecast_series", "  forecast"),
    ("stockplan.forecast", "_statsforecast", "    wait for statsforecast import"),
    ("stockplan.forecast", "_backtest", "    backtest"),
    ("stockplan.forecast", "_final_forecast", "    final forecast"),
    ("stockplan.pipeline", "supply_stage", "supply stage (with forecast)"),
    ("stockplan.pipeline", "order_stage", "order stage"),
    ("stockplan.pipeline", "purchasing_stage", "purchasing stage"),
    ("stockplan.io.writers", "write_files", "write files"),
]


def _stage_child(argv: list[str]) -> None:
    """Run the CLI in this process with each of STAGES timed; print JSON lines."""
    import json

    def clock() -> tuple[float, float]:
        return time.perf_counter(), time.process_time() + _child_cpu()

    spent: dict[str, list[float]] = {}

    def timed_call(label, function):
        def wrapper(*args, **kwargs):
            wall, cpu = clock()
            try:
                return function(*args, **kwargs)
            finally:
                now = clock()
                total = spent.setdefault(label, [0.0, 0.0])
                total[0] += now[0] - wall
                total[1] += now[1] - cpu

        return wrapper

    import builtins
    import threading

    # patch each module when the command itself first imports it (importing them here
    # would move their import out of the stages and change what overlaps with what)
    pending = {module_name for module_name, _, _ in STAGES}
    lock = threading.Lock()
    original_import = builtins.__import__

    def patch_new_modules() -> None:
        with lock:
            for module_name in [m for m in pending if m in sys.modules]:
                module = sys.modules[module_name]
                if getattr(module, "__spec__", None) is None or module.__spec__._initializing:
                    continue  # still executing: patch after it has defined its functions
                pending.discard(module_name)
                for target, name, label in STAGES:
                    if target == module_name and hasattr(module, name):
                        setattr(module, name, timed_call(label, getattr(module, name)))

    def importing(*args, **kwargs):
        module = original_import(*args, **kwargs)
        if pending:
            patch_new_modules()
        return module

    builtins.__import__ = importing
    from stockplan.cli import app

    wall, cpu = clock()
    spent["imports before the command"] = [wall - START[0], cpu - START[1]]
    try:
        app(argv, standalone_mode=False)
    except SystemExit:
        pass
    finally:
        now = clock()
        spent["command total"] = [now[0] - wall, now[1] - cpu]
        spent["process total (after interpreter start)"] = [now[0] - START[0], now[1]]
        print(json.dumps(spent))


def _compiled(root: Path) -> Path:
    """`root` with its package's bytecode written, as the README's set-up command does
    (`python -m compileall -q stockplan`); nothing when timing from source (`--source`)."""
    if os.environ.get("STOCKPLAN_SPEED_SOURCE") != "1":
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", "stockplan"], cwd=root, check=True
        )
    return root


def _checkout(revision: str, into: Path) -> Path:
    """The project's files at git `revision`, exported into a folder (no git state) and
    compiled as this tree is (`_compiled`)."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", revision], cwd=ROOT, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return _compiled(into)


def stages(config: Path, runs: int, against: str | None = None) -> None:
    """Median stage times of `runs` fresh-process default plans (see `_stage_child`); with
    `against`, the same for the project at that git revision, runs alternating."""
    import json

    with tempfile.TemporaryDirectory() as tmp:
        trees = {"this tree": ROOT}
        if against:
            old = Path(tmp) / "old"
            old.mkdir()
            trees = {against: _checkout(against, old), **trees}
        results: dict[str, list[dict[str, list[float]]]] = {name: [] for name in trees}
        loads = []
        for _ in range(runs):
            for name, root in trees.items():
                loads.append(os.getloadavg()[0])
                # this file's timing child, importing stockplan from `root`
                argv = [
                    *[sys.executable, __file__, "--stage-child", "plan"],
                    *[
                        "-c",
                        str(root / config.relative_to(ROOT))
                        if config.is_relative_to(ROOT)
                        else str(config),
                    ],
                    *["-o", str(Path(tmp) / "plan.xlsx"), "-q", "--no-cache"],
                ]
                env = {**os.environ, "PYTHONPATH": str(root)}
                done = subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True)
                if done.returncode != 0:
                    raise SystemExit(f"stage run failed ({name}):\n{done.stderr}")
                results[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(
        f"stockplan stages, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} "
        f"cores, Python {platform.python_version()}, median of {runs} runs, "
        f"load average {min(loads):.1f}-{max(loads):.1f}, config {config.name}"
    )
    labels = list(  # this tree's stages in order, then any only the older revision has
        dict.fromkeys(label for name in reversed(trees) for r in results[name] for label in r)
    )
    print(f"{'stage':40s}" + "".join(f" {f'{name} wall s':>18s} {'CPU s':>6s}" for name in trees))
    for label in labels:
        line = f"{label:40s}"
        for name in trees:
            got = [r[label] for r in results[name] if label in r]
            if got:
                wall = statistics.median(g[0] for g in got)
                cpu = statistics.median(g[1] for g in got)
                line += f" {wall:18.2f} {cpu:6.2f}"
            else:
                line += f" {'-':>18s} {'-':>6s}"
        print(line)


def _alternating(
    trees: dict[str, Path], runs: int, prepare: Callable[[str, Path, int], tuple[list, dict]]
) -> tuple[dict[str, list[tuple[float, float]]], list[float]]:
    """(wall, CPU) of each tree's timed `plan` per run, and the load before each: runs
    alternate the trees' order; `prepare(name, root, run)` does what must come first and
    gives the command's argv and environment, run in `root`."""
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
    loads = []
    for run in range(runs):
        order = list(trees.items()) if run % 2 == 0 else list(reversed(trees.items()))
        for name, root in order:
            argv, env = prepare(name, root, run)
            loads.append(os.getloadavg()[0])
            cpu, wall = _child_cpu(), time.perf_counter()
            done = subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True)
            times[name].append((time.perf_counter() - wall, _child_cpu() - cpu))
            if done.returncode != 0:
                raise SystemExit(f"{argv[3]} failed ({name}):\n{done.stderr}")
    return times, loads


def plan_against(config: Path, runs: int, against: str) -> None:
    """Median wall and CPU of whole `plan` processes at git revision `against` and in this
    tree, runs alternating (see the module docstring)."""
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "old"
        old.mkdir()
        trees = {against: _checkout(against, old), "this tree": ROOT}

        def prepare(name: str, root: Path, run: int) -> tuple[list, dict]:
            argv = [sys.executable, "-m", "stockplan", "plan", "-q", "--no-cache"]
            inside = config.is_relative_to(ROOT)
            argv += ["-c", str(root / config.relative_to(ROOT)) if inside else str(config)]
            argv += ["-o", str(Path(tmp) / "plan.xlsx")]
            return argv, {**os.environ, "PYTHONPATH": str(root)}

        times, loads = _alternating(trees, runs, prepare)
    _print_against("plan", config, runs, against, times, loads)


def _print_against(
    command: str,
    config: Path,
    runs: int,
    against: str,
    times: dict[str, list[tuple[float, float]]],
    loads: list[float],
) -> None:
    """Median wall and CPU per tree of `_alternating`'s runs, and the ratios."""
    print(
        f"stockplan {command}, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, median of {runs} runs "
        f"alternating, load average {min(loads):.1f}-{max(loads):.1f}, config {config.name}"
    )
    walls, cpus = {}, {}
    for name, got in times.items():
        walls[name] = statistics.median(w for w, _ in got)
        cpus[name] = statistics.median(c for _, c in got)
        runs_cpu = " ".join(f"{c:.2f}" for _, c in got)
        runs_wall = " ".join(f"{w:.2f}" for w, _ in got)
        print(
            f"{name:12s} wall {walls[name]:6.2f} s  CPU {cpus[name]:6.2f} s  "
            f"(wall of each run: {runs_wall}; CPU: {runs_cpu})"
        )
    print(
        f"this tree / {against}: wall {walls['this tree'] / walls[against]:.3f}, "
        f"CPU {cpus['this tree'] / cpus[against]:.3f}"
    )


def simulate_against(config: Path, runs: int, against: str) -> None:
    """Median wall and CPU of whole fill-rate `simulate` processes at git revision
    `against` and in this tree, runs alternating (see the module docstring)."""
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    for name, spec in settings["inputs"].items():  # absolute paths: one config for both
        if spec is None:
            continue
        entry = spec if isinstance(spec, dict) else {"path": spec}
        settings["inputs"][name] = {**entry, "path": str((config.parent / entry["path"]).resolve())}
    settings["policy"]["service_measure"] = "fill_rate"
    settings["simulate"] = {**(settings.get("simulate") or {}), "targets": [0.9, 0.95, 0.98]}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        fill = work / "fill.yaml"
        fill.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
        old = work / "old"
        old.mkdir()
        trees = {against: _checkout(against, old), "this tree": ROOT}
        written: dict[str, set[bytes]] = {name: set() for name in trees}

        def prepare(name: str, root: Path, run: int) -> tuple[list, dict]:
            out = work / f"simulation-{name.replace(' ', '-')}-{run}.csv"
            argv = [sys.executable, "-m", "stockplan", "simulate", "-q", "-c", str(fill)]
            return argv + ["-o", str(out)], {**os.environ, "PYTHONPATH": str(root)}

        times, loads = _alternating(trees, runs, prepare)
        for path in work.glob("simulation-*.csv"):
            name = against if path.name.startswith(f"simulation-{against}-") else "this tree"
            written[name].add(path.read_bytes())
    _print_against("simulate (fill rate 0.90 / 0.95 / 0.98)", config, runs, against, times, loads)
    same = len(written[against] | written["this tree"]) == 1
    print(f"CSV written: {'the same bytes in every run' if same else 'DIFFERENT bytes'}")


def replan_against(config: Path, runs: int, against: str, edit: str) -> None:
    """Median wall and CPU of the re-plan after one stock edit, at git revision `against`
    and in this tree, runs alternating (see the module docstring)."""
    old_text, new_text = edit.split("=", 1)
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, spec in settings["inputs"].items():  # absolute paths, stock copied
            if spec is None:
                continue
            entry = spec if isinstance(spec, dict) else {"path": spec}
            entry["path"] = str((config.parent / entry["path"]).resolve())
            if name == "stock":
                stock = work / f"stock{Path(entry['path']).suffix}"
                original = Path(entry["path"]).read_bytes()
                assert original.count(old_text.encode()) == 1, f"--edit {old_text!r} not once"
                entry["path"] = str(stock)
            settings["inputs"][name] = entry
        copied = work / config.name
        copied.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
        old = work / "old"
        old.mkdir()
        trees = {against: _checkout(against, old), "this tree": ROOT}

        def prepare(name: str, root: Path, run: int) -> tuple[list, dict]:
            """The plan on the stock as exported (untimed, it fills a fresh cache), then
            the stock edited: the timed re-plan."""
            argv = [sys.executable, "-m", "stockplan", "plan", "-q", "-c", str(copied)]
            argv += ["-o", str(work / "plan.xlsx")]
            cache = work / f"cache-{run}-{name.replace(' ', '-')}"
            env = {**os.environ, "PYTHONPATH": str(root), "STOCKPLAN_CACHE_DIR": str(cache)}
            stock.write_bytes(original)
            subprocess.run(argv, cwd=root, env=env, capture_output=True, check=True)
            stock.write_bytes(original.replace(old_text.encode(), new_text.encode()))
            return argv, env

        times, loads = _alternating(trees, runs, prepare)
    print(
        f"stockplan re-plan after one stock edit, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} "
        f"UTC, {os.cpu_count()} cores, Python {platform.python_version()}, median of {runs} "
        f"runs alternating, load average {min(loads):.1f}-{max(loads):.1f}, "
        f"config {config.name}"
    )
    for name, got in times.items():
        walls = " ".join(f"{w:.2f}" for w, _ in got)
        print(
            f"{name:12s} wall {statistics.median(w for w, _ in got):6.2f} s  "
            f"CPU {statistics.median(c for _, c in got):6.2f} s  (wall of each run: {walls})"
        )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--stage-child":
        _stage_child(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-c", "--config", type=Path, default=ROOT / "config.example.yaml")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sku", default="010007", help="SKU for explain")
    parser.add_argument("--stages", action="store_true", help="time the default plan's stages")
    parser.add_argument(
        "--against", metavar="REV", help="with --stages: also time git revision REV, alternating"
    )
    parser.add_argument(
        "--plan-against",
        metavar="REV",
        help="time whole default plans at git revision REV and in this tree, alternating",
    )
    parser.add_argument(
        "--replan-against",
        metavar="REV",
        help="time the re-plan after one stock edit at git revision REV and in this tree",
    )
    parser.add_argument(
        "--simulate-against",
        metavar="REV",
        help="time the fill-rate simulate at git revision REV and in this tree, alternating",
    )
    parser.add_argument(
        "--edit",
        default="010007,WH-BJ,503,=010007,WH-BJ,504,",
        help="with --replan-against: OLD=NEW, replaced once in a copy of the stock file",
    )
    parser.add_argument(
        "--source",
        action="store_true",
        help="time stockplan compiled from source at every run, as without the set-up's "
        "compileall on a machine with PYTHONDONTWRITEBYTECODE",
    )
    args = parser.parse_args()
    config = args.config.resolve()
    if args.source:  # no bytecode of stockplan's own, and the children write none
        os.environ.update({"STOCKPLAN_SPEED_SOURCE": "1", "PYTHONDONTWRITEBYTECODE": "1"})
        for cache in (ROOT / "stockplan").rglob("__pycache__"):
            shutil.rmtree(cache)
    _compiled(ROOT)
    if args.replan_against:
        replan_against(config, args.runs, args.replan_against, args.edit)
        return
    if args.plan_against:
        plan_against(config, args.runs, args.plan_against)
        return
    if args.simulate_against:
        simulate_against(config, args.runs, args.simulate_against)
        return
    if args.stages:
        stages(config, args.runs, args.against)
        return
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
            f"Python {platform.python_version()}, {args.runs} runs each, config {config.name}, "
            + ("compiled from source at every run" if args.source else "bytecode compiled")
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
