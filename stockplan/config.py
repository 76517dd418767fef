"""Typed, validated configuration loaded from one YAML file.

Every section has defaults, so a config holding only `inputs.sales` and
`inputs.stock` produces a plan. An unknown key or a bad value raises a
`StockplanError` that names the key and what was expected.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from stockplan.errors import StockplanError

TABLES = (
    "sales",
    "stock",
    "products",
    "suppliers",
    "purchase_orders",
    "customer_orders",
    "promotions",
)

Probability = Annotated[float, Field(gt=0.5, lt=1.0)]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InputFile(Section):
    """One input file. A bare string in YAML is shorthand for `{path: ...}`."""

    path: Path
    sheet: str | int | None = None
    encoding: str | None = None
    delimiter: str | None = Field(default=None, min_length=1, max_length=1)


class Inputs(Section):
    sales: InputFile
    stock: InputFile
    products: InputFile | None = None
    suppliers: InputFile | None = None
    purchase_orders: InputFile | None = None
    customer_orders: InputFile | None = None
    promotions: InputFile | None = None

    @model_validator(mode="before")
    @classmethod
    def _expand_shorthand(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: ({"path": v} if isinstance(v, str | Path) else v) for k, v in value.items()}
        return value


class Planning(Section):
    as_of: dt.date | None = Field(
        default=None, description="Planning date; default: the day after the last sale."
    )
    bucket: Literal["day", "week"] = "week"
    horizon_periods: int = Field(default=13, ge=1, le=104)
    default_location: str = Field(default="MAIN", min_length=1)
    unknown_sku: Literal["error", "warn"] = "error"
    currency: str = "CNY"


class LeadTime(Section):
    default_days: float = Field(default=14.0, gt=0, le=365)
    default_std_days: float = Field(default=0.0, ge=0, le=180)
    min_history: int = Field(
        default=3, ge=2, description="Receipts needed before PO history overrides master data."
    )


PolicyType = Literal["rs", "ss", "sq"]


class SkuPolicy(Section):
    """Per-SKU override of the policy type and service level."""

    type: PolicyType | None = None
    service_level: Probability | None = None


def _check_class_keys(value: dict[str, Any]) -> dict[str, Any]:
    for key in value:
        if not re.fullmatch(r"[ABC][XYZ]?", key):
            raise ValueError(f"class key '{key}' must be like 'A' or 'AX' (ABC then XYZ)")
    return value


class Policy(Section):
    type: PolicyType = "rs"
    types: dict[str, PolicyType] = Field(
        default_factory=dict,
        description="Policy type per ABC class ('C') or ABC x XYZ class ('CZ').",
    )
    skus: dict[str, SkuPolicy] = Field(
        default_factory=dict, description="Per-SKU type / service_level; wins over classes."
    )
    review_days: float = Field(default=7.0, gt=0, le=365)
    service_measure: Literal["cycle", "fill_rate"] = "cycle"
    quantile_method: Literal["normal", "conformal"] = Field(
        default="normal",
        description="Safety factor for cycle service: z = Phi^-1(alpha), or the empirical "
        "alpha-quantile of backtest errors pooled by demand pattern.",
    )
    service_level: Probability = 0.95
    service_levels: dict[str, Probability] = Field(
        default_factory=dict,
        description="Per ABC class ('A') or ABC x XYZ class ('AX'); a product's own wins.",
    )
    discrete_patterns: list[Literal["smooth", "erratic", "intermittent", "lumpy"]] = Field(
        default_factory=lambda: ["intermittent", "lumpy"]
    )
    holding_cost_rate: float = Field(default=0.25, gt=0, le=5, description="Per year, of cost.")
    ordering_cost: float = Field(default=50.0, ge=0)
    lead_time_demand: Literal["auto", "block", "days", "parametric"] = Field(
        default="auto",
        description="Lead-time demand behind S: a bootstrap of the item's own daily history "
        "(whole L + R windows 'block', or single days 'days'; 'auto' keeps per demand pattern "
        "the one better calibrated in the backtest), or 'parametric' (normal / Poisson / "
        "negative binomial).",
    )
    bootstrap_history_days: int = Field(
        default=364, ge=28, le=3660, description="Daily history the bootstrap resamples."
    )
    bootstrap_draws: int = Field(default=500, ge=100, le=10000)
    bootstrap_patterns: list[Literal["smooth", "erratic", "intermittent", "lumpy"]] = Field(
        default_factory=lambda: ["erratic", "intermittent", "lumpy"],
        description="Demand patterns whose lead-time demand is chosen and recalibrated on "
        "the backtest; the others keep the parametric normal / Poisson / NB levels.",
    )
    calibrate: bool = Field(
        default=True,
        description="Recalibrate the bootstrap's quantiles per demand pattern on the "
        "forecast's backtest windows (and choose the bootstrap there, with 'auto').",
    )
    large_orders: Literal["cover", "make_to_order"] = Field(
        default="cover",
        description="Large one-off order lines: kept in the demand the stock covers, or set "
        "aside as make-to-order demand that the stock target does not chase.",
    )
    large_order_factor: float = Field(
        default=10.0, gt=1, description="A line is large above this many times the usual line."
    )
    large_order_min_lines: int = Field(
        default=5, ge=1, description="Lines an item needs before any of its lines is large."
    )
    large_order_history_days: int = Field(default=364, ge=28, le=3660)
    max_cover_days: float = Field(
        default=182.0,
        gt=0,
        description="A target that needs more stock than this many days of mean demand is "
        "capped there and reported as not reachable at sane stock.",
    )

    @field_validator("skus", mode="before")
    @classmethod
    def _quoted_codes(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for key in value:
                if not isinstance(key, str):
                    raise ValueError(
                        f"SKU code {key!r} must be quoted in YAML, e.g. '010000': YAML reads "
                        "bare digits as a number and drops leading zeros"
                    )
        return value

    @field_validator("service_levels", "types")
    @classmethod
    def _class_keys(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _check_class_keys(value)


class Forecast(Section):
    season_length: int | Literal["auto"] = "auto"
    backtest_windows: int = Field(default=6, ge=1, le=12)
    backtest_horizon_days: int = Field(default=28, ge=1, le=366)
    min_history_periods: int = Field(default=8, ge=2)
    new_item_default: float | None = Field(
        default=None,
        ge=0,
        description="Prior demand per bucket for short-history items with no category.",
    )
    interval_level: float = Field(default=80.0, gt=0, lt=100)
    n_jobs: int = Field(default=1, ge=-1)
    combine_top: int = Field(
        default=2,
        ge=1,
        le=4,
        description="Average the forecasts of the best N models by backtest (1: pick one).",
    )
    expensive_classes: list[Literal["A", "B", "C"]] = Field(
        default_factory=lambda: ["A"],
        description="ABC classes whose smooth / seasonal items also try AutoETS and AutoTheta.",
    )
    dead_alpha: float = Field(
        default=0.1, gt=0, lt=1, description="TSB smoothing of a dead item's demand probability."
    )
    dead_probability: float = Field(
        default=0.05,
        ge=0,
        lt=1,
        description="A dead item is forecast as zero only when its empty run since the last "
        "sale would have this small a chance, (1 - p)^k, were it still selling as before; "
        "otherwise TSB's decaying forecast.",
    )
    engine: Literal["local", "dask", "ray", "spark"] = Field(
        default="local", description="Where the forecast stage runs (statsforecast via fugue)."
    )
    engine_address: str | None = Field(
        default=None, description="Cluster to use; none: a local cluster for the run."
    )


class Classify(Section):
    abc_cutoffs: tuple[float, float] = (0.8, 0.95)
    xyz_cutoffs: tuple[float, float] = (0.5, 1.0)
    adi_cutoff: float = Field(default=1.32, gt=1)
    cv2_cutoff: float = Field(default=0.49, gt=0)
    new_item_periods: int = Field(default=8, ge=1)
    dead_item_days: int = Field(default=91, ge=1)

    @field_validator("abc_cutoffs")
    @classmethod
    def _ordered(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not 0 < value[0] < value[1] <= 1:
            raise ValueError("must be two cumulative shares 0 < a < b <= 1, e.g. [0.8, 0.95]")
        return value


class Transfers(Section):
    enabled: bool = True
    min_qty: float = Field(default=1.0, ge=1, description="Smallest move worth making, units.")


class Excess(Section):
    buffer_days: float = Field(
        default=30.0, ge=0, description="Days of demand above order-up-to before stock is excess."
    )


class Purchasing(Section):
    budget: float | None = Field(default=None, gt=0, description="Cap on this run's order value.")


class Censoring(Section):
    method: Literal["auto", "snapshots", "inferred", "zero_runs", "off"] = "auto"
    threshold: float = Field(
        default=1e-4,
        gt=0,
        lt=0.5,
        description="zero_runs: chance below which a run is a stockout.",
    )
    lookback_days: int = Field(default=56, ge=7, description="zero_runs: days before a run.")
    min_history_days: int = Field(default=28, ge=7, description="zero_runs: history needed.")
    max_run_days: int = Field(
        default=56, ge=2, description="zero_runs: longer runs are a real change, not censoring."
    )


class Promotions(Section):
    default_uplift: float = Field(
        default=0.3, ge=0, le=20, description="Lift of a planned promotion with no uplift given."
    )
    min_promo_days: int = Field(
        default=7, ge=1, description="Promotion days a SKU needs before its own lift is used."
    )
    min_promo_units: float = Field(
        default=50, ge=0, description="Promotion units a SKU needs before its own lift is used."
    )


class Simulate(Section):
    periods: int = Field(default=26, ge=4, le=260, description="Buckets replayed, ending at as_of.")
    refit_every: int = Field(default=13, ge=1, description="Buckets between forecast refits.")
    targets: list[Probability] = Field(
        default_factory=lambda: [0.85, 0.9, 0.95, 0.98, 0.99],
        min_length=1,
        description="Service-level targets replayed (policy.service_measure) for the curve.",
    )
    unmet_demand: Literal["lost", "backorder"] = "lost"
    baseline_reorder_weeks: float = Field(default=2.0, gt=0)
    baseline_up_to_weeks: float = Field(default=4.0, gt=0)
    baseline_scales: list[float] = Field(
        default_factory=lambda: [0.5, 0.75, 1.0, 1.5, 2.0, 3.0],
        min_length=1,
        description="Multiples of the baseline's weeks replayed for its curve.",
    )
    seed: int = 0
    warmup: bool = Field(
        default=True,
        description="Count service, stock and orders only from each series' first L + R "
        "days on, when its first order can have arrived (both start without safety stock).",
    )

    @model_validator(mode="after")
    def _baseline_order(self) -> Simulate:
        if self.baseline_up_to_weeks <= self.baseline_reorder_weeks:
            raise ValueError("simulate.baseline_up_to_weeks must exceed baseline_reorder_weeks")
        return self


class Risk(Section):
    high: float = Field(default=0.5, gt=0, lt=1)
    medium: float = Field(default=0.2, gt=0, lt=1)


class Config(Section):
    inputs: Inputs
    columns: dict[Literal[TABLES], dict[str, str]] = Field(default_factory=dict)  # type: ignore[valid-type]
    planning: Planning = Planning()
    lead_time: LeadTime = LeadTime()
    policy: Policy = Policy()
    forecast: Forecast = Forecast()
    classify: Classify = Classify()
    risk: Risk = Risk()
    transfers: Transfers = Transfers()
    excess: Excess = Excess()
    purchasing: Purchasing = Purchasing()
    simulate: Simulate = Simulate()
    censoring: Censoring = Censoring()
    promotions: Promotions = Promotions()

    @model_validator(mode="after")
    def _risk_order(self) -> Config:
        if self.risk.medium >= self.risk.high:
            raise ValueError("risk.medium must be below risk.high")
        return self


def _describe(error: dict[str, Any]) -> str:
    key = ".".join(str(part) for part in error["loc"]) or "(top level)"
    if error["type"] == "extra_forbidden":
        return f"unknown key '{key}'"
    if error["type"] == "missing":
        return f"missing key '{key}'"
    got = error.get("input")
    got_text = f", got {got!r}" if got is not None and not isinstance(got, dict) else ""
    return f"key '{key}': {error['msg']}{got_text}"


def parse_config(raw: dict[str, Any], source: str | Path = "config", base_dir: Path | None = None):
    """Validate a config mapping; relative input paths resolve against `base_dir`."""
    if not isinstance(raw, dict):
        raise StockplanError(f"{source}: expected a YAML mapping of sections at the top level")
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        raise StockplanError(f"{source}: {_describe(exc.errors()[0])}") from None
    if base_dir is None:
        return config
    resolved = {
        name: (f.model_copy(update={"path": base_dir / f.path}) if f is not None else None)
        for name, f in config.inputs
    }
    return config.model_copy(update={"inputs": Inputs.model_validate(resolved)})


def load_config(path: str | Path) -> Config:
    """Read and validate the YAML config at `path`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise StockplanError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StockplanError(f"{path}: cannot read config ({exc})") from None
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise StockplanError(f"{path}:{where} {problem}") from None
    return parse_config(raw, path, path.parent)
