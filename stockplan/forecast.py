"""Forecast demand per sku x location with statsforecast, one model set per demand pattern.

- smooth / erratic: AutoETS, AutoTheta and (with two seasons of history) SeasonalNaive.
- intermittent / lumpy: CrostonSBA, TSB, ADIDA, IMAPA (Syntetos & Boylan; Teunter et al.).
- new (short history): the mean of what there is; never sold: zero. Intermittent and
  lumpy items too short to backtest: their pattern's models (`pattern_forecast`).
- dead (no sale in `classify.dead_item_days`): forecast as zero (`Zero`) only when the
  empty run is implausible for a live item, (1 - p)^k < `forecast.dead_probability` with
  p its share of buckets with demand up to the last sale and k the empty buckets since,
  and the rule holds in the history itself (`come_back_rate`: of the items it would have
  called dead one backtest horizon earlier, fewer than `dead_probability` sold again
  since; where more did, such an item keeps TSB's forecast with the probability they
  came back at); else TSB's decaying forecast p_t x z_t (probability smoothed with
  `forecast.dead_alpha` every bucket, size z_t updated on selling buckets): a lumpy
  item may sell again.

Each series' model is picked by a rolling-origin backtest (`backtest_windows` origins,
`backtest_horizon_days` ahead each, scored by mean squared error, which is minimised by the
mean: MAE would pick a flat zero for intermittent items); intermittent and lumpy items by
default per demand pattern on the pooled backtest (`select_models`,
`forecast.intermittent_selection`: the `combine_top` models whose average scores best).
The chosen model's backtest RMSE per bucket is the forecast-error spread `sigma_e` that
safety stock uses (docs/design.md §4).
AutoETS and AutoTheta are fitted once per series at the first backtest origin and carried
forward over the later windows with those parameters (statsforecast's `refit=False`): on
the sample this costs a fifth of refitting at every origin, with the same or better holdout
accuracy (bench/forecast_defaults.py). AutoETS's final forecast carries that same fit on to
the end of the history (its states re-run over the whole history, parameters kept), so it
is forecast exactly as it was backtested and needs no fit of its own; AutoTheta is refitted
on the whole history of the series that chose it. Measured on the sample
(bench/forecast_defaults.py, 636 series): MASE 0.7664 so, 0.7677 refitting both, 0.7734
carrying AutoTheta instead, 0.7719 carrying both.
Bands (lo, hi at `forecast.interval_level`): forecast +- a half-width per demand pattern
and step ahead from split-conformal scores |actual - forecast| / scale (scale: the
series' mean absolute one-step change), pooled over the backtest's errors, or, for short
histories, over the rolling errors of their mean-so-far forecast (`conformal_band_width`);
dead items on TSB decay the quantile of their two-point demand (`two_point_band_width`).
Forecasts are clipped at zero and a NaN forecast falls back to the series' recent mean.
statsforecast is imported inside the function (stockplan.preload): its import is slow.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.stats import norm

from stockplan import preload
from stockplan.config import Forecast
from stockplan.demand import BUCKET_DAYS, SERIES, Bucket
from stockplan.engines import Backend, forecast_backend

SUMMARY_COLUMNS = [
    "sku",
    "location",
    "model",
    "sigma_e",
    "backtest_rmse",
    "backtest_bias",
    "n_obs",
    "window_scores",
    "window_origins",
    "window_rates",
]
SEASON = {"day": 7, "week": 52}
RECENT_PERIODS = 13
ESTABLISHED = ("seasonal", "smooth", "intermittent")  # families that lend a category prior
EXPENSIVE_MODELS = {"AutoETS", "AutoTheta"}
EXPENSIVE_REFIT: dict[str, bool | int] = {"AutoETS": False, "AutoTheta": False}
# fitted once in the backtest, and forecast from that fit instead of refitted on the whole
# history (see the module docstring; AutoTheta loses accuracy so, AutoETS gains)
CARRIED_TO_FORECAST = {"AutoETS"}
PARALLEL_MIN_SERIES = {True: 50, False: 2000}  # expensive models?  (see worker_processes)


def backtest_periods(settings: Forecast, bucket: Bucket) -> int:
    return max(1, math.ceil(settings.backtest_horizon_days / BUCKET_DAYS[bucket]))


def _season_length(settings: Forecast, bucket: Bucket) -> int:
    return SEASON[bucket] if settings.season_length == "auto" else settings.season_length


def _candidate_models(family: str, season: int):
    """Candidates per family. Cheap models (well under a millisecond per series) run for
    every series of the family; AutoETS and AutoTheta (tens of milliseconds) only for the
    ABC classes in `forecast.expensive_classes` (families suffixed `_fast` skip them)."""
    from statsforecast.models import (
        ADIDA,
        IMAPA,
        TSB,
        AutoETS,
        AutoTheta,
        CrostonSBA,
        HistoricAverage,
        SeasonalNaive,
        SimpleExponentialSmoothingOptimized,
        WindowAverage,
    )

    if family == "intermittent":
        return [
            CrostonSBA(),
            TSB(alpha_d=0.1, alpha_p=0.1),
            ADIDA(),
            IMAPA(),
            SimpleExponentialSmoothingOptimized(),
        ]
    base, _, speed = family.partition("_")
    cheap = [
        SimpleExponentialSmoothingOptimized(),
        WindowAverage(window_size=13),
        HistoricAverage(),
    ]
    ets_season = season if 1 < season <= 24 else 1  # ETS seasonality beyond 24 is not supported
    if base == "seasonal":
        cheap.append(SeasonalNaive(season_length=season))
        expensive = [AutoETS(season_length=ets_season), AutoTheta(season_length=season)]
    else:
        expensive = [AutoETS(season_length=1), AutoTheta(season_length=1)]
    return cheap if speed == "fast" else expensive + cheap


def _families(
    stats: pl.DataFrame, settings: Forecast, bucket: Bucket, horizon_bt: int
) -> pl.DataFrame:
    season = _season_length(settings, bucket)
    needed = horizon_bt * settings.backtest_windows + settings.min_history_periods
    pattern = pl.col("demand_pattern")
    return stats.with_columns(
        pl.when((pattern == "none") | ((pattern == "dead") & (pl.col("tsb_rate") <= 0)))
        .then(pl.lit("zero"))
        .when(pattern == "dead")
        .then(pl.lit("decay"))
        .when((pattern == "new") | (pl.col("n_obs") < needed))
        .then(pl.lit("short"))
        .when(pattern.is_in(["intermittent", "lumpy"]))
        .then(pl.lit("intermittent"))
        .when(pl.col("n_obs") >= needed + season)
        .then(pl.lit("seasonal"))
        .otherwise(pl.lit("smooth"))
        .alias("family")
    )


def _on_backend(frame: pl.DataFrame, backend: Backend | None, call) -> pl.DataFrame:
    """Run `call(df)` here on the Polars frame, or on the cluster and bring the result back
    as Polars with the same column types (unique_id Int64, ds Date)."""
    if backend is None:
        return call(frame)
    remote = backend.distribute(
        frame.with_columns(pl.col("ds").cast(pl.Datetime("ns"))).to_pandas()
    )
    result = pl.from_pandas(backend.collect(call(remote)).reset_index(drop=True))
    typed = [pl.col("unique_id").cast(pl.Int64)]
    for column in ("ds", "cutoff"):
        if column in result.columns:
            typed.append(pl.col(column).cast(pl.Datetime("ns")).cast(pl.Date))
    return result.with_columns(typed).sort(
        [c for c in ("unique_id", "cutoff", "ds") if c in result.columns]
    )


def worker_processes(settings: Forecast, models: list, series: int) -> int:
    """`forecast.n_jobs` where the fits outweigh starting the worker processes, else 1.

    Measured on the sample (2 cores): a worker costs about 0.05 s CPU to fork and join;
    the cheap models take about 0.4 ms per series for the whole backtest, AutoETS and
    AutoTheta 4-9 ms fitted once; so a call goes parallel from `PARALLEL_MIN_SERIES` series.
    """
    if settings.n_jobs == 1:
        return 1
    expensive = any(str(m) in EXPENSIVE_MODELS for m in models)
    return settings.n_jobs if series >= PARALLEL_MIN_SERIES[expensive] else 1


def _statsforecast(local: bool):
    """statsforecast's `StatsForecast`, with its models, imported on first use (slow;
    stockplan.preload may have begun it on a thread while the inputs were read)."""
    return preload.statsforecast(local).StatsForecast


def _carry_padding(frame: pl.DataFrame, periods: int, days: int) -> pl.DataFrame:
    """`frame` with `periods` placeholder buckets (y = 0) after each series' last one: room
    for a backtest window whose origin is the end of the history. Models only ever see the
    buckets before an origin, so the placeholders are never fitted on."""
    tails = (
        frame.group_by("unique_id")
        .agg(pl.col("ds").max().alias("last"))
        .join(pl.DataFrame({"step": list(range(1, periods + 1))}), how="cross")
        .select(
            "unique_id",
            (pl.col("last") + pl.duration(days=pl.col("step") * days)).alias("ds"),
            pl.lit(0.0).cast(frame.schema["y"]).alias("y"),
        )
    )
    return pl.concat([frame, tails.select(frame.columns)]).sort(["unique_id", "ds"])


def _backtest(
    frame, cheap, expensive, engine, settings: Forecast, h_bt: int, horizon: int, days: int, backend
):
    """(backtest, carried). backtest: the rolling-origin backtest of every candidate:
    unique_id, cutoff, ds, y, one column per model. The cheap models are refitted at every
    origin; the expensive ones are fitted once at the first origin, then carried forward
    over the later windows with the same parameters (statsforecast's refit=False): one fit
    instead of `backtest_windows` per model and series.

    carried: unique_id, ds, one column per model of `CARRIED_TO_FORECAST` fitted once: its
    forecast of `horizon` buckets from the end of the history, with the parameters of that
    same fit, from one more window of the same call (on `_carry_padding`'s placeholders);
    None when there is none. It stands for the final forecast, with no fit of its own."""
    n_series = frame["unique_id"].n_unique()
    windows = settings.backtest_windows
    backtest = _on_backend(
        frame,
        backend,
        lambda df: engine(cheap, n_series).cross_validation(
            df=df, h=h_bt, n_windows=windows, step_size=h_bt
        ),
    )
    carried = None
    refits = {EXPENSIVE_REFIT.get(str(m), True) for m in expensive}
    for refit in refits:  # one call (one pool of workers) per refit setting, usually one
        models = [m for m in expensive if EXPENSIVE_REFIT.get(str(m), True) == refit]
        carry = [str(m) for m in models if refit is False and str(m) in CARRIED_TO_FORECAST]
        steps = max(h_bt, horizon) if carry else h_bt
        result = _on_backend(
            _carry_padding(frame, steps, days) if carry else frame,
            backend,
            lambda df, models=models, refit=refit, steps=steps, extra=int(bool(carry)): engine(
                models, n_series
            ).cross_validation(
                df=df, h=steps, n_windows=windows + extra, step_size=h_bt, refit=refit
            ),
        )
        if carry:
            result = result.with_columns(
                pl.col("ds").rank("ordinal").over(["unique_id", "cutoff"]).alias("step")
            )
            last = pl.col("cutoff") == pl.col("cutoff").max().over("unique_id")
            carried = result.filter(last & (pl.col("step") <= horizon)).select(
                "unique_id", "ds", *carry
            )
            result = result.filter(~last & (pl.col("step") <= h_bt)).drop("step")
        backtest = backtest.join(result.drop("y"), on=["unique_id", "cutoff", "ds"])
    return backtest, carried


def _final_forecast(frame, cheap, expensive, chosen, engine, horizon: int, carried, backend):
    """unique_id, ds, one column per model: every cheap model on every series, an
    expensive one on the series that chose it (null elsewhere): taken from `carried` when
    that holds it (`_backtest`), else refitted on the series' whole history."""
    n_series = frame["unique_id"].n_unique()
    future = _on_backend(
        frame, backend, lambda df: engine(cheap, n_series).forecast(df=df, h=horizon)
    )
    for model in expensive:
        ids = chosen.filter(pl.col("model") == str(model))["unique_id"]
        count = ids.len()
        if count == 0:
            continue
        if carried is not None and str(model) in carried.columns:
            extra = carried.select("unique_id", "ds", str(model)).filter(
                pl.col("unique_id").is_in(ids.implode())
            )
        else:
            extra = _on_backend(
                frame.filter(pl.col("unique_id").is_in(ids.to_list())),
                backend,
                lambda df, m=model, n=count: engine([m], n).forecast(df=df, h=horizon),
            )
        future = future.join(extra, on=["unique_id", "ds"], how="left")
    return future.with_columns(
        [pl.lit(None, pl.Float64).alias(str(m)) for m in expensive if str(m) not in future.columns]
    )


@dataclass
class FamilyBacktest:
    """One family's backtest, kept until its models are chosen (`_family_forecast`)."""

    frame: pl.DataFrame
    names: list[str]
    cheap: list
    expensive: list
    engine: Callable
    long_backtest: pl.DataFrame
    per_series: pl.DataFrame
    carried: pl.DataFrame | None
    pools: pl.DataFrame | None
    wide: pl.DataFrame


def _family_backtest(
    frame: pl.DataFrame,
    family: str,
    settings: Forecast,
    bucket: Bucket,
    horizon: int,
    h_bt: int,
    backend: Backend | None = None,
    pools: pl.DataFrame | None = None,
) -> FamilyBacktest:
    """Backtest one family's series (every candidate model at every origin)."""
    stats_forecast = _statsforecast(backend is None)
    models = _candidate_models(family, _season_length(settings, bucket))
    names = [str(m) for m in models]
    expensive = [m for m in models if str(m) in EXPENSIVE_MODELS]
    cheap = [m for m in models if str(m) not in EXPENSIVE_MODELS]
    freq = f"{BUCKET_DAYS[bucket]}d"

    def engine(chosen_models, series: int):
        return stats_forecast(
            models=chosen_models,
            freq=freq,
            n_jobs=worker_processes(settings, chosen_models, series),
        )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        backtest, carried = _backtest(
            frame, cheap, expensive, engine, settings, h_bt, horizon, BUCKET_DAYS[bucket], backend
        )
    long_backtest = backtest.unpivot(
        index=["unique_id", "cutoff", "ds", "y"], on=names, variable_name="model"
    ).with_columns(pl.col("value").fill_nan(None))
    per_series = _per_series_errors(long_backtest)
    return FamilyBacktest(
        frame, names, cheap, expensive, engine, long_backtest, per_series, carried, pools, backtest
    )


def _run_family(
    frame: pl.DataFrame,
    family: str,
    settings: Forecast,
    bucket: Bucket,
    horizon: int,
    h_bt: int,
    backend: Backend | None = None,
    pools: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Backtest and forecast one family's series; return (choice, long forecast, backtest
    errors of the chosen forecast: unique_id, cutoff, ds, error). `pools`: see
    `select_models`."""
    tested = _family_backtest(frame, family, settings, bucket, horizon, h_bt, backend, pools)
    return _family_forecast(tested, settings, horizon, backend)


def _family_forecast(
    tested: FamilyBacktest,
    settings: Forecast,
    horizon: int,
    backend: Backend | None = None,
    ranked: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """`_run_family` after the backtest: choose the models (`select_models`, the pools
    ranked by `ranked` when given), forecast, and the chosen combination's errors."""
    frame, names, cheap, expensive = tested.frame, tested.names, tested.cheap, tested.expensive
    engine, long_backtest, carried = tested.engine, tested.long_backtest, tested.carried
    # combine the `combine_top` models with the lowest backtest MSE (equal weights); the
    # combination's own backtest errors give its RMSE and bias
    chosen = select_models(
        long_backtest, settings.combine_top, tested.pools, ranked, tested.per_series, tested.wide
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        future = _final_forecast(frame, cheap, expensive, chosen, engine, horizon, carried, backend)
    # in one order on every run: the means and sums below add floats, and in the order a
    # hash grouping happens to give (its seed differs per process) they differed in the
    # last bits from run to run, and with them sigma_e, the levels and the promises
    steps = (
        long_backtest.join(chosen, on=["unique_id", "model"])
        .sort(["unique_id", "cutoff", "ds", "model"])
        .group_by(["unique_id", "cutoff", "ds", "y"], maintain_order=True)
        .agg(pl.col("value").mean())
        .with_columns((pl.col("value") - pl.col("y")).alias("error"))
    )
    combined = steps.group_by("unique_id").agg(
        pl.col("error").pow(2).mean().sqrt().alias("backtest_rmse"),
        pl.col("error").mean().alias("backtest_bias"),
    )
    # conformity scores: each backtest window's total shortfall (actual - forecast) in units
    # of the spread expected for that many buckets, rmse x sqrt(steps)
    windows = (
        steps.group_by(["unique_id", "cutoff"])
        .agg((-pl.col("error")).sum().alias("shortfall"), pl.len().alias("n"))
        .join(combined.select("unique_id", "backtest_rmse"), on="unique_id")
        .filter(pl.col("backtest_rmse") > 0)
        .group_by("unique_id")
        .agg(
            (pl.col("shortfall") / (pl.col("backtest_rmse") * pl.col("n").sqrt())).alias(
                "window_scores"
            )
        )
    )
    combined = combined.join(windows, on="unique_id", how="left")
    # each backtest window's origin (first forecast bucket) and mean forecast per bucket:
    # the level the lead-time-demand calibration scales its draws to
    levels = (
        steps.group_by(["unique_id", "cutoff"])
        .agg(pl.col("ds").min().alias("origin"), pl.col("value").mean().alias("rate"))
        .sort(["unique_id", "origin"])
        .group_by("unique_id")
        .agg(pl.col("origin").alias("window_origins"), pl.col("rate").alias("window_rates"))
    )
    combined = combined.join(levels, on="unique_id", how="left")
    labels = chosen.group_by("unique_id").agg(
        pl.col("model").sort_by("rank").str.join("+").alias("label")
    )
    choice = labels.join(combined, on="unique_id").select(
        "unique_id",
        pl.col("label").alias("model"),
        "backtest_rmse",
        "backtest_bias",
        "window_scores",
        "window_origins",
        "window_rates",
    )
    long_forecast = (
        future.unpivot(
            index=["unique_id", "ds"], on=names, variable_name="model", value_name="forecast"
        )
        .join(chosen, on=["unique_id", "model"])
        .group_by(["unique_id", "ds"])
        .agg(pl.col("forecast").mean())
        .join(labels, on="unique_id")
        .with_columns(pl.col("ds").rank("ordinal").over("unique_id").cast(pl.Int64).alias("step"))
        .select("unique_id", "ds", "step", pl.col("label").alias("model"), "forecast")
    )
    return choice, long_forecast, steps.select("unique_id", "cutoff", "ds", "error")


def pattern_forecast(
    frame: pl.DataFrame,
    pools: pl.DataFrame,
    ranking: pl.DataFrame,
    settings: Forecast,
    bucket: Bucket,
    horizon: int,
    backend: Backend | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(choice: unique_id, model; long forecast: unique_id, ds, step, model, forecast) for
    intermittent / lumpy series too short to backtest: the models their demand pattern
    ranked first on the pooled backtest of the longer series (`select_models`), fitted
    on the series' own history and averaged, instead of a flat mean of the history.
    `frame`: unique_id, ds, y; `pools`: unique_id, pool. Only cheap models (Croston-type,
    ADIDA / IMAPA, SES), one forecast call; series whose pattern has no ranking are left
    out (they keep the short-history mean)."""
    empty = (
        pl.DataFrame(schema={"unique_id": pl.Int64, "model": pl.String}),
        pl.DataFrame(
            schema={
                "unique_id": pl.Int64,
                "ds": pl.Date,
                "step": pl.Int64,
                "model": pl.String,
                "forecast": pl.Float64,
            }
        ),
    )
    chosen = pools.join(ranking, on="pool").select("unique_id", "model", "rank")
    frame = frame.join(chosen.select("unique_id").unique(), on="unique_id")
    if frame.height == 0:
        return empty
    names = set(ranking["model"].to_list())
    models = [
        m
        for m in _candidate_models("intermittent", _season_length(settings, bucket))
        if str(m) in names
    ]
    stats_forecast = _statsforecast(backend is None)
    n_series = frame["unique_id"].n_unique()
    engine = stats_forecast(
        models=models,
        freq=f"{BUCKET_DAYS[bucket]}d",
        n_jobs=worker_processes(settings, models, n_series),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        future = _on_backend(frame, backend, lambda df: engine.forecast(df=df, h=horizon))
    labels = chosen.group_by("unique_id").agg(
        pl.col("model").sort_by("rank").str.join("+").alias("label")
    )
    long_forecast = (
        future.unpivot(
            index=["unique_id", "ds"],
            on=[str(m) for m in models],
            variable_name="model",
            value_name="forecast",
        )
        .join(chosen, on=["unique_id", "model"])
        .group_by(["unique_id", "ds"])
        .agg(pl.col("forecast").fill_nan(None).mean())
        .join(labels, on="unique_id")
        .with_columns(pl.col("ds").rank("ordinal").over("unique_id").cast(pl.Int64).alias("step"))
        .select("unique_id", "ds", "step", pl.col("label").alias("model"), "forecast")
        .sort("unique_id", "ds")
    )
    return labels.select("unique_id", pl.col("label").alias("model")), long_forecast


def select_models(
    long_backtest: pl.DataFrame,
    combine_top: int,
    pools: pl.DataFrame | None = None,
    ranked: pl.DataFrame | None = None,
    per_series: pl.DataFrame | None = None,
    wide: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """unique_id, model, rank: the `combine_top` models each series' forecast averages.

    `long_backtest`: unique_id, cutoff, ds, y, model, value; a model with a missing value
    in a series' backtest is not a candidate for that series.
    Per series (no `pools`): the lowest mean squared error over the series' own windows
    (minimised by the mean; a series' mean absolute error would reward forecasts near its
    median, zero for many intermittent items).
    Per pool (`pools`: unique_id, pool, scale; the demand pattern): the `combine_top`
    models whose equal-weight average has the lowest mean over the pool's series of
    MAE / scale (their backtest MASE), on the series where every model has a backtest,
    ordered by their own such score; every series of the pool averages the pool's
    models. Among these mean-type candidates the absolute error ranks models, not
    values, and one series' few windows no longer rank close candidates by noise
    (Petropoulos & Kourentzes 2015 on selection and combination for intermittent
    demand). A series whose pool has no ranking, or which lacks one of its models, keeps
    its own choice. `ranked`: the pools' ranking (`pool_ranking`) over more series than
    these, else these series' own; `per_series`: `_per_series_errors` of `long_backtest`
    when already computed; `wide`: the same backtest with one column per model, if at
    hand.
    """
    if per_series is None:
        per_series = _per_series_errors(long_backtest)
    own = (
        per_series.sort(["unique_id", "mse", "model"])
        .with_columns(pl.int_range(pl.len()).over("unique_id").alias("rank"))
        .filter(pl.col("rank") < combine_top)
        .select("unique_id", "model", "rank")
    )
    if pools is None:
        return own
    if ranked is None:
        ranked = pool_ranking(
            [pool_scores(per_series, pools, combine_top, long_backtest, wide)], combine_top
        )
    pooled = pools.join(ranked, on="pool").select("unique_id", "model", "rank")
    lacking = pooled.join(per_series, on=["unique_id", "model"], how="anti").select("unique_id")
    pooled = pooled.join(lacking, on="unique_id", how="anti")
    return pl.concat([pooled, own.join(pooled, on="unique_id", how="anti")]).sort(
        "unique_id", "rank"
    )


def _per_series_errors(long_backtest: pl.DataFrame) -> pl.DataFrame:
    """unique_id, model, mse, mae of every model with a complete backtest of the series."""
    return (
        long_backtest.with_columns((pl.col("value") - pl.col("y")).alias("error"))
        .group_by(["unique_id", "model"])
        .agg(
            pl.col("error").pow(2).mean().alias("mse"),
            pl.col("error").abs().mean().alias("mae"),
            pl.col("error").null_count().alias("n"),
        )
        .filter(pl.col("mse").is_not_null() & (pl.col("n") == 0))
    )


COMBINED = "+"
"""Joins the members of a combination in `pool_scores`' model column (a label as the
forecast's model column writes it)."""


def pool_scores(
    per_series: pl.DataFrame,
    pools: pl.DataFrame | None,
    combine_top: int = 1,
    long_backtest: pl.DataFrame | None = None,
    wide: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """pool, model, score_sum, n: the sum and count of MAE / scale over the pool's series
    where every model has a backtest (`select_models`; `per_series` from
    `_per_series_errors`), per model and, given `long_backtest` and `combine_top` > 1,
    per equal-weight combination of `combine_top` models (model: the members joined by
    COMBINED, `_combination_scores`); those of several sets of series add up."""
    schema = {"pool": pl.String, "model": pl.String, "score_sum": pl.Float64, "n": pl.Int64}
    if pools is None or per_series.height == 0:
        return pl.DataFrame(schema=schema)
    candidates = per_series["model"].n_unique()
    complete = (
        per_series.group_by("unique_id")
        .agg(pl.len().alias("k"))
        .filter(pl.col("k") == candidates)
        .select("unique_id")
    )
    singles = (
        per_series.join(complete, on="unique_id")
        .join(pools.filter(pl.col("scale") > 0), on="unique_id")
        .group_by(["pool", "model"])
        .agg(
            (pl.col("mae") / pl.col("scale")).sum().alias("score_sum"),
            pl.len().cast(pl.Int64).alias("n"),
        )
        .select(list(schema))
        .cast(schema)
    )
    if long_backtest is None:
        return singles
    combined = _combination_scores(long_backtest, complete, pools, combine_top, wide)
    return pl.concat([singles, combined.select(list(schema)).cast(schema)])


def _combination_scores(
    long_backtest: pl.DataFrame,
    complete: pl.DataFrame,
    pools: pl.DataFrame,
    combine_top: int,
    wide: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """pool, model (members joined by COMBINED), score_sum, n: each equal-weight
    combination of `combine_top` candidates scored as it is used, not by its members' own
    scores: the sum over the pool's `complete` series of the combination's MAE / scale,
    and their count. Every combination at once, the backtest as a matrix (rows x models)
    times a matrix of weights (models x combinations). Empty for a single model or a
    single combination."""
    schema = {"pool": pl.String, "model": pl.String, "score_sum": pl.Float64, "n": pl.Int64}
    names = sorted(long_backtest["model"].unique().to_list())
    combinations = list(itertools.combinations(range(len(names)), combine_top))
    if combine_top < 2 or len(combinations) < 2:
        return pl.DataFrame(schema=schema)
    if wide is None:
        wide = long_backtest.pivot(on="model", index=["unique_id", "cutoff", "ds", "y"])
    rows = (
        wide.filter(pl.col("unique_id").is_in(complete["unique_id"].implode()))
        .join(pools.filter(pl.col("scale") > 0), on="unique_id")
        .sort("pool", "unique_id", maintain_order=True)
    )
    if rows.height == 0:
        return pl.DataFrame(schema=schema)
    values = rows.select(names).to_numpy()
    weights = np.zeros((len(names), len(combinations)))
    for j, members in enumerate(combinations):
        weights[list(members), j] = 1.0 / combine_top
    # each row's absolute error of every combination, weighted so that a series' rows sum
    # to its MAE / scale
    errors = np.abs(values @ weights - rows["y"].to_numpy()[:, None])
    row_weights = rows.select(
        (1.0 / (pl.col("scale") * pl.len().over("unique_id"))).alias("weight")
    )["weight"].to_numpy()
    pool_names = rows["pool"].unique().sort()
    pool_codes = rows.select(pl.col("pool").rank("dense") - 1)["pool"].to_numpy()
    combined = np.stack(
        [(row_weights * (pool_codes == code)) @ errors for code in range(pool_names.len())]
    )
    counts = rows.group_by("pool").agg(pl.col("unique_id").n_unique().alias("n"))
    labels = [COMBINED.join(names[i] for i in c) for c in combinations]
    return (
        pl.DataFrame(
            {
                "pool": np.repeat(pool_names.to_numpy(), len(labels)),
                "model": labels * pool_names.len(),
                "score_sum": combined.ravel(),
            }
        )
        .join(counts, on="pool")
        .select(list(schema))
        .cast(schema)
    )


def pool_ranking(parts: list[pl.DataFrame], combine_top: int) -> pl.DataFrame:
    """pool, model, score, rank: per pool the `combine_top` models with the lowest mean
    MAE / scale over the pooled sums (`pool_scores` of one or several sets); where the
    sums score combinations, the members of the best-scoring combination, ranked by their
    own scores."""
    scores = (
        pl.concat(parts)
        .group_by(["pool", "model"])
        .agg((pl.col("score_sum").sum() / pl.col("n").sum()).alias("score"))
    )
    combination = pl.col("model").str.contains(COMBINED, literal=True)
    singles = scores.filter(~combination)
    best = (
        scores.filter(combination)
        .sort(["pool", "score", "model"])
        .group_by("pool", maintain_order=True)
        .first()
    )
    if best.height:
        members = best.select("pool", pl.col("model").str.split(COMBINED)).explode("model")
        singles = pl.concat(
            [
                singles.join(best.select("pool"), on="pool", how="anti"),
                singles.join(members, on=["pool", "model"], how="semi"),
            ]
        )
    return (
        singles.sort(["pool", "score", "model"])
        .with_columns(pl.int_range(pl.len()).over("pool").cast(pl.Int64).alias("rank"))
        .filter(pl.col("rank") < combine_top)
    )


def band_widening(steps: pl.DataFrame, horizon: int) -> pl.DataFrame:
    """step, band_ratio: how the forecast error spread grows with the horizon, measured.

    Pooled errors (unique_id, cutoff, ds, error) give a mean squared error per step ahead
    h = 1..H, kept non-decreasing; beyond H it grows linearly in h at the least-squares
    slope over h = 1..H, not below zero (a random-walk level, as exponential smoothing
    implies: var_h = var_1 (1 + (h - 1) alpha^2), Hyndman et al. 2008, ch. 6).
    band_ratio_h = sqrt(mse_h / mean mse): the spread h buckets ahead over the mean spread.
    """
    per_step = (
        steps.with_columns(
            pl.col("ds").rank("ordinal").over(["unique_id", "cutoff"]).cast(pl.Int64).alias("step")
        )
        .group_by("step")
        .agg(pl.col("error").pow(2).mean().alias("mse"))
        .sort("step")
    )
    return widening_of(per_step["mse"].fill_null(0.0).to_numpy(), horizon)


def widening_of(mse: np.ndarray, horizon: int) -> pl.DataFrame:
    """step, band_ratio of `band_widening` from the mean squared error per step ahead."""
    if mse.size == 0 or not np.isfinite(mse).all() or mse.mean() <= 0:
        return pl.DataFrame({"step": range(1, horizon + 1), "band_ratio": [1.0] * horizon})
    # the growth per step: least-squares slope over the measured steps, not below zero (a
    # slope through the running maximum would grow a flat but noisy spread)
    slope = max(float(np.polyfit(np.arange(mse.size), mse, 1)[0]), 0.0) if mse.size > 1 else 0.0
    mse = np.maximum.accumulate(mse)  # a spread never shrinks further ahead
    h = np.arange(1, horizon + 1)
    grown = np.where(
        h <= mse.size, mse[np.minimum(h, mse.size) - 1], mse[-1] + (h - mse.size) * slope
    )
    return pl.DataFrame({"step": h, "band_ratio": np.sqrt(grown / mse.mean())})


def conformal_band_width(errors: pl.DataFrame, level: float, horizon: int) -> pl.DataFrame:
    """demand_pattern, step, band_width, band_upper, band_lower: the `level` band h =
    1..horizon buckets ahead, per demand pattern, in units of each series' own `scale`.

    Split conformal (Vovk et al. 2005; Lei et al. 2018, locally weighted): every backtest
    error (unique_id, cutoff, ds, error = forecast - actual, demand_pattern, scale) gives
    the score |actual - forecast| / scale, pooled per pattern and step ahead over series
    and windows (one series has too few windows). band_width_h = the ceil((n + 1)
    level)-th smallest of the n scores at step h: forecast +- band_width x scale leaves
    out 1 - level of the backtest's actuals. band_upper and band_lower take each tail
    alone, the ceil((n + 1) (1 + level) / 2)-th smallest of the signed scores (actual -
    forecast) / scale and (forecast - actual) / scale, at least 0: forecast + band_upper
    x scale is exceeded by (1 - level) / 2 of the actuals, as a central band's `hi` is
    (demand skewed to the right, as intermittent demand is, misses a symmetric band
    almost only above). Each is kept non-decreasing in h, and beyond the backtest horizon
    H grows as the pattern's pooled mean squared score does (`band_widening`: linear in
    h, the random-walk level exponential smoothing implies).
    """
    return widths_from_scores(conformity_scores(errors), level, horizon)


def conformity_scores(errors: pl.DataFrame) -> dict[tuple[str, int], np.ndarray]:
    """(demand pattern, step ahead) -> the signed conformity scores (actual - forecast) /
    scale of `conformal_band_width` (both tails and the absolute score follow from them):
    a few numbers per series, which add up over sets of series."""
    scored = errors.filter(pl.col("scale") > 0).with_columns(
        (-pl.col("error") / pl.col("scale")).alias("above"),
        pl.col("ds").rank("ordinal").over(["unique_id", "cutoff"]).cast(pl.Int64).alias("step"),
    )
    grouped = scored.group_by("demand_pattern", "step").agg(pl.col("above"))
    return {
        (pattern, step): np.asarray(score, dtype=float)
        for pattern, step, score in grouped.iter_rows()
    }


def band_rank(size: int, at: float) -> int:
    """The 1-based rank of the band's quantile at `at` among `size` sorted scores (NaN
    last): ceil((size + 1) at), at most size (`conformal_band_width`)."""
    return min(math.ceil((size + 1) * at), size)


def band_quantiles(scores: np.ndarray, level: float) -> tuple[float, float, float, float]:
    """(band_width, band_upper, band_lower, mean squared score) of one pattern and step
    from its signed scores (`conformal_band_width`), before the tails are held at 0."""

    def quantile(ordered: np.ndarray, at: float) -> float:
        return float(ordered[band_rank(ordered.size, at) - 1])

    tail = (1 + level) / 2
    s = np.sort(scores)
    return (
        quantile(np.sort(np.abs(s)), level),
        quantile(s, tail),
        quantile(-s[::-1], tail),
        float(np.mean(np.square(s))),
    )


def widths_from_scores(
    scores: dict[tuple[str, int], np.ndarray], level: float, horizon: int
) -> pl.DataFrame:
    """demand_pattern, step, band_width, band_upper, band_lower of `conformal_band_width`
    from the pooled signed scores (`conformity_scores`, of one set of series or several
    together). Each step's scores are sorted first, so the widths and the mean squared
    score do not depend on the order in which the sets were pooled."""
    return widths_from_quantiles(
        {key: band_quantiles(values, level) for key, values in scores.items()}, horizon
    )


def widths_from_quantiles(
    quantiles: dict[tuple[str, int], tuple[float, float, float, float]], horizon: int
) -> pl.DataFrame:
    """demand_pattern, step, band_width, band_upper, band_lower of `conformal_band_width`
    from each pattern and step's quantiles and mean squared score (`band_quantiles`, or
    the same order statistics found over a cluster's partitions)."""
    columns = ["band_width", "band_upper", "band_lower"]
    schema = {"demand_pattern": pl.String, "step": pl.Int64} | dict.fromkeys(columns, pl.Float64)
    frames = []
    for pattern in sorted({p for p, _ in quantiles}):
        steps = sorted(step for p, step in quantiles if p == pattern)
        found = [quantiles[(pattern, step)] for step in steps]
        per_step = {
            "band_width": [width for width, _, _, _ in found],
            "band_upper": [max(upper, 0.0) for _, upper, _, _ in found],
            "band_lower": [max(lower, 0.0) for _, _, lower, _ in found],
        }
        size = len(steps)
        mse = np.array([mean_square for _, _, _, mean_square in found])
        ratio = widening_of(mse, max(horizon, size))["band_ratio"].to_numpy()
        h = np.arange(1, horizon + 1)
        growth = ratio[h - 1] / ratio[size - 1] if ratio[size - 1] > 0 else np.ones(h.size)
        widths = {}
        for column in columns:
            width = np.maximum.accumulate(np.array(per_step[column]))  # never narrower ahead
            widths[column] = np.where(
                h <= size, width[np.minimum(h, size) - 1], width[size - 1] * growth
            )
        frames.append(pl.DataFrame({"demand_pattern": pattern, "step": h} | widths, schema=schema))
    return pl.concat(frames) if frames else pl.DataFrame(schema=schema)


def running_mean_errors(
    data: pl.DataFrame, steps_ahead: int, min_seen: int, origins: int, every: int = 1
) -> pl.DataFrame:
    """unique_id, cutoff, ds, error: the rolling-origin errors of the mean-so-far forecast
    that a series too short to backtest gets (`short_history_rate`, its own-mean part),
    error = mean(y_1..y_t) - y_(t+h) for h = 1..`steps_ahead` (where y_(t+h) is known),
    from `origins` origins t `every` buckets apart, the last one bucket before the series'
    end, each with at least `min_seen` buckets up to it (at most origins x steps_ahead
    errors per series, as the backtest's windows). `data`: unique_id, ds, y."""
    frame = data.sort("unique_id", "ds").with_columns(
        pl.int_range(1, pl.len() + 1).over("unique_id").alias("seen"),
        (pl.len().over("unique_id") - pl.int_range(pl.len()).over("unique_id")).alias("left"),
    )
    frame = frame.with_columns(
        (pl.col("y").cum_sum().over("unique_id") / pl.col("seen")).alias("mean_so_far")
    ).filter(
        (pl.col("seen") >= min_seen)
        & (pl.col("left") >= 2)
        & ((pl.col("left") - 2) % every == 0)
        & (pl.col("left") <= 2 + (origins - 1) * every)
    )
    shifted = data.sort("unique_id", "ds")
    parts = [
        frame.select("unique_id", "ds", "mean_so_far")
        .join(
            shifted.with_columns(pl.col("ds").shift(h).over("unique_id").alias("origin")),
            left_on=["unique_id", "ds"],
            right_on=["unique_id", "origin"],
            suffix="_ahead",
        )
        .select(
            "unique_id",
            pl.col("ds").alias("cutoff"),
            pl.col("ds_ahead").alias("ds"),
            (pl.col("mean_so_far") - pl.col("y")).alias("error"),
        )
        for h in range(1, steps_ahead + 1)
    ]
    return pl.concat(parts)


def two_point_band_width(level: float) -> pl.Expr:
    """Half-width of the `level` band of TSB's demand, d = z with probability p, else 0,
    around its mean f = p z (Teunter, Syntetos & Babai 2011): |d - f| is f with
    probability 1 - p and |z - f| with probability p, and its `level`-quantile is the
    smaller of the two when that one's probability reaches `level`, else the larger.
    Columns tsb_probability (p), tsb_size (z), tsb_rate (f)."""
    p, f = pl.col("tsb_probability"), pl.col("tsb_rate")
    miss = (pl.col("tsb_size") - f).abs()
    small_first = f <= miss
    small_mass = pl.when(small_first).then(1.0 - p).otherwise(p)
    return (
        pl.when(small_mass >= level)
        .then(pl.min_horizontal(f, miss))
        .otherwise(pl.max_horizontal(f, miss))
    )


def tsb_probability(alpha: float) -> pl.Expr:
    """TSB demand probability after the last bucket (Teunter, Syntetos & Babai 2011):
    p_t = p_(t-1) + alpha (1[d_t > 0] - p_(t-1)), started at the first bucket."""
    return (pl.col("demand") > 0).cast(pl.Float64).ewm_mean(alpha=alpha, adjust=False).last()


def tsb_size(alpha: float) -> pl.Expr:
    """TSB demand size: z updated only in buckets with demand, z += alpha (d - z)."""
    sizes = pl.col("demand").filter(pl.col("demand") > 0)
    return sizes.ewm_mean(alpha=alpha, adjust=False).last()


def still_selling_chance() -> pl.Expr:
    """(1 - p)^k: the chance of the k empty buckets since the last sale if the item still
    sold as before, p = share of buckets with demand up to its last sale."""
    upto = pl.col("last_sale_index") + 1
    empty = pl.col("n_obs") - upto
    return (1.0 - pl.col("selling_periods") / upto).pow(empty)


def silence_before(periods: int) -> list[pl.Expr]:
    """Per series (in a group_by over its buckets in order), at the origin `periods`
    buckets before its end: last_sale_before, the index of its last sale before that
    origin (null if none); sales_since, its buckets with a sale from that origin on."""
    return [
        (pl.col("demand").head(pl.len() - periods) > 0).arg_true().last().alias("last_sale_before"),
        (pl.col("demand").tail(periods) > 0).sum().alias("sales_since"),
    ]


def come_back_rate(series: pl.DataFrame, dead_probability: float, periods: int) -> float | None:
    """Does the dead-item rule hold in this history? At the origin one backtest horizon
    before the end, take the items the rule would have called dead then (silent for at
    least as many buckets as the shortest silence among today's `dead` items, and
    `still_selling_chance` below `dead_probability`). When at least `dead_probability`
    of them sold again in the buckets since, the catalogue's silent items come back
    (seasonal lines, wholesale re-orders): return their share of buckets with a sale
    since, the demand probability such an item has; else None (the rule holds, or no
    item to check it on). `series`: n_obs, last_sale_index, selling_periods,
    demand_pattern and the columns of `silence_before` for these `periods`. The
    `come_back_sums` of this one set, through `come_back_from`."""
    return come_back_from([come_back_sums(series, dead_probability, periods)], dead_probability)


def come_back_sums(
    series: pl.DataFrame, dead_probability: float, periods: int
) -> tuple[int | None, pl.DataFrame]:
    """What `come_back_rate` counts, in sums that add up over sets of series: (the
    shortest silence among today's `dead` items, None without one; silent, items,
    selling, sales_since, periods: per silence at the earlier origin, the items the rule
    would have called dead there whatever the shortest silence, those of them with a sale
    since, and their buckets with a sale since)."""
    dead = series.filter(pl.col("demand_pattern") == "dead")
    shortest = dead.select(
        (pl.col("n_obs").cast(pl.Int64) - pl.col("last_sale_index").cast(pl.Int64) - 1).min()
    ).item()
    # signed arithmetic: the counts are unsigned, and a series shorter than `periods`
    # has no origin to check
    n_obs = pl.col("n_obs").cast(pl.Int64)
    upto = pl.col("last_sale_before").cast(pl.Int64) + 1
    silent = n_obs - periods - upto
    sales_before = pl.col("selling_periods").cast(pl.Int64) - pl.col("sales_since")
    called_dead = (
        series.filter(
            (n_obs > periods)
            & silent.is_not_null()
            & ((1.0 - sales_before / upto).pow(silent) < dead_probability)
        )
        .group_by(silent.alias("silent"))
        .agg(
            pl.len().cast(pl.Int64).alias("items"),
            (pl.col("sales_since") > 0).sum().cast(pl.Int64).alias("selling"),
            pl.col("sales_since").sum().cast(pl.Int64).alias("sales_since"),
        )
        .with_columns(pl.lit(periods, pl.Int64).alias("periods"))
    )
    return (None if shortest is None else int(shortest)), called_dead


def come_back_from(
    parts: list[tuple[int | None, pl.DataFrame]], dead_probability: float
) -> float | None:
    """`come_back_rate` from the `come_back_sums` of one or several sets of series (in
    whole numbers, so the same whichever sets they were counted in)."""
    shortest = [found for found, _ in parts if found is not None]
    if not shortest:
        return None
    counted = pl.concat([table for _, table in parts]).filter(pl.col("silent") >= min(shortest))
    items = int(counted["items"].sum())
    if items == 0 or int(counted["selling"].sum()) / items < dead_probability:
        return None
    periods = int(counted["periods"].max())
    return int(counted["sales_since"].sum()) / (periods * items)


def series_stats(
    history: pl.DataFrame,
    classes: pl.DataFrame,
    settings: Forecast,
    bucket: Bucket,
    come_back: list[tuple[int | None, pl.DataFrame]] | None = None,
) -> pl.DataFrame:
    """Per series: unique_id, n_obs, last_period, means, std, demand_pattern, family (and
    the `silence_before` columns the dead-item check counts, `come_back_sums`).
    `come_back`: the dead-item check's sums of more series than these (every partition
    of a cluster run), else these series' own."""
    series = (
        history.sort([*SERIES, "period_start"])
        .group_by(SERIES, maintain_order=True)
        .agg(
            pl.len().alias("n_obs"),
            pl.col("period_start").max().alias("last_period"),
            pl.col("demand").mean().alias("mean_all"),
            pl.col("demand").std(ddof=1).alias("std_all"),
            pl.col("demand").tail(RECENT_PERIODS).mean().alias("mean_recent"),
            tsb_probability(settings.dead_alpha).alias("tsb_probability"),
            tsb_size(settings.dead_alpha).alias("tsb_size"),
            (pl.col("demand") > 0).arg_true().last().alias("last_sale_index"),
            (pl.col("demand") > 0).sum().alias("selling_periods"),
            pl.col("demand").diff().abs().mean().fill_null(0.0).alias("naive_mae"),
            *silence_before(backtest_periods(settings, bucket)),
        )
        .join(classes.select(*SERIES, "demand_pattern"), on=SERIES, how="left")
        .with_columns(pl.col("demand_pattern").fill_null("none"))
    )
    # dead by the rule: zero, or where such items came back, the rate at which they did
    live = still_selling_chance() >= settings.dead_probability
    periods = backtest_periods(settings, bucket)
    if come_back is None:
        come_back = [come_back_sums(series, settings.dead_probability, periods)]
    rate = come_back_from(come_back, settings.dead_probability)
    probability = pl.col("tsb_probability")
    if rate is not None:
        probability = pl.when(live).then(probability).otherwise(rate)
        live = pl.lit(True)
    series = (
        series.with_columns(probability.alias("tsb_probability"))
        .with_columns(
            pl.when(live)
            .then(pl.col("tsb_probability") * pl.col("tsb_size"))
            .otherwise(0.0)
            .fill_null(0.0)
            .alias("tsb_rate")
        )
        .sort(SERIES)
        .with_row_index("unique_id")
        .with_columns(pl.col("unique_id").cast(pl.Int64))
    )
    return _families(series, settings, bucket, backtest_periods(settings, bucket))


def category_priors(
    series: pl.DataFrame,
    categories: pl.DataFrame | None,
    default_weight: float,
    locations: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """sku -> category, location, prior, weight, at the locations of `series` and of
    `locations` (the series to forecast, when `series` are those measured).

    prior: median recent demand per bucket of the established (backtestable) series of the
    category at that location, else of the whole category. weight: Buhlmann's credibility
    constant k = E[within-series variance] / variance of the series means, over the
    category's established series (Buhlmann & Gisler, A Course in Credibility Theory,
    ch. 4): alike items (small spread of means) lend a new one much, diverse ones little;
    `default_weight` when the category has fewer than two established series.
    """
    schema = {
        "category": pl.String,
        "location": pl.String,
        "prior": pl.Float64,
        "weight": pl.Float64,
        "sku": pl.String,
    }
    if categories is None:
        return pl.DataFrame(schema=schema)
    established = series.filter(pl.col("family").is_in(ESTABLISHED))
    if "category" not in established.columns:  # `prior_inputs` carry their category
        established = established.join(categories, on="sku")
    by_location = established.group_by("category", "location").agg(
        pl.col("mean_recent").median().alias("prior")
    )
    between = pl.col("mean_all").var(ddof=1)
    by_category = established.group_by("category").agg(
        pl.col("mean_recent").median().alias("category_prior"),
        pl.when(pl.len() >= 2)
        .then(pl.col("std_all").pow(2).mean() / pl.when(between > 0).then(between))
        .alias("weight"),
    )
    locations = pl.concat(
        [series.select("location"), *([] if locations is None else [locations.select("location")])]
    ).unique()
    return (
        by_category.join(locations, how="cross")
        .join(by_location, on=["category", "location"], how="left")
        .select(
            "category",
            "location",
            pl.coalesce("prior", "category_prior").alias("prior"),
            pl.col("weight").fill_nan(None).fill_null(default_weight),
        )
        .join(categories, on="category")
    )


def short_history_rate(series: pl.DataFrame, priors: pl.DataFrame, settings: Forecast):
    """Forecast per bucket for series too short to backtest, and how it was made.

    A credibility-weighted mean (Buhlmann): (n x own mean + k x prior) / (n + k), with n the
    series' buckets and prior, k from `category_priors`; without a category the prior is
    `forecast.new_item_default` with k = `min_history_periods`; without either, its own
    mean (HistoricAverage).
    """
    frame = series.join(priors.select("sku", "location", "prior", "weight"), on=SERIES, how="left")
    prior = pl.col("prior")
    default = settings.new_item_default
    source = (
        pl.when(prior.is_not_null())
        .then(pl.lit("CategoryBlend"))
        .when(pl.lit(default is not None))
        .then(pl.lit("DefaultBlend"))
        .otherwise(pl.lit("HistoricAverage"))
    )
    weight = pl.coalesce("weight", pl.lit(float(settings.min_history_periods)))
    prior = pl.coalesce(prior, pl.lit(default, pl.Float64))
    n = pl.col("n_obs").cast(pl.Float64)
    blended = (n * pl.col("mean_all") + weight * prior) / (n + weight)
    return frame.select(
        "unique_id",
        pl.coalesce(blended, pl.col("mean_all")).alias("short_rate"),
        source.alias("short_model"),
    )


POOLED_BASE_PERIODS = 13
MIN_POOLED_SERIES = 30


def pooled_seasonal_factors(
    history: pl.DataFrame,
    bucket: Bucket,
    season: int,
    horizon: int,
    base_periods: int = POOLED_BASE_PERIODS,
    min_series: int = MIN_POOLED_SERIES,
) -> pl.DataFrame:
    """period_start, seasonal_factor for the `horizon` buckets after `history`'s last one:
    top-down seasonality for items too sparse to show their own (the catalogue's profile
    one season earlier, applied to their flat Croston / TSB / IMAPA level).

    Series with history over the `season + base_periods` buckets before the origin t0 are
    each divided by their mean over the last `season` buckets (every item weighs alike) and
    summed into A(t). factor(t0 + h) = A3(t0 + h - season) / mean A(t0 - season - base ..
    t0 - season - 1), with A3 the centred 3-bucket mean: last year's change from the
    quarter before the origin to the forecast bucket. A flat intermittent forecast is
    about the mean of the recent buckets, so it is scaled by how the catalogue moved from
    such a quarter to the same week a season on. Empty (no scaling) for seasons under 26
    buckets, or fewer than `min_series` such series or an empty base.
    """
    if history.height == 0:
        return seasonal_factors([], None, bucket, season, horizon, base_periods, min_series)
    origin = history_origin(history, bucket)
    sums = seasonal_sums(history, origin, bucket, season, base_periods)
    return seasonal_factors([sums], origin, bucket, season, horizon, base_periods, min_series)


def history_origin(history: pl.DataFrame, bucket: Bucket) -> dt.date | None:
    """The first bucket after `history`'s last one (the forecast origin t0)."""
    last = history["period_start"].max() if history.height else None
    return None if last is None else last + dt.timedelta(days=BUCKET_DAYS[bucket])


def seasonal_sums(
    history: pl.DataFrame,
    origin: dt.date | None,
    bucket: Bucket,
    season: int,
    base_periods: int = POOLED_BASE_PERIODS,
) -> tuple[int, np.ndarray]:
    """(covered series, A(t) per bucket t0 - season - base .. t0 - 1) of
    `pooled_seasonal_factors` for the series of `history`; those of several sets of
    series add up."""
    profile = np.zeros(max(season + base_periods, 0))
    if season < 26 or history.height == 0 or origin is None:
        return 0, profile
    days = BUCKET_DAYS[bucket]
    first = origin - dt.timedelta(days=days * (season + base_periods))
    recent = origin - dt.timedelta(days=days * season)
    covered = (
        history.group_by(SERIES)
        .agg(
            pl.col("period_start").min().alias("since"),
            pl.col("demand").filter(pl.col("period_start") >= recent).mean().alias("level"),
        )
        .filter((pl.col("since") <= first) & (pl.col("level") > 0))
    )
    pooled = (
        history.filter((pl.col("period_start") >= first) & (pl.col("period_start") < origin))
        .join(covered, on=SERIES)
        .group_by("period_start")
        .agg((pl.col("demand") / pl.col("level")).sum().alias("pooled"))
        .with_columns(((pl.col("period_start") - pl.lit(first)).dt.total_days() // days).alias("i"))
    )
    profile[pooled["i"].to_numpy()] = pooled["pooled"].to_numpy()
    return covered.height, profile


def seasonal_factors(
    parts: list[tuple[int, np.ndarray]],
    origin: dt.date | None,
    bucket: Bucket,
    season: int,
    horizon: int,
    base_periods: int = POOLED_BASE_PERIODS,
    min_series: int = MIN_POOLED_SERIES,
) -> pl.DataFrame:
    """period_start, seasonal_factor of `pooled_seasonal_factors` from the summed
    `seasonal_sums` of one or several sets of series."""
    empty = pl.DataFrame(schema={"period_start": pl.Date, "seasonal_factor": pl.Float64})
    covered = sum(count for count, _ in parts)
    if season < 26 or origin is None or covered < min_series:
        return empty
    profile = np.sum([p for _, p in parts], axis=0)
    base = profile[:base_periods].mean()
    if base <= 0:
        return empty
    days = BUCKET_DAYS[bucket]
    at = base_periods + np.arange(horizon)  # t0 + h - season, h = 0 .. horizon - 1
    smoothed = (
        profile[np.clip(at - 1, 0, profile.size - 1)]
        + profile[np.clip(at, 0, profile.size - 1)]
        + profile[np.clip(at + 1, 0, profile.size - 1)]
    ) / 3
    return pl.DataFrame(
        {
            "period_start": [origin + dt.timedelta(days=days * h) for h in range(horizon)],
            "seasonal_factor": smoothed / base,
        }
    )


def pooled_factors(
    parts: list[tuple[int, np.ndarray]],
    origin: dt.date | None,
    settings: Forecast,
    bucket: Bucket,
    horizon: int,
) -> pl.DataFrame:
    """`seasonal_factors` at the forecast settings' season length."""
    return seasonal_factors(parts, origin, bucket, _season_length(settings, bucket), horizon)


def with_pooled_seasonality(
    future: pl.DataFrame,
    history: pl.DataFrame,
    settings: Forecast,
    bucket: Bucket,
    horizon: int,
    factors: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """`future` (unique_id, ds, forecast, ...) times `pooled_seasonal_factors` per bucket
    (`factors`: those of more series than `history`'s, when given)."""
    if factors is None:
        factors = pooled_seasonal_factors(
            history, bucket, _season_length(settings, bucket), horizon
        )
    factors = factors.rename({"period_start": "ds"})
    if factors.height == 0:
        return future
    return (
        future.join(factors, on="ds", how="left")
        .with_columns(pl.col("forecast") * pl.col("seasonal_factor").fill_null(1.0))
        .drop("seasonal_factor")
    )


def forecast_demand(
    history: pl.DataFrame,
    classes: pl.DataFrame,
    bucket: Bucket,
    settings: Forecast,
    horizon: int,
    categories: pl.DataFrame | None = None,
    prior_series: pl.DataFrame | None = None,
    advance: Callable[[int], None] | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Return (forecast, summary); `advance(n)` is told of every n series done (progress).

    forecast: sku, location, period_start, forecast, lo, hi, model (per future bucket).
    summary: sku, location, model, sigma_e (per bucket), backtest_rmse, backtest_bias, n_obs,
    window_scores (each backtest window's standardised shortfall, for conformal quantiles),
    window_origins and window_rates (each backtest window's first bucket and mean forecast
    per bucket, for the lead-time-demand calibration).
    `categories` (sku, category) lets short-history items borrow their category's level,
    measured on `prior_series` (`series_stats` of a wider history, or `prior_inputs` of
    every series) when given.
    Runs `forecast_backtests`, `forecast_paths` with its own pools' ranking, then
    `banded_forecast` with the bands of its own scores.
    """
    backtests = forecast_backtests(
        history, classes, bucket, settings, horizon, categories, prior_series, advance
    )
    paths = forecast_paths(backtests, pool_ranking([backtests.pool_scores], settings.combine_top))
    return banded_forecast(paths, band_widths([paths.band_scores], settings, horizon))


@dataclass
class ForecastPaths:
    """A forecast before its bands: future (unique_id, ds, step, model, forecast), the
    summary per series (every column `series_stats` and the backtest give), each series'
    scale and the band's conformity scores (pool, demand pattern, step) -> scores."""

    future: pl.DataFrame
    summary: pl.DataFrame
    scales: pl.DataFrame
    band_scores: dict[tuple[str, str, int], np.ndarray]
    level: float


def band_widths(
    parts: list[dict[tuple[str, str, int], np.ndarray]], settings: Forecast, horizon: int
) -> pl.DataFrame:
    """pool, demand_pattern, step, band_width, band_upper, band_lower
    (`widths_from_scores`) from the signed band scores of one or several sets of series
    (`ForecastPaths.band_scores`), pooled."""
    pooled: dict[tuple[str, str, int], list[np.ndarray]] = {}
    for part in parts:
        for key, scores in part.items():
            pooled.setdefault(key, []).append(scores)
    level = settings.interval_level / 100.0
    return pooled_band_widths(
        {key: band_quantiles(np.concatenate(v), level) for key, v in pooled.items()}, horizon
    )


def pooled_band_widths(
    quantiles: dict[tuple[str, str, int], tuple[float, float, float, float]], horizon: int
) -> pl.DataFrame:
    """`band_widths` from each (pool, pattern, step)'s quantiles (`band_quantiles`)."""
    frames = [
        widths_from_quantiles(
            {(p, h): found for (q, p, h), found in quantiles.items() if q == pool}, horizon
        ).with_columns(pl.lit(pool).alias("pool"))
        for pool in ("backtest", "short")
    ]
    return pl.concat(frames)


def prior_inputs(series: pl.DataFrame, categories: pl.DataFrame | None) -> pl.DataFrame:
    """The rows `category_priors` measures a category on: the established series (sku,
    location, family, mean_recent, mean_all, std_all, category) of items with a category,
    from `series_stats`; those of several sets of series stack."""
    columns = ["sku", "location", "family", "mean_recent", "mean_all", "std_all", "category"]
    if categories is None:
        return (
            series.with_columns(pl.lit(None, pl.String).alias("category")).select(columns).clear()
        )
    return (
        series.filter(pl.col("family").is_in(ESTABLISHED))
        .join(categories, on="sku")
        .select(columns)
    )


def forecast_backtests(
    history: pl.DataFrame,
    classes: pl.DataFrame,
    bucket: Bucket,
    settings: Forecast,
    horizon: int,
    categories: pl.DataFrame | None = None,
    prior_series: pl.DataFrame | None = None,
    advance: Callable[[int], None] | None = None,
    origin: dt.date | None = None,
    come_back: list[tuple[int | None, pl.DataFrame]] | None = None,
) -> ForecastBacktests:
    """`forecast_demand` up to the intermittent family's model choice: every other family
    forecast, the intermittent series backtested, and their pools' scores
    (`pool_scores`, per demand pattern) for `pool_ranking`; with
    `forecast.pooled_seasonality` the catalogue's `seasonal_sums` at `origin` (every
    partition's forecast origin, else `history`'s own); `come_back`: the dead-item
    check's sums of every partition (`come_back_sums`), else these series' own."""
    h_bt = backtest_periods(settings, bucket)
    series = series_stats(history, classes, settings, bucket, come_back)
    priors = category_priors(
        prior_series if prior_series is not None else prior_inputs(series, categories),
        categories,
        float(settings.min_history_periods),
        locations=series.select("location"),
    )
    series = series.join(short_history_rate(series, priors, settings), on="unique_id", how="left")
    if "abc" in classes.columns:
        cheap_only = ~pl.col("abc").is_in(settings.expensive_classes).fill_null(True)
        series = series.join(classes.select(*SERIES, "abc"), on=SERIES, how="left").with_columns(
            pl.when(pl.col("family").is_in(["seasonal", "smooth"]) & cheap_only)
            .then(pl.col("family") + "_fast")
            .otherwise(pl.col("family"))
            .alias("family")
        )
    data = history.join(series.select(*SERIES, "unique_id", "family"), on=SERIES).select(
        "unique_id", "family", pl.col("period_start").alias("ds"), pl.col("demand").alias("y")
    )

    choices: list[pl.DataFrame] = []
    futures: list[pl.DataFrame] = []
    errors: list[pl.DataFrame] = []
    # each series' own scale (the MASE scale: mean absolute one-step change, else its
    # mean), for the pooled model selection and the bands
    scales = series.select(
        "unique_id",
        "demand_pattern",
        pl.when(pl.col("naive_mae") > 0)
        .then(pl.col("naive_mae"))
        .otherwise(pl.col("mean_all"))
        .alias("scale"),
    )
    pending: FamilyBacktest | None = None
    scores = pool_scores(pl.DataFrame(), None)
    with forecast_backend(settings) as backend:
        for family in ("seasonal", "smooth", "seasonal_fast", "smooth_fast", "intermittent"):
            frame = data.filter(pl.col("family") == family).drop("family").sort(["unique_id", "ds"])
            if frame.height == 0:
                continue
            if family == "intermittent":  # chosen per pool: after the pools' ranking
                pools = (
                    scales.rename({"demand_pattern": "pool"}).join(
                        frame.select("unique_id").unique(), on="unique_id"
                    )
                    if settings.intermittent_selection == "pattern"
                    else None
                )
                pending = _family_backtest(
                    frame, family, settings, bucket, horizon, h_bt, backend, pools
                )
                scores = pool_scores(
                    pending.per_series,
                    pools,
                    settings.combine_top,
                    pending.long_backtest,
                    pending.wide,
                )
                continue
            choice, future, error = _run_family(
                frame, family, settings, bucket, horizon, h_bt, backend
            )
            choices.append(choice)
            futures.append(future)
            errors.append(error)
            if advance is not None:
                advance(frame["unique_id"].n_unique())
    origin = origin if origin is not None else history_origin(history, bucket)
    seasonal = (
        seasonal_sums(history, origin, bucket, _season_length(settings, bucket))
        if settings.pooled_seasonality
        else (0, np.zeros(0))
    )
    return ForecastBacktests(
        history,
        series,
        data,
        scales,
        choices,
        futures,
        errors,
        pending,
        scores,
        bucket,
        settings,
        horizon,
        h_bt,
        advance,
        origin,
        seasonal,
    )


@dataclass
class ForecastBacktests:
    """`forecast_backtests`' state until the pools are ranked: the series and their
    buckets, each series' scale, the finished families' choices, paths and errors, the
    intermittent family's backtest and its pools' scores, the forecast origin and the
    pooled seasonality's sums."""

    history: pl.DataFrame
    series: pl.DataFrame
    data: pl.DataFrame
    scales: pl.DataFrame
    choices: list[pl.DataFrame]
    futures: list[pl.DataFrame]
    errors: list[pl.DataFrame]
    pending: FamilyBacktest | None
    pool_scores: pl.DataFrame
    bucket: Bucket
    settings: Forecast
    horizon: int
    h_bt: int
    advance: Callable[[int], None] | None
    origin: dt.date | None
    seasonal: tuple[int, np.ndarray]


def forecast_paths(
    backtests: ForecastBacktests,
    ranked: pl.DataFrame | None = None,
    factors: pl.DataFrame | None = None,
) -> ForecastPaths:
    """`forecast_demand` up to its bands (the paths, the summary and the band scores),
    the intermittent family's pools ranked by `ranked` (`pool_ranking` of every set of
    series' `pool_scores`; these series' own when None) and, with pooled seasonality,
    scaled by `factors` (`pooled_factors` of every set's `seasonal_sums`; own when None)."""
    history, series, data, scales = (
        backtests.history,
        backtests.series,
        backtests.data,
        backtests.scales,
    )
    choices, futures, errors = backtests.choices, backtests.futures, backtests.errors
    settings, bucket, horizon, h_bt = (
        backtests.settings,
        backtests.bucket,
        backtests.horizon,
        backtests.h_bt,
    )
    advance, days = backtests.advance, BUCKET_DAYS[bucket]
    if ranked is None:
        ranked = pool_ranking([backtests.pool_scores], settings.combine_top)
    # short intermittent / lumpy series forecast with their pattern's models (unique_id, model)
    pattern_choice = pl.DataFrame(schema={"unique_id": pl.Int64, "model": pl.String})
    short_pools = series.filter(
        (pl.col("family") == "short") & pl.col("demand_pattern").is_in(["intermittent", "lumpy"])
    ).select("unique_id", pl.col("demand_pattern").alias("pool"))
    pattern_models = (
        settings.intermittent_selection == "pattern" and ranked.height > 0 and short_pools.height
    )
    if backtests.pending is not None or pattern_models:
        paths = []
        with forecast_backend(settings) as backend:
            if backtests.pending is not None:
                choice, future, error = _family_forecast(
                    backtests.pending, settings, horizon, backend, ranked
                )
                choices.append(choice)
                errors.append(error)
                paths.append(future)
            if pattern_models:  # too short to backtest: their pattern's models
                pattern_choice, pattern_future = pattern_forecast(
                    data.join(short_pools.select("unique_id"), on="unique_id")
                    .drop("family")
                    .sort(["unique_id", "ds"]),
                    short_pools,
                    ranked,
                    settings,
                    bucket,
                    horizon,
                    backend,
                )
                paths.append(pattern_future)
        future = pl.concat(paths, how="vertical_relaxed")
        if settings.pooled_seasonality:
            if factors is None:
                factors = pooled_factors(
                    [backtests.seasonal], backtests.origin, settings, bucket, horizon
                )
            future = with_pooled_seasonality(future, history, settings, bucket, horizon, factors)
        futures.append(future)
        if advance is not None and backtests.pending is not None:
            advance(backtests.pending.frame["unique_id"].n_unique())
        backtests.pending = None

    # fallbacks computed in Polars: short history -> blended mean, dead / never sold -> zero
    simple = series.filter(pl.col("family").is_in(["short", "zero", "decay"]))
    if advance is not None and simple.height:
        advance(simple.height)
    simple_model = (
        pl.when(pl.col("family") == "zero")
        .then(pl.lit("Zero"))
        .when(pl.col("family") == "decay")
        .then(pl.lit("TSBDecay"))
        .otherwise(pl.col("short_model"))
    )
    # the short series forecast with their pattern's models keep the short-history spread
    simple = simple.join(pattern_choice, on="unique_id", how="left")
    simple_model = pl.coalesce(pl.col("model"), simple_model)
    simple_choice = simple.select(
        "unique_id",
        simple_model.alias("model"),
        pl.lit(None, pl.Float64).alias("backtest_rmse"),
        pl.lit(None, pl.Float64).alias("backtest_bias"),
        pl.lit(None, pl.List(pl.Float64)).alias("window_scores"),
        pl.lit(None, pl.List(pl.Date)).alias("window_origins"),
        pl.lit(None, pl.List(pl.Float64)).alias("window_rates"),
    )
    steps = pl.DataFrame({"step": list(range(1, horizon + 1))})
    simple_future = (
        simple.filter(pl.col("model").is_null())
        .join(steps, how="cross")
        .select(
            "unique_id",
            (pl.col("last_period") + pl.duration(days=pl.col("step") * days)).alias("ds"),
            pl.col("step").cast(pl.Int64),
            simple_model.alias("model"),
            pl.when(pl.col("family") == "zero")
            .then(0.0)
            .when(pl.col("family") == "decay")
            .then(pl.col("tsb_rate"))
            .otherwise(pl.col("short_rate"))
            .alias("forecast"),
        )
    )
    choice = pl.concat([*choices, simple_choice], how="vertical_relaxed")
    future = pl.concat([*futures, simple_future], how="vertical_relaxed")

    # spread: backtest RMSE; short series: sample std, at least Poisson sqrt(forecast)
    summary = series.join(choice, on="unique_id", how="left").with_columns(
        pl.coalesce(
            pl.col("backtest_rmse"),
            pl.when(pl.col("family") == "zero")
            .then(0.0)
            .otherwise(
                pl.max_horizontal(
                    pl.col("std_all").fill_null(0.0),
                    pl.col("mean_all").sqrt(),
                    pl.col("short_rate").fill_null(0.0).sqrt(),
                )
            ),
        ).alias("sigma_e"),
        pl.col("model").fill_null("HistoricAverage"),
    )
    # bands: split-conformal per pattern and step, from the backtest's errors for the
    # backtested series and from the mean-so-far's rolling errors for short histories;
    # TSB-decaying dead items the quantile of their two-point demand; else normal
    level = settings.interval_level / 100.0
    short = data.join(
        series.filter(pl.col("family") == "short").select("unique_id"), on="unique_id"
    ).drop("family")
    empty = pl.DataFrame(
        schema={"unique_id": pl.Int64, "cutoff": pl.Date, "ds": pl.Date, "error": pl.Float64}
    )
    pools = [
        ("backtest", pl.concat(errors) if errors else empty),
        (
            "short",
            running_mean_errors(short, horizon, h_bt, settings.backtest_windows, h_bt)
            if short.height
            else empty,
        ),
    ]
    band_scores = {
        (pool, pattern, step): scores
        for pool, found in pools
        for (pattern, step), scores in conformity_scores(found.join(scales, on="unique_id")).items()
    }
    return ForecastPaths(future, summary, scales, band_scores, level)


def banded_forecast(
    paths: ForecastPaths, widths: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(forecast, summary) of `forecast_demand` from its paths and the band widths
    (`band_widths`: pool, demand_pattern, step, band_width, band_upper, band_lower)."""
    future, summary, scales, level = paths.future, paths.summary, paths.scales, paths.level
    z = float(norm.ppf(0.5 + level / 2))
    pool = pl.when(pl.col("family") == "short").then(pl.lit("short")).otherwise(pl.lit("backtest"))
    half_width = (
        pl.when(pl.col("family") == "zero")
        .then(0.0)
        .when(pl.col("family") == "decay")
        .then(two_point_band_width(level))
        .otherwise(z * pl.col("sigma_e"))
    )
    # conformal: each tail its own width (the forecast's upper and lower misses)
    conformal = pl.col("band_upper").is_not_null() & ~pl.col("family").is_in(["zero", "decay"])
    upper = pl.when(conformal).then(pl.col("band_upper") * pl.col("scale")).otherwise(half_width)
    lower = pl.when(conformal).then(pl.col("band_lower") * pl.col("scale")).otherwise(half_width)
    forecast = (
        future.join(
            summary.select(
                "unique_id",
                *SERIES,
                "family",
                "sigma_e",
                "mean_recent",
                "tsb_probability",
                "tsb_size",
                "tsb_rate",
            ),
            on="unique_id",
        )
        .join(scales, on="unique_id")
        .with_columns(pool.alias("pool"))
        .join(widths, on=["pool", "demand_pattern", "step"], how="left")
        .with_columns(
            pl.col("forecast")
            .fill_nan(None)
            .fill_null(pl.col("mean_recent"))
            .clip(lower_bound=0.0)
            .alias("forecast"),
        )
        .with_columns(
            upper.fill_nan(None).fill_null(0.0).alias("upper"),
            lower.fill_nan(None).fill_null(0.0).alias("lower"),
        )
        .select(
            *SERIES,
            pl.col("ds").alias("period_start"),
            "forecast",
            (pl.col("forecast") - pl.col("lower")).clip(lower_bound=0.0).alias("lo"),
            (pl.col("forecast") + pl.col("upper")).alias("hi"),
            "model",
        )
        .sort([*SERIES, "period_start"])
    )
    return forecast, summary.select(SUMMARY_COLUMNS).sort(SERIES)
