"""Typed, validated configuration loaded from one YAML file.

Every section has defaults, so a config holding only `inputs.sales` and
`inputs.stock` produces a plan. An unknown key or a bad value raises a
`StockplanError` that names the key and what was expected.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    StringConstraints,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from stockplan.errors import StockplanError, expand_env, quote, redact_url

TABLES = (
    "sales",
    "stock",
    "products",
    "suppliers",
    "purchase_orders",
    "customer_orders",
    "promotions",
    "bom",
    "succession",
    "overrides",
    "closures",
    "price_breaks",
)

Probability = Annotated[float, Field(gt=0.5, lt=1.0)]
WRITTEN_DATE = r"(\d{4})\s*[/.年-]\s*(\d{1,2})\s*[/.月-]\s*(\d{1,2})\s*[日号]?"
"""A date in the config or on the command line written year first as the data's dates may
be: `2024/12/30`, `2024.12.30`, `2024年12月30日` (`written_date`)."""


def written_date(text: str) -> dt.date | None:
    """The date `text` writes year first as the data's dates may be (`WRITTEN_DATE`:
    `2024-12-30`, `2024/12/30`, `2024.12.30`, `2024年12月30日` or `号`, spaces between the
    parts allowed): `planning.as_of` and `--as-of`. None when it is not written so; a day
    the calendar lacks (`2024/2/30`) raises ValueError."""
    written = re.fullmatch(WRITTEN_DATE, text.strip())
    if written is None:
        return None
    year, month, day = (int(part) for part in written.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ValueError("is no day of the calendar") from None


PLAUSIBLE_DATES = (dt.date(1980, 1, 1), dt.date(2099, 12, 31))
"""Dates outside this window in a config or a data file are refused as typos or placeholders
(ERPs write 1900-01-01 or 9999-12-31 for "no date")."""


def plausible_date(day: dt.date) -> dt.date:
    """`day` as a planning date (`planning.as_of`, `--as-of`): ValueError outside
    `PLAUSIBLE_DATES`, where no calendar, forecast or ERP placeholder makes sense."""
    if not PLAUSIBLE_DATES[0] <= day <= PLAUSIBLE_DATES[1]:
        raise ValueError(f"must be a date between {PLAUSIBLE_DATES[0]} and {PLAUSIBLE_DATES[1]}")
    return day


MAX_CONFIG_BYTES = 1_000_000
MAX_CONFIG_NODES = 100_000
"""A config larger than this, or one whose YAML aliases expand to more values, is refused."""


YUAN_NAMES = frozenset({"CNY", "RMB", "人民币", "元", "人民币元", "RMB¥", "¥", "￥"})
"""The ways a sheet writes the Chinese yuan: one currency, CNY."""


def currency_code(text: str) -> str:
    """A currency as written (`usd`, ` CNY `, `人民币`, `元`) as its code: trimmed, upper
    case, every name of the yuan (`YUAN_NAMES`) CNY."""
    code = "".join(text.split()).upper()
    return "CNY" if code in YUAN_NAMES else code


class Section(BaseModel):
    # `.inf` / `.nan` are valid YAML floats but never a sensible setting
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class InputFile(Section):
    """One input file. A bare string in YAML is shorthand for `{path: ...}`."""

    path: Path
    sheet: str | Annotated[int, Field(ge=0)] | None = None
    encoding: str | None = None
    delimiter: str | None = Field(default=None, min_length=1, max_length=1)


class DatabaseInput(Section):
    """One input table read from a database: `{url: ..., query: ...}` or `{url: ..., table: ...}`.

    `url` is `postgresql://user:password@host:5432/db`, `sqlite:///file.db` or
    `duckdb:///file.duckdb` (three slashes: relative to the config; four: absolute);
    `${VAR}` in it is taken from the environment when the table is read (a relative file
    path in it from the config's folder too).
    """

    url: str = Field(min_length=1)
    query: str | None = Field(default=None, min_length=1)
    table: str | None = Field(default=None, min_length=1)
    timeout_seconds: float = Field(
        default=120.0, gt=0, le=86_400, description="Connect and query time limit."
    )

    @model_validator(mode="after")
    def _query_or_table(self) -> DatabaseInput:
        if (self.query is None) == (self.table is None):
            raise ValueError("give either 'query' or 'table' with a database 'url', not both")
        return self

    _table: str | None = PrivateAttr(default=None)  # the input table it feeds, for messages
    # the config's folder: a database file's `${VAR}` that holds a relative path is read
    # from there when the table is read, as a relative path written in the url is
    _base_dir: Path | None = PrivateAttr(default=None)

    def describe(self, table: str | None = None) -> str:
        """`inputs.sales (postgresql://odoo@db:5432/odoo)`: how messages name a database
        input. The url is shown as written (`${VAR}` unexpanded), any literal password hidden."""
        source = redact_url(self.url)
        if self.table is not None:
            source += f", table {self.table}"
        return f"inputs.{table} ({source})" if table else source

    @property
    def path(self) -> str:
        """How messages name this input (as a file's path names it): no password in it."""
        return self.describe(self._table)


def _input_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "database" if "url" in value else "file"
    return "database" if isinstance(value, DatabaseInput) else "file"


InputSpec = Annotated[
    Annotated[InputFile, Tag("file")] | Annotated[DatabaseInput, Tag("database")],
    Discriminator(_input_kind),
]
"""A file (`path:`) or a database table (`url:` with `query:` or `table:`)."""


class Inputs(Section):
    sales: InputSpec
    stock: InputSpec
    products: InputSpec | None = None
    suppliers: InputSpec | None = None
    purchase_orders: InputSpec | None = None
    customer_orders: InputSpec | None = None
    promotions: InputSpec | None = None
    bom: InputSpec | None = None  # kit sku, component sku, quantity per kit
    succession: InputSpec | None = None  # old sku, new sku, date, share
    overrides: InputSpec | None = None  # planner forecast overrides
    closures: InputSpec | None = None
    price_breaks: InputSpec | None = None

    @model_validator(mode="after")
    def _name_database_inputs(self) -> Inputs:
        for name, spec in self:
            if isinstance(spec, DatabaseInput):
                spec._table = name
        return self

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

    @field_validator("as_of", mode="before")
    @classmethod
    def _written_date(cls, value: Any) -> Any:
        """`2024/12/30`, `2024.12.30`, `2024年12月30日` as the data's dates are read (an
        impossible day is still refused)."""
        if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            return written_date(value) or value  # ISO: pydantic reads it
        return value

    @field_validator("as_of")
    @classmethod
    def _plausible_as_of(cls, value: dt.date | None) -> dt.date | None:
        return value if value is None else plausible_date(value)

    bucket: Literal["day", "week"] = "week"
    horizon_periods: int = Field(default=13, ge=1, le=104)
    default_location: str = Field(default="MAIN", min_length=1)
    unknown_sku: Literal["error", "warn"] = "error"
    currency: str = "CNY"
    exchange_rates: dict[str, Annotated[float, Field(gt=0)]] = Field(
        default_factory=dict,
        description="Units of `currency` one unit of another currency is worth (`USD: 7.10`): "
        "a supplier whose `suppliers.currency` differs has its moq_value and price breaks "
        "converted with it; without its rate that supplier is refused.",
    )

    @field_validator("exchange_rates")
    @classmethod
    def _currency_codes(cls, rates: dict[str, float]) -> dict[str, float]:
        """Keys read as `currency_code` reads a supplier's currency (`usd ` is USD)."""
        return {currency_code(code): rate for code, rate in rates.items()}

    language: Literal["zh", "en"] = Field(
        default="en",
        description="Language of headers, reasons and messages for people; JSON, Parquet and "
        "`--headers canonical` keep the canonical English column names.",
    )

    missing_from_latest_snapshot: Literal["zero", "last_seen"] = Field(
        default="zero",
        description="Stock history: an item absent from its location's newest snapshot has "
        "0 on hand (ERPs drop zero rows), or keeps its last seen quantity.",
    )
    allocated_includes_customer_orders: bool = Field(
        default=False,
        description="The stock file's allocated already reserves the open customer orders: "
        "subtract only the part of those orders above it.",
    )


NOTICE_FIELDS = ("order", "customer", "sku", "name", "location", "quantity", "date")


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


LONGEST_REVIEW_DAYS = 365
"""The longest review period R, `policy.review_days` and a supplier's own
`suppliers.review_days`: a year between orders; more is a typo (70 for 7) and protects
years of demand."""


class Policy(Section):
    type: PolicyType = "rs"
    types: dict[str, PolicyType] = Field(
        default_factory=dict,
        description="Policy type per ABC class ('C') or ABC x XYZ class ('CZ').",
    )
    skus: dict[str, SkuPolicy] = Field(
        default_factory=dict, description="Per-SKU type / service_level; wins over classes."
    )
    review_days: float = Field(default=7.0, gt=0, le=LONGEST_REVIEW_DAYS)
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
    method_choice: Literal["smallest", "one_se"] = Field(
        default="smallest",
        description="How 'auto' chooses the lead-time-demand method per demand pattern: "
        "'smallest' keeps the smallest held-out calibration error; 'one_se' the simplest "
        "(parametric, then block, then days) within one standard error of the smallest.",
    )
    bootstrap_history_days: int = Field(
        default=364, ge=28, le=3660, description="Daily history the bootstrap resamples."
    )
    bootstrap_draws: int = Field(default=500, ge=100, le=10000)
    bootstrap_level: Literal["history", "local"] = Field(
        default="history",
        description="The level the bootstrap's days are read at before they are rescaled to "
        "the forecast: 'history' takes each day as sold; 'local' first reads each day at the "
        "history's mean level from the local level around it (max(28, L + R) days each side, "
        "shrunk towards the mean by empirical Bayes), so a seasonal item's season, which the "
        "forecast holds, is not counted again as spread between the draws.",
    )
    bootstrap_patterns: list[Literal["smooth", "erratic", "intermittent", "lumpy"]] = Field(
        default_factory=lambda: ["erratic", "intermittent", "lumpy"],
        description="Demand patterns whose lead-time demand is chosen and recalibrated on "
        "the backtest; the others keep the parametric normal / Poisson / NB levels, "
        "recalibrated on the same backtest.",
    )
    calibrate: bool = Field(
        default=True,
        description="Recalibrate the bootstrap's quantiles per demand pattern on the "
        "forecast's backtest windows (and choose the bootstrap there, with 'auto').",
    )
    calibrate_lost_sales: bool | Literal["cycle", "replayed", "replayed_fill_rate"] = Field(
        default="cycle",
        description="Under lost sales, score each backtest review period by replaying the "
        "(R, S) policy on the actual days (lost demand does not carry over) instead of T > S: "
        "true, false, 'cycle' (for cycle-service targets only), 'replayed' (both targets, "
        "each order arriving after its own drawn lead time and rounded to packs and MOQ, as "
        "`simulate` orders), or 'replayed_fill_rate' (cycle targets as 'cycle', fill-rate "
        "targets as 'replayed').",
    )
    extend_levels: Literal["none", "cycle", "demand", "safety"] = Field(
        default="demand",
        description="Score stocks beyond the top quantile level (0.999) in the calibration "
        "backtest: S = S_0.999 + c B for c = 0.25, 0.5, 1, 2, 3, B the mean demand over lead "
        "time + review ('demand') or the top level's safety stock ('safety'), so that a "
        "target above what the top level achieved takes the step whose backtest service "
        "reaches it (within max_cover_days) instead of the top level. 'cycle': the demand "
        "steps for cycle-service targets only; 'none' stops at the top level.",
    )
    calibrate_every_review: bool = Field(
        default=False,
        description="Score each calibration origin's forecast at every review period up to "
        "the next origin (4 review periods apart), not only at the age the levels are used "
        "for: a plan run every week then recalibrates on every week of its history, not on "
        "the one week in four its planning date falls on.",
    )
    service_allocation: Literal["item", "pattern", "pattern_all"] = Field(
        default="pattern",
        description="Fill-rate targets: 'item' sets every item of a demand pattern at the "
        "level the target maps to; 'pattern' meets the target in aggregate over the "
        "pattern's (R, S) items (units-weighted) at the least stock value, each item at the "
        "level where its fill gained per unit of stock value equals the others' (Silver, "
        "Pyke & Thomas ch. 7); each item's own promise is in promised_service. "
        "'pattern_all': the same, and cycle-service targets too, met over the pattern's "
        "(R, S) items as a total of expected stockout cycles at the least stock value.",
    )
    allocation_max_shortfall: float | None = Field(
        default=0.05,
        ge=0,
        le=1,
        description="With service_allocation 'pattern' / 'pattern_all': a per-item service "
        "floor. Each allocated item's own promise is at least the smaller of its target less "
        "this and what the pattern's one level gives it; null lets the allocation take any "
        "item as low as the least stock value asks.",
    )
    promise_scoring: Literal["levels", "replayed"] = Field(
        default="levels",
        description="Where `promised_service` is read for fill-rate targets: on the "
        "calibration curve that set the levels ('levels'), or, under lost sales, on a second "
        "curve of the same backtest "
        "windows scored on the replayed path ('replayed': lost demand does not carry over, "
        "each order arrives after its own drawn lead time, rounded to packs and MOQ, as "
        "`simulate` runs it). The levels are the same either way.",
    )
    calibrate_carry_stock: bool = Field(
        default=False,
        description="On the calibration backtest's lost-sales path, start each origin from "
        "the position the series' earlier origin left (stock above a lower S is not sent "
        "back; the order is max(0, S - position)) instead of at S.",
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

    @model_validator(mode="after")
    def _promise_curve_needs_item_levels(self) -> Policy:
        # the pattern allocation reads each item's promise off its own chosen level and the
        # curve that set it; a second curve for the promise applies to items set one by one
        if self.promise_scoring == "replayed" and self.service_allocation != "item":
            raise ValueError(
                "promise_scoring: replayed needs service_allocation: item (the pattern "
                "allocation promises each item what its chosen level reaches on the levels' "
                "curve)"
            )
        return self


class Forecast(Section):
    season_length: Annotated[int, Field(ge=1, le=366)] | Literal["auto"] = "auto"
    backtest_windows: int = Field(default=8, ge=1, le=12)
    backtest_horizon_days: int = Field(default=28, ge=1, le=366)
    min_history_periods: int = Field(default=8, ge=2, le=520)
    new_item_default: float | None = Field(
        default=None,
        ge=0,
        description="Prior demand per bucket for short-history items with no category.",
    )
    interval_level: float = Field(default=80.0, gt=0, lt=100)
    n_jobs: int = Field(
        default=-1,
        ge=-1,
        le=1024,
        description="Processes; -1: every core. Used only by model fits large enough to "
        "outweigh starting the processes (forecast.worker_processes).",
    )
    combine_top: int = Field(
        default=2,
        ge=1,
        le=4,
        description="Average the forecasts of the best N models by backtest (1: pick one).",
    )
    intermittent_selection: Literal["pattern", "series"] = Field(
        default="pattern",
        description="Intermittent / lumpy items: rank the models per demand pattern on the "
        "pooled backtest (mean absolute error over the series' scale), or per series by "
        "its own backtest's squared error.",
    )
    expensive_classes: list[Literal["A", "B", "C"]] = Field(
        default_factory=lambda: ["A"],
        description="ABC classes whose smooth / seasonal items also try AutoETS and AutoTheta. "
        "Measured on the sample (bench/forecast_defaults.py): [A] MASE 0.768 with 3.8 s of "
        "forecast CPU, [] 0.790 with 0.4 s; [A] is the default for accuracy.",
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
    pooled_seasonality: bool = Field(
        default=False,
        description="Scale intermittent / lumpy forecasts by the catalogue's pooled seasonal "
        "profile one year earlier (weekly buckets, a year of history and 30 items needed).",
    )
    engine: Literal["local", "dask", "ray", "spark"] = Field(
        default="local",
        description="Where the plan runs: local, or every per-series stage on a Dask, Ray or "
        "Spark cluster, partitioned by sku (stockplan.partitioned).",
    )
    engine_address: str | None = Field(
        default=None,
        description="Cluster to connect to (tcp://scheduler:8786, ray://head:10001, "
        "spark://master:7077); none: a local cluster on this machine's cores for the run.",
    )

    @field_validator("interval_level")
    @classmethod
    def _a_percentage(cls, value: float) -> float:
        # a band of 1 % or less is never meant: 0.8 is an 80 % band written as a share
        if value <= 1:
            raise ValueError(
                f"is the band's percentage: write {value * 100:g} for {value * 100:g} %"
            )
        return value

    @field_validator("n_jobs")
    @classmethod
    def _some_processes(cls, value: int) -> int:
        if value == 0:
            raise ValueError("must be -1 (every core) or a number of processes from 1")
        return value


class Classify(Section):
    abc_cutoffs: tuple[float, float] = (0.8, 0.95)
    xyz_cutoffs: tuple[float, float] = (0.5, 1.0)
    adi_cutoff: float = Field(default=1.32, gt=1)
    cv2_cutoff: float = Field(default=0.49, gt=0)
    new_item_periods: int = Field(default=8, ge=1, le=520)
    dead_item_days: int = Field(default=91, ge=1, le=3660)

    @field_validator("abc_cutoffs")
    @classmethod
    def _ordered(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not 0 < value[0] < value[1] <= 1:
            raise ValueError("must be two cumulative shares 0 < a < b <= 1, e.g. [0.8, 0.95]")
        return value

    @field_validator("xyz_cutoffs")
    @classmethod
    def _ordered_cv(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not 0 < value[0] < value[1]:
            raise ValueError("must be two coefficients of variation 0 < a < b, e.g. [0.5, 1.0]")
        return value


LocationName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
"""A location named in the config (`transit_days_to`, `transit_days_between`), trimmed."""
TransitDays = Annotated[float, Field(ge=0, le=365)]
"""Days a transfer takes: none up to a year."""


class Transfers(Section):
    enabled: bool = True
    min_qty: float = Field(default=1.0, ge=1, description="Smallest move worth making, units.")
    transit_days: float = Field(
        default=0.0,
        ge=0,
        le=365,
        description="Days a transfer takes from the sending location to the receiving one "
        "(loading, the truck, receiving): it counts in the receiver's position at once, in "
        "its stock on its arrival. 0: it arrives the day it is planned.",
    )
    transit_days_to: dict[LocationName, TransitDays] = Field(
        default_factory=dict,
        description="Per receiving location, the days a transfer into it takes; wins over "
        "transit_days (a far warehouse: {WH-BJ: 3}).",
    )
    transit_days_between: dict[LocationName, dict[LocationName, TransitDays]] = Field(
        default_factory=dict,
        description="Per lane, sending location -> receiving location -> days a move "
        "takes; wins over transit_days_to and transit_days ({WH-SH: {WH-BJ: 2}, WH-GZ: "
        "{WH-BJ: 4}}). A location receives only over lanes that land no later than a new "
        "order would.",
    )


class Excess(Section):
    buffer_days: float = Field(
        default=30.0, ge=0, description="Days of demand above order-up-to before stock is excess."
    )


class Purchasing(Section):
    budget: float | None = Field(default=None, gt=0, description="Cap on this run's order value.")
    minimum_order_value: Literal["cheapest", "top_up", "bring_forward", "defer", "flag"] = Field(
        default="cheapest",
        description="A supplier total below suppliers.moq_value: top up with the units that "
        "protect the most sales per yuan, bring the next cycle's orders forward, defer the "
        "whole order, the cheapest of these, or only flag it.",
    )


class Calendars(Section):
    public_holidays: Literal["cn", "none"] = Field(
        default="cn",
        description="Default closures of every supplier: the Chinese public holidays "
        "(春节, 国庆节, ...) or none; the closures table adds each supplier's own.",
    )
    exempt_suppliers: list[str] = Field(
        default_factory=list,
        description="Suppliers the public holidays do not close (suppliers abroad).",
    )


class Censoring(Section):
    method: Literal["auto", "snapshots", "inferred", "zero_runs", "off"] = "auto"
    threshold: float = Field(
        default=1e-4,
        gt=0,
        lt=0.5,
        description="zero_runs: chance below which a run is a stockout.",
    )
    lookback_days: int = Field(
        default=56, ge=7, le=3660, description="zero_runs: days before a run."
    )
    min_history_days: int = Field(
        default=28, ge=7, le=3660, description="zero_runs: history needed."
    )
    max_run_days: int = Field(
        default=56,
        ge=2,
        le=3660,
        description="zero_runs: longer runs are a real change, not censoring.",
    )


class Promotions(Section):
    default_uplift: float = Field(
        default=0.3, ge=0, le=20, description="Lift of a planned promotion with no uplift given."
    )
    min_promo_days: int = Field(
        default=7,
        ge=1,
        le=3660,
        description="Promotion days a SKU needs before its own lift is used.",
    )
    min_promo_units: float = Field(
        default=50, ge=0, description="Promotion units a SKU needs before its own lift is used."
    )
    unmeasured_uplift: Literal["default", "pooled"] = Field(
        default="default",
        description="Lift of a planned promotion with no uplift given or measured: "
        "default_uplift, or pooled: the mean of the measured category lifts with "
        "default_uplift counted as one more.",
    )
    lift_risk: bool = Field(
        default=False,
        description="Safety stock also covers the error of a planned promotion's lift where "
        "no lift was given or measured: its standard deviation is the root mean square of "
        "the measured category lifts' distance from the lift planned, with default_uplift "
        "counted once as a prior; false: the lift is taken as exact.",
    )


SHORTEST_REPLAY = 4
"""The fewest buckets `simulate.periods` replays."""


class Simulate(Section):
    periods: int = Field(
        default=26, ge=SHORTEST_REPLAY, le=260, description="Buckets replayed, ending at as_of."
    )
    refit_every: int = Field(
        default=13, ge=1, le=260, description="Buckets between forecast refits."
    )
    level_alpha: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description="Between refits, each review's forecast level follows the buckets sold "
        "since the refit by exponential smoothing with this alpha, as a weekly plan sees "
        "last week's sales (0: the refit's forecast unchanged until the next refit).",
    )
    targets: list[Probability] = Field(
        default_factory=lambda: [0.85, 0.9, 0.95, 0.98, 0.99],
        min_length=1,
        description="Service-level targets replayed (policy.service_measure) for the curve.",
    )
    unmet_demand: Literal["lost", "backorder"] = "lost"
    baseline_reorder_weeks: float = Field(default=2.0, gt=0)
    baseline_up_to_weeks: float = Field(default=4.0, gt=0)
    baseline_scales: list[Annotated[float, Field(gt=0, le=100)]] = Field(
        default_factory=lambda: [0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0],
        min_length=1,
        description="Multiples of the baseline's weeks replayed for its curve (up to 24 / 48 "
        "weeks by default, so that its curve reaches the policy's fill rate on lumpy items).",
    )
    seed: int = Field(default=0, ge=0, description="Lead-time draws (numpy seeds are >= 0).")
    warmup: bool = Field(
        default=True,
        description="Count service, stock and orders only from each series' first L + R "
        "days on, when its first order can have arrived (both start without safety stock).",
    )
    plan_promotions: bool = Field(
        default=False,
        description="Lift each refit's forecast for the promotions of the promotions table "
        "as plan lifts its own (the lift measured on the promotion days before the refit); "
        "false: the replayed levels ignore promotions while their days' demand is replayed.",
    )

    @model_validator(mode="after")
    def _baseline_order(self) -> Simulate:
        if self.baseline_up_to_weeks <= self.baseline_reorder_weeks:
            raise ValueError("simulate.baseline_up_to_weeks must exceed baseline_reorder_weeks")
        return self


class Risk(Section):
    high: float = Field(default=0.5, gt=0, lt=1)
    medium: float = Field(default=0.2, gt=0, lt=1)

    @field_validator("medium")
    @classmethod
    def _medium_below_high(cls, value: float, info: ValidationInfo) -> float:
        high = info.data.get("high")  # absent when high itself was refused
        if high is not None and value >= high:
            raise ValueError(f"must be below risk.high ({high:g})")
        return value


class WeComChannel(Section):
    """A WeCom (企业微信) group robot: its webhook url holds the robot key."""

    type: Literal["wecom"]
    webhook: str = Field(min_length=1, description="https://qyapi.weixin.qq.com/...?key=...")


class DingTalkChannel(Section):
    """A DingTalk (钉钉) group robot; `secret` (SEC...) is its signing secret ("加签")."""

    type: Literal["dingtalk"]
    webhook: str = Field(min_length=1, description="https://oapi.dingtalk.com/...?access_token=")
    secret: str | None = Field(default=None, min_length=1)


class EmailChannel(Section):
    """Plain SMTP e-mail; `security` is `starttls` (port 587), `ssl` (465) or `none`."""

    type: Literal["email"]
    host: str = Field(min_length=1)
    port: int | None = Field(default=None, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password: str | None = None
    sender: str = Field(min_length=3)
    to: list[str] = Field(min_length=1)

    @field_validator("to", mode="before")
    @classmethod
    def _one_address(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


Channel = Annotated[WeComChannel | DingTalkChannel | EmailChannel, Field(discriminator="type")]


class Notify(Section):
    """Alert channels for `--notify NAME`; `${VAR}` in any text is taken from the environment."""

    channels: dict[str, Channel] = Field(default_factory=dict)
    top: int = Field(default=10, ge=1, le=100, description="High-risk items listed at most.")
    language: Literal["en", "zh"] | None = Field(
        default=None, description="Language of the alert; default: planning.language."
    )
    always: bool = Field(default=False, description="Also send when no item is at high risk.")
    timeout_seconds: float = Field(default=15.0, gt=0, le=600)


class SupplierForecast(Section):
    """`plan --supplier-forecast DIR`: projected purchase orders shared with each supplier."""

    weeks: int = Field(default=8, ge=1, le=52, description="Weeks of projected orders.")


class CompensationRule(Section):
    """One compensation rule for late customer orders; the first matching rule applies."""

    min_days_late: int = Field(default=1, ge=0, description="Late by at least this many days.")
    min_order_value: float = Field(
        default=0.0, ge=0, description="Order value (quantity x unit price) at least this."
    )
    tiers: list[str] = Field(
        default_factory=list, description="Only these customer tiers; empty: every tier."
    )
    kind: Literal["coupon", "points", "text"]
    value: float = Field(default=0.0, ge=0, description="Coupon value or points.")
    text: str | None = Field(default=None, description="Text for the customer (kind: text).")

    @model_validator(mode="after")
    def _complete(self) -> CompensationRule:
        if self.kind in ("coupon", "points") and self.value <= 0:
            raise ValueError(f"a {self.kind} rule needs a value above 0")
        if self.kind == "text" and not (self.text or "").strip():
            raise ValueError("a text rule needs a text")
        return self


class Notices(Section):
    """Customer restock notices: who is served first when stock is short, and compensation."""

    tier_order: list[str] = Field(
        default_factory=lambda: ["vip"],
        description="customer_orders.customer_tier values, highest first (case-insensitive); "
        "unlisted or blank tiers come after them.",
    )
    compensation: list[CompensationRule] = Field(default_factory=list)
    # notice text; {order}, {customer}, {sku}, {name}, {location}, {quantity} and {date}
    # (the expected ship date) are filled in. None: the catalogue's text in the language.
    template: str | None = Field(default=None, min_length=1)
    unconfirmed_template: str | None = Field(default=None, min_length=1)

    @field_validator("template", "unconfirmed_template")
    @classmethod
    def _known_fields(cls, value: str | None) -> str | None:
        if value is not None:
            unknown = sorted(set(re.findall(r"\{(\w*)\}", value)) - set(NOTICE_FIELDS))
            if unknown:
                known = ", ".join("{" + f + "}" for f in NOTICE_FIELDS)
                raise ValueError(f"unknown field {{{unknown[0]}}}; use {known}")
        return value


class TierThresholds(Section):
    on_time_rate: float = Field(ge=0, le=1)
    quantity_fill_rate: float = Field(ge=0, le=1)
    quality_rate: float = Field(ge=0, le=1)


class SupplierTiers(Section):
    """Supplier grades from the scorecard: core meets every core threshold, strategic every
    strategic one, the rest standard; a rate the history cannot measure is not held against
    a supplier. Fewer than `min_receipts` receipts: unrated."""

    min_receipts: int = Field(default=3, ge=1)
    core: TierThresholds = TierThresholds(
        on_time_rate=0.95, quantity_fill_rate=0.98, quality_rate=0.99
    )
    strategic: TierThresholds = TierThresholds(
        on_time_rate=0.85, quantity_fill_rate=0.95, quality_rate=0.97
    )

    @model_validator(mode="after")
    def _core_above_strategic(self) -> SupplierTiers:
        for name in TierThresholds.model_fields:
            if getattr(self.core, name) < getattr(self.strategic, name):
                raise ValueError(f"supplier_tiers.core.{name} must be at least strategic.{name}")
        return self


class ShelfLife(Section):
    """Perishable items (products.shelf_life_days, stock.expiry_date)."""

    sell_by_days: float = Field(
        default=0.0,
        ge=0,
        le=3650,
        description="Days before the expiry date from which stock can no longer be sold.",
    )


class HtmlReport(Section):
    """`stockplan report -o report.html`."""

    top_items: int = Field(default=10, ge=1, le=50, description="Items per chart.")


class IO(Section):
    """How exports are read and CSV files written."""

    identify_by: Literal["name", "code"] = Field(
        default="name",
        description="When an export has both a code and a name column for the warehouse "
        "(仓库编码 / 仓库名称) or the supplier, which one identifies it.",
    )
    csv_escape_formulas: bool = Field(
        default=True,
        description="Prefix text cells starting with = + - @ TAB or CR with ' in CSV output "
        "(OWASP CSV injection); false for machine consumers that need the raw text.",
    )
    csv_for_excel: bool = Field(
        default=False,
        description="CSV files for people who open them in Excel: a text cell Excel would turn "
        'into a number, date or formula (011491, 1-2, 1E5, -3) is written ="011491", which '
        "Excel shows as the text itself (--csv-for-excel; not on stdout unless asked).",
    )
    parquet_parts: Literal["auto", "on", "off"] = Field(
        default="auto",
        description="On a cluster engine with `plan -o FOLDER -f parquet`, the workers write "
        "the per-series tables (forecast, history, orders, risk, classes, excess, "
        "large_orders) as part files (FOLDER/forecast/, FOLDER/orders/, ...) instead of "
        "sending them to the driver: on, off, or auto (from parquet_parts_series series on).",
    )
    parquet_parts_series: int = Field(
        default=100_000,
        ge=1,
        description="Series from which parquet_parts: auto writes part files.",
    )


class Config(Section):
    inputs: Inputs | None = None  # None: the tables are handed in as frames (stockplan.plan)
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
    calendars: Calendars = Calendars()
    simulate: Simulate = Simulate()
    censoring: Censoring = Censoring()
    promotions: Promotions = Promotions()
    notify: Notify = Notify()
    supplier_forecast: SupplierForecast = SupplierForecast()
    notices: Notices = Notices()
    supplier_tiers: SupplierTiers = SupplierTiers()
    report: HtmlReport = HtmlReport()
    io: IO = IO()
    shelf_life: ShelfLife = ShelfLife()

    _origin: str = PrivateAttr(default="config")  # the file it was read from

    @property
    def origin(self) -> str:
        """How messages name this config: its file (`parse_config`'s source), `config` for
        one built in Python."""
        return self._origin

    def source(self, table: str) -> Path | str:
        """How messages name an input table: its file (or database query), else
        `<table> frame` for a frame handed in from Python."""
        spec = getattr(self.inputs, table, None) if self.inputs is not None else None
        return spec.path if spec is not None else f"{table} frame"


# how pydantic names the branch of a union that refused a value (the last part of its loc)
_UNION_TAG = re.compile(r"(?:str|int|float|bool|none|date|constrained-\w+|\w+\[.*\])")


def _first_problem(errors: list[Any]) -> dict[str, Any]:
    """The error to tell: the first, or among the branches of a union that refused the same
    value, the one for what was written: the choices for a text (`calibrate_lost_sales:
    sometimes`), the bound for a number (`sheet: -1`), not a branch of another type."""
    first = errors[0]
    tag = first["loc"][-1] if first["loc"] else None
    if not (isinstance(tag, str) and _UNION_TAG.fullmatch(tag)):
        return first
    branches = [e for e in errors if e["loc"][:-1] == first["loc"][:-1]]
    value = first.get("input")
    if isinstance(value, str):
        wanted = [e for e in branches if e["type"] == "literal_error"]
    elif isinstance(value, int | float) and not isinstance(value, bool):
        wanted = [
            e for e in branches if e["loc"][-1] in ("int", "float") or "constrained" in e["loc"][-1]
        ]
    else:
        wanted = []
    return (wanted or branches)[0]


def _describe(error: dict[str, Any]) -> dict[str, str]:
    """One validation error in both languages (`i18n.config_problem`)."""
    from stockplan.i18n import config_problem

    loc = [part for part in error["loc"] if part not in ("file", "database")]  # union tags
    if loc and isinstance(loc[-1], str) and _UNION_TAG.fullmatch(loc[-1]):
        loc = loc[:-1]  # `season_length.constrained-int`: pydantic's name for a branch
    got = error.get("input")
    if (
        error["type"] == "string_type"
        and isinstance(got, int | float)
        and not isinstance(got, bool)
    ):
        # a location or supplier code written bare (`{01: 3}`, `[001]`): YAML's number 1
        key = ".".join(str(part) for part in loc if part != "[key]")
        return {
            "en": f"key '{key}': a name here must be text: write it in quotes as your data "
            "spells it, e.g. '01' (YAML reads a bare 01 as the number 1)",
            "zh": f"配置项 '{key}'：此处的名称须为文本，请按数据中的写法加引号，例如 '01'"
            "（YAML 会把不加引号的 01 读成数字 1）",
        }
    key = ".".join(str(part) for part in loc) or "(top level)"
    if error["type"] == "extra_forbidden":
        return config_problem(error, key, f"unknown key '{key}'", None)
    if error["type"] == "missing":
        return config_problem(error, key, f"missing key '{key}'", None)
    if got is None and "input" in error:  # `policy:` left blank, `sales: null`
        return _empty(error, key, loc)
    shown = _short_repr(got) if got is not None and not isinstance(got, dict) else None
    got_text = f", got {shown}" if shown is not None else ""
    said = str(error["msg"]).removeprefix("Value error, ")  # the config's own checks
    return config_problem(error, key, f"key '{key}': {said}{got_text}", shown)


_SECTION_TYPES = ("model_type", "model_attributes_type", "dict_type")
"""pydantic's errors for a value that should be a mapping (a section, an input, a table)."""


def _empty(error: dict[str, Any], key: str, loc: list[Any]) -> dict[str, str]:
    """A key written with nothing after it (or `null`), in both languages: what it needs,
    where pydantic said only that the value is no `Policy` or `InputFile`."""
    from stockplan.i18n import config_problem

    if error["type"] in _SECTION_TYPES and len(loc) == 2 and loc[0] == "inputs":
        return {
            "en": f"key '{key}' is empty: give the file's path (e.g. {loc[1]}.csv), or a "
            "database's url with its table or query",
            "zh": f"配置项 '{key}' 为空：请填写文件路径（如 {loc[1]}.csv），"
            "或数据库的 url 及其 table 或 query",
        }
    if error["type"] in _SECTION_TYPES:
        return {
            "en": f"key '{key}' is empty: write its settings under it, indented "
            "(key: value), or delete the line to keep the defaults",
            "zh": f"配置项 '{key}' 为空：请在其下缩进填写设置（键: 值），或删除这一行以沿用默认值",
        }
    said = config_problem(error, key, f"key '{key}' is empty: {error['msg']}", None)
    return said | {"zh": said["zh"].replace(f"配置项 '{key}'：", f"配置项 '{key}' 为空：", 1)}


def _raw_language(raw: dict[str, Any]) -> str | None:
    """`planning.language` of a config that did not validate, when it is a valid choice."""
    planning = raw.get("planning")
    language = planning.get("language") if isinstance(planning, dict) else None
    return language if language in ("en", "zh") else None


def _resolve_input(
    spec: InputFile | DatabaseInput, base_dir: Path, source: str | Path, name: str, written: object
) -> InputFile | DatabaseInput:
    """Relative file paths (and `sqlite:///` / `duckdb:///` files) resolve against `base_dir`;
    `~` at the start is the home folder (`~/data/sales.csv`), as in a shell; `${VAR}` in a
    file's path is the environment's value, an unset or empty one refused naming the config
    file `source` and the key of input `name`, as is an empty path (`written`, as the config
    has it: `''` read as a path is the config's own folder). A url keeps its `${VAR}` until
    the table is read (`io.database`)."""
    if isinstance(spec, InputFile):
        from stockplan.i18n import phrase

        where = _input_key(source, name, written)
        text = written.get("path") if isinstance(written, dict) else written
        if isinstance(text, str) and not text.strip():
            example = f"{name}.csv"
            raise StockplanError(phrase("error.input_path_empty", where=where, example=example))
        path = Path(expand_env(str(spec.path), where, empty_ok=False))
        return spec.model_copy(update={"path": base_dir / path.expanduser()})
    scheme, sep, rest = spec.url.partition(":///")
    if sep and scheme.lower() in ("sqlite", "duckdb") and rest.startswith("~"):
        home = Path(rest).expanduser().as_posix()
        return spec.model_copy(update={"url": f"{scheme}:///{home}"})
    if sep and scheme.lower() in ("sqlite", "duckdb") and rest and not rest.startswith(("/", "$")):
        return spec.model_copy(update={"url": f"{scheme}:///{(base_dir / rest).as_posix()}"})
    if sep and scheme.lower() in ("sqlite", "duckdb") and rest.startswith("$"):
        spec = spec.model_copy()
        spec._base_dir = base_dir
    return spec


def _short_repr(value: Any) -> str:
    """repr of a config value, bounded: a huge or self-repeating structure is not spelt out."""
    import reprlib

    shorter = reprlib.Repr()
    shorter.maxlevel, shorter.maxlist, shorter.maxdict = 2, 4, 4
    shorter.maxstring = shorter.maxother = 60
    return quote(shorter.repr(value))


def _expanded_size(value: Any, budget: int) -> int:
    """Values in `value` counting every repeat of a YAML alias, stopping past `budget`."""
    seen = 0
    stack = [value]
    while stack and seen <= budget:
        item = stack.pop()
        seen += 1
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return seen


def _yes_no_for_number(annotation: Any, value: Any, loc: tuple[Any, ...]) -> dict | None:
    """The first boolean in `value` where `annotation` wants a number, as a pydantic-shaped
    error. YAML reads yes / no / on / off / true / false as booleans and pydantic takes a
    boolean as 1 or 0 for a number: `policy.allocation_max_shortfall: no` (meant: null, no
    floor) became 0 and `review_days: yes` a daily review, without a word."""
    origin = get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if not isinstance(value, dict):
            return None
        for key, item in value.items():
            field = annotation.model_fields.get(key) if isinstance(key, str) else None
            found = field and _yes_no_for_number(field.annotation, item, (*loc, key))
            if found:
                return found
        return None
    if origin is Annotated:
        return _yes_no_for_number(get_args(annotation)[0], value, loc)
    if origin in (Union, types.UnionType):
        options = get_args(annotation)
        if isinstance(value, bool) and any(
            option is bool or (get_origin(option) is Literal and value in get_args(option))
            for option in options
        ):
            return None
        for option in options:
            found = _yes_no_for_number(option, value, loc)
            if found:
                return found
        return None
    if origin is dict and isinstance(value, dict):
        for key, item in value.items():
            found = _yes_no_for_number(get_args(annotation)[1], item, (*loc, key))
            if found:
                return found
        return None
    if origin in (list, tuple) and isinstance(value, list) and get_args(annotation):
        for index, item in enumerate(value):
            found = _yes_no_for_number(get_args(annotation)[0], item, (*loc, index))
            if found:
                return found
        return None
    if annotation in (int, float) and isinstance(value, bool):
        return {
            "type": "number_not_bool",
            "loc": loc,
            "msg": "Input should be a number, not yes / no / on / off / true / false",
            "input": value,
        }
    return None


def _check_column_targets(config: Config, source: str | Path) -> None:
    """Each `columns` mapping names a column of its table, refused here naming the config
    file: checked when a table was read, the message named no file ("config: ...")."""
    from stockplan.i18n import phrase
    from stockplan.io.schema import SCHEMAS

    for table, mapping in config.columns.items():
        known = SCHEMAS[table].by_name
        for target in mapping.values():
            if target not in known:
                error = StockplanError(
                    phrase(
                        "error.mapped_to_unknown",
                        source=str(source),
                        table=table,
                        target=target,
                        known=", ".join(known),
                    )
                )
                error.language = config.planning.language
                raise error


def parse_config(raw: dict[str, Any], source: str | Path = "config", base_dir: Path | None = None):
    """Validate a config mapping; relative input paths resolve against `base_dir`."""
    if not isinstance(raw, dict):
        raise StockplanError(f"{source}: expected a YAML mapping of sections at the top level")
    try:
        yes_no = _yes_no_for_number(Config, raw, ())
        if yes_no is not None:
            raise ValidationError.from_exception_data(
                "Config",
                [
                    {
                        "type": PydanticCustomError("number_not_bool", yes_no["msg"]),
                        "loc": yes_no["loc"],
                        "input": yes_no["input"],
                    }
                ],
            )
        config = Config.model_validate(raw)
    except ValidationError as exc:
        from stockplan.i18n import phrase

        error = StockplanError(
            phrase(
                "error.config", source=str(source), problem=_describe(_first_problem(exc.errors()))
            )
        )
        error.language = _raw_language(raw)
        raise error from None
    _check_column_targets(config, source)
    config._origin = str(source)
    if base_dir is None or config.inputs is None:
        return config
    raw_inputs = raw.get("inputs") if isinstance(raw.get("inputs"), dict) else {}
    try:
        resolved = {
            name: (
                _resolve_input(f, base_dir, source, name, raw_inputs.get(name))
                if f is not None
                else None
            )
            for name, f in config.inputs
        }
        inputs = Inputs.model_validate(resolved)
        _refuse_shared_files(inputs, source, raw_inputs)
    except StockplanError as error:
        error.language = config.planning.language
        raise
    return config.model_copy(update={"inputs": inputs})


DISTINCT_INPUTS = ("sales", "stock", "purchase_orders", "customer_orders")
"""Input tables that are each a file of their own: what was sold, what is on hand, what was
bought, what is owed. One file (and sheet) named for two of them is a slip in the config."""


def _same_file(first: InputFile, second: InputFile) -> bool:
    """Whether two file inputs read the same file and sheet (a workbook's two sheets are
    two tables)."""
    if first.sheet != second.sheet:
        return False
    a, b = first.path.expanduser(), second.path.expanduser()
    if a.resolve() == b.resolve():
        return True
    try:
        return a.is_file() and b.is_file() and os.path.samefile(a, b)
    except OSError:
        return False


def _refuse_shared_files(inputs: Inputs, source: str | Path, raw_inputs: dict) -> None:
    """One file named for two of the `DISTINCT_INPUTS` is refused naming both keys: the
    same sales export named for `inputs.stock` read one day's sales per item as its stock
    on hand, and planned from it without a word."""
    from stockplan.i18n import input_name, phrase

    files = [
        (name, spec)
        for name in DISTINCT_INPUTS
        if isinstance(spec := getattr(inputs, name), InputFile)
    ]
    for index, (first, first_spec) in enumerate(files):
        for second, second_spec in files[index + 1 :]:
            if _same_file(first_spec, second_spec):
                keys = [
                    f"inputs.{n}" + (".path" if isinstance(raw_inputs.get(n), dict) else "")
                    for n in (first, second)
                ]
                raise StockplanError(
                    phrase(
                        "error.same_input_file",
                        source=str(source),
                        first_key=keys[0],
                        second_key=keys[1],
                        path=str(second_spec.path),
                        first={lang: input_name(first, lang) for lang in ("en", "zh")},
                        second={lang: input_name(second, lang) for lang in ("en", "zh")},
                    )
                )


def _input_key(source: str | Path, name: str, written: object) -> dict[str, str]:
    """`stockplan.yaml: key 'inputs.sales.path'`: where an input's file is written, in both
    languages (the key is `inputs.sales` for the bare-string form)."""
    key = f"inputs.{name}" + (".path" if isinstance(written, dict) else "")
    return {"en": f"{source}: key '{key}'", "zh": f"{source}：配置项 '{key}'"}


class _ConfigLoader(yaml.SafeLoader):
    """yaml.safe_load, except that a scalar shaped like a date that is no date
    (`as_of: 2026-13-01`) stays text: the config check then refuses it naming its key,
    where the YAML parser's own date raised a bare ValueError."""


def _date_or_text(loader: yaml.SafeLoader, node: yaml.Node) -> object:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


_ConfigLoader.add_constructor("tag:yaml.org,2002:timestamp", _date_or_text)


class _DuplicateKey(yaml.constructor.ConstructorError):
    """A key written twice in one mapping of the config."""


def _mapping_once(loader: yaml.SafeLoader, node: yaml.MappingNode) -> Iterator[dict[Any, Any]]:
    """A YAML mapping whose keys are each written once: PyYAML keeps the last of a repeated
    key, so a second `planning:` section dropped the first one's keys without a word (YAML
    1.2 forbids repeats). Keys brought in by a `<<` merge may still be overridden."""
    first_line: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node, yaml.ScalarNode):
            continue
        key = loader.construct_object(key_node)
        if key in first_line:
            raise _DuplicateKey(
                None,
                None,
                f"duplicate key '{key}' (first on line {first_line[key]}): YAML keeps only the "
                "last one; write each key once",
                key_node.start_mark,
            )
        first_line[key] = key_node.start_mark.line + 1
    data: dict[Any, Any] = {}
    yield data
    data.update(loader.construct_mapping(node))


_ConfigLoader.add_constructor("tag:yaml.org,2002:map", _mapping_once)


def load_config(path: str | Path) -> Config:
    """Read and validate the YAML config at `path`."""
    from stockplan.i18n import phrase

    path = Path(path).expanduser()
    if path.exists() and not path.is_file():
        raise StockplanError(phrase("error.config_not_file", path=str(path)))
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
        if len(data) > MAX_CONFIG_BYTES:
            raise StockplanError(
                phrase("error.config_too_large", path=str(path), limit=f"{MAX_CONFIG_BYTES:,}")
            )
        text = data.decode("utf-8-sig")
    except FileNotFoundError:
        raise StockplanError(
            f"{path}: config file not found (write one from your exports with `stockplan init "
            "FOLDER`, or plan the sample with -c config.example.yaml)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StockplanError(f"{path}: cannot read config ({exc})") from None
    try:
        raw = yaml.load(text, Loader=_ConfigLoader) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None)
        if not isinstance(exc, _DuplicateKey):  # PyYAML's English, after a translated lead
            problem = f"invalid YAML ({problem})" if problem else "invalid YAML"
        raise StockplanError(f"{path}{where}: {problem}") from None
    if _expanded_size(raw, MAX_CONFIG_NODES) > MAX_CONFIG_NODES:
        raise StockplanError(
            phrase("error.config_too_many", path=str(path), limit=f"{MAX_CONFIG_NODES:,}")
        )
    config = parse_config(raw, path, path.parent)
    if config.inputs is None:  # optional only for frames handed in from Python
        error = StockplanError(f"{path}: missing key 'inputs'")
        error.language = config.planning.language
        raise error
    return config
