"""Import the forecasting libraries on a thread while the inputs are read.

Importing statsforecast (pandas, scipy, statsmodels) and the planning modules costs about
as much CPU as reading and typing the sample's inputs, which Polars does mostly outside the
GIL. So `plan` calls `start()` before it reads its inputs, and the forecast stage calls
`statsforecast()`, which waits for that thread (or imports on the spot when none ran).

Two imports statsforecast 2.x makes are never used on the local engine and are skipped
(about 0.6 s of CPU on the sample, `python bench/speed.py --stages`):
- utilsforecast probes for `dask.dataframe` only to name a type in an annotation;
  with `forecast.engine: local` that import is refused (statsforecast handles a missing
  Dask) and the name is freed again afterwards, so a later Dask engine imports it whole.
- statsforecast.arima and .mstl import all of `statsmodels.api` for AutoARIMA and MSTL,
  which the planner does not fit: a stand-in module takes its place and imports it in full
  on the first attribute anyone reads from it. (importlib.util.LazyLoader does not do:
  the next `import` statement of the name reads its `__spec__` and so loads it.)

The command line also keeps Python's cyclic garbage collector off the imported modules
(`start(freeze=True)`): the collector is paused while the thread imports (each of its
passes walked every object imported so far) and what is alive then is frozen
(`gc.freeze`), so later passes and the collection at interpreter exit skip it. Measured on
the sample plan: about 0.2 s of CPU less for the imports and 0.3 s less at exit
(docs/speed.md, "The default plan's CPU, change by change"). Objects are still freed by
reference counting; only cycles among the frozen ones stay until the process ends, so the
Python API (a long-lived process) does not freeze.
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import sys
import threading
from types import ModuleType

_thread: list[threading.Thread] = []  # the one preload thread of this process, once started
_lock = threading.Lock()
DEFERRED_MODULES = ("statsmodels.api",)


class _Deferred(ModuleType):
    """Stands in for a module in sys.modules until one of its attributes is read, then
    imports the real module and takes over its namespace (a later `import` statement of
    the name gets the stand-in, which reads nothing from it until it is used)."""

    def __getattr__(self, attribute: str):
        name = self.__name__
        if sys.modules.get(name) is self:
            del sys.modules[name]
        module = importlib.import_module(name)
        self.__dict__.update(module.__dict__)
        return getattr(module, attribute)


def _defer(name: str) -> None:
    """Put a stand-in for module `name` in sys.modules and on its package (_Deferred)."""
    if name in sys.modules:
        return
    parent, _, child = name.rpartition(".")
    try:
        package = importlib.import_module(parent)
        if importlib.util.find_spec(name) is None:
            return
    except ImportError:
        return
    stand_in = _Deferred(name)
    sys.modules[name] = stand_in
    setattr(package, child, stand_in)


def _import(local: bool) -> None:
    """Import statsforecast with its models (`local`: without Dask's frame type)."""
    if "statsforecast.models" in sys.modules:
        return
    for name in DEFERRED_MODULES:
        _defer(name)
    refused = local and "dask.dataframe" not in sys.modules
    if refused:
        sys.modules["dask.dataframe"] = None  # type: ignore[assignment]  # import refused
    try:
        importlib.import_module("statsforecast")
        importlib.import_module("statsforecast.models")
    finally:
        if refused and sys.modules.get("dask.dataframe", False) is None:
            del sys.modules["dask.dataframe"]


def _preload(local: bool, freeze: bool = False) -> None:
    """The planning pipeline first (the plan needs it first), then statsforecast when the
    plan forecasts in this process (`local`); with `freeze`, the garbage collector paused
    meanwhile and the imported objects frozen."""
    paused = freeze and gc.isenabled()
    if paused:
        gc.disable()
    try:
        importlib.import_module("stockplan.pipeline")
        if local:
            _import(local)
    except Exception:  # noqa: BLE001  # the forecast stage imports again and reports it
        pass
    finally:
        if freeze:
            gc.freeze()
        if paused:
            gc.enable()


def start(local: bool = True, freeze: bool = False) -> None:
    """Begin importing the forecasting modules on a thread (once per process; `local`:
    the forecast runs on the local engine, else on a cluster's workers, and this process
    imports only the planning modules: the partitioned plan never forecasts in it, and
    statsforecast with pandas costs about 3 s of CPU; `freeze`: keep the garbage collector
    off the imported modules, for a process that ends after its command, see above)."""
    with _lock:
        if _thread or "statsforecast.models" in sys.modules:
            return
        _thread.append(threading.Thread(target=_preload, args=(local, freeze), name="preload"))
        _thread[0].start()


def running() -> bool:
    """Whether `start()`'s thread is still importing."""
    with _lock:
        return bool(_thread) and _thread[0].is_alive()


def statsforecast(local: bool = True) -> ModuleType:
    """The statsforecast package with its models imported: after `start()`'s thread has
    finished, else imported here the same way."""
    with _lock:
        thread = _thread[0] if _thread else None
    if thread is not None:
        thread.join()
    _import(local)
    return sys.modules["statsforecast"]
