"""stockplan: a replenishment planner, from the command line or from Python.

    import stockplan
    config, inputs = stockplan.load("stockplan.yaml")
    plan = stockplan.plan(inputs, config)

The API names load lazily (module `__getattr__`), so `stockplan --help` does not import
polars or the forecasting libraries.
"""

from __future__ import annotations

import os

__version__ = "0.1.0"

# Polars allocates through its own jemalloc (options read from `_RJEM_MALLOC_CONF` when
# polars loads). Freed pages go back to the system after 0.1 s instead of jemalloc's
# default 10 s, so the transient frames of one stage are not still resident while the
# next builds its own: on the M5-sized plan the peak of all processes fell from about
# 3.0 to 2.7 GiB at the same CPU (docs/scale.md). Set before
# polars is imported; a value the user set wins, and it does nothing when polars was
# imported first.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:100,muzzy_decay_ms:0")

__all__ = [
    "Config",
    "Explanation",
    "Inputs",
    "Plan",
    "PlanChanges",
    "Simulation",
    "StockplanError",
    "Verification",
    "__version__",
    "classify",
    "diff_plans",
    "explain",
    "load",
    "load_config",
    "plan",
    "planning_date",
    "read_inputs",
    "read_purchase_orders",
    "risk_news",
    "score_overrides",
    "simulate",
    "supplier_forecast",
    "suppliers",
    "verify",
]

_LAZY = {
    "Config": "stockplan.config",
    "load_config": "stockplan.config",
    "Plan": "stockplan.result",
    "StockplanError": "stockplan.errors",
    "Explanation": "stockplan.api",
    "Inputs": "stockplan.api",
    "PlanChanges": "stockplan.api",
    "Simulation": "stockplan.api",
    "Verification": "stockplan.api",
    "classify": "stockplan.api",
    "diff_plans": "stockplan.api",
    "explain": "stockplan.api",
    "load": "stockplan.api",
    "plan": "stockplan.api",
    "planning_date": "stockplan.api",
    "read_inputs": "stockplan.api",
    "read_purchase_orders": "stockplan.api",
    "risk_news": "stockplan.diff",
    "score_overrides": "stockplan.api",
    "simulate": "stockplan.api",
    "supplier_forecast": "stockplan.api",
    "suppliers": "stockplan.api",
    "verify": "stockplan.api",
}

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any

    from stockplan.api import (
        Explanation,
        Inputs,
        PlanChanges,
        Simulation,
        Verification,
        classify,
        diff_plans,
        explain,
        load,
        plan,
        planning_date,
        read_inputs,
        read_purchase_orders,
        score_overrides,
        simulate,
        supplier_forecast,
        suppliers,
        verify,
    )
    from stockplan.config import Config, load_config
    from stockplan.diff import risk_news
    from stockplan.errors import StockplanError
    from stockplan.result import Plan


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'stockplan' has no attribute '{name}'")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
