"""Forecast accuracy on a holdout: every candidate model alone vs stockplan's per-series choice.

    python bench/forecast_accuracy.py                          # the bundled sample data
    python bench/forecast_accuracy.py -c my.yaml               # your exports, via a config
    python bench/forecast_accuracy.py --file long.csv          # unique_id, ds, y (any frequency)

The last `--holdout` buckets are hidden. On what comes before, stockplan classifies each
series and picks its model by its own rolling-origin backtest (exactly as `plan` does),
and every candidate model is also fitted alone on every series. All are then scored on
the hidden buckets with utilsforecast: MASE and RMSSE (scaled by the in-sample one-step
naive error) and bias (mean forecast - actual, in units per bucket), averaged per demand
pattern and overall, and the median MASE (the mean is carried by a few series whose
naive error is tiny). Every series with the whole holdout is scored, stockplan's fallbacks
(short history, dead items) included; `--backtested-only` scores only the series that
had a model choice (the comparison before). Where the selection loses to a pattern's best
single model, the gap is split by ABC class, with its standard error and the part carried
by the five largest per-series differences (`gap_to_best`); `--per-series` files carry
each series' ABC class.

Bands: per demand pattern, the share of holdout buckets above the forecast's `hi` and
below its `lo` (nominally (1 - forecast.interval_level) / 2 each), outside it in the first
and second half of the holdout, and how wide the band is at the first and the last step.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stockplan.config import load_config  # noqa: E402
from stockplan.demand import BUCKET_DAYS, SERIES, bucket_start, demand_history  # noqa: E402
from stockplan.forecast import SEASON, forecast_demand  # noqa: E402
from stockplan.segmentation import classify_demand  # noqa: E402

SINGLE_MODELS = [
    "AutoETS",
    "AutoTheta",
    "SeasonalNaive",
    "CrostonSBA",
    "TSB",
    "ADIDA",
    "IMAPA",
    "SESOpt",
    "WindowAverage",
    "HistoricAverage",
    "Naive",
]


def _models(season: int):
    from statsforecast.models import (
        ADIDA,
        IMAPA,
        TSB,
        AutoETS,
        AutoTheta,
        CrostonSBA,
        HistoricAverage,
        Naive,
        SeasonalNaive,
        SimpleExponentialSmoothingOptimized,
        WindowAverage,
    )

    return [
        AutoETS(season_length=1),
        AutoTheta(season_length=season),
        SeasonalNaive(season_length=season),
        CrostonSBA(),
        TSB(alpha_d=0.1, alpha_p=0.1),
        ADIDA(),
        IMAPA(),
        SimpleExponentialSmoothingOptimized(),
        WindowAverage(window_size=13),
        HistoricAverage(),
        Naive(),
    ]


def history_from_config(config_path: Path) -> tuple[pl.DataFrame, dt.date, str, object]:
    from stockplan.io.prepare import prepare_inputs
    from stockplan.io.readers import load_inputs
    from stockplan.pipeline import excluded_days

    config = load_config(config_path)
    tables = prepare_inputs(load_inputs(config), config).tables
    as_of = config.planning.as_of or tables["sales"]["date"].max() + dt.timedelta(days=1)
    excluded, _ = excluded_days(tables, config, as_of)
    bucket = config.planning.bucket
    return demand_history(tables["sales"], as_of, bucket, excluded), as_of, bucket, config


def history_from_file(path: Path, bucket: str) -> tuple[pl.DataFrame, dt.date]:
    raw = (
        pl.read_parquet(path)
        if path.suffix == ".parquet"
        else pl.read_csv(path, try_parse_dates=True)
    )
    missing = {"unique_id", "ds", "y"} - set(raw.columns)
    if missing:
        raise SystemExit(f"{path}: long format needs unique_id, ds, y (missing {missing})")
    sales = raw.select(
        pl.col("unique_id").cast(pl.String).alias("sku"),
        pl.lit("ALL").alias("location"),
        pl.col("ds").cast(pl.Date).alias("date"),
        pl.col("y").cast(pl.Float64).alias("quantity"),
    )
    as_of = sales["date"].max() + dt.timedelta(days=1)
    return demand_history(sales, as_of, bucket), as_of


def evaluate(
    history: pl.DataFrame,
    as_of: dt.date,
    bucket: str,
    settings,
    holdout: int,
    backtested_only: bool = False,
):
    """Scores per pattern and model (plus 'stockplan selection')."""
    from statsforecast import StatsForecast
    from statsforecast.models import HistoricAverage
    from utilsforecast.losses import bias, mase, rmsse

    days = BUCKET_DAYS[bucket]
    cutoff = pl.select(bucket_start(pl.lit(as_of), bucket)).item() - dt.timedelta(
        days=holdout * days
    )
    train = history.filter(pl.col("period_start") < cutoff)
    test = history.filter(pl.col("period_start") >= cutoff)
    classes = classify_demand(train, cutoff, bucket, settings.classify)

    started = time.perf_counter()
    forecast, summary = forecast_demand(train, classes, bucket, settings.forecast, holdout)
    selection_seconds = time.perf_counter() - started
    # backtested: the series with a backtest of their own (no short history, no dead item)
    chosen = summary.filter(
        pl.col("backtest_rmse").is_not_null() if backtested_only else pl.lit(True)
    ).select(
        *SERIES,
        pl.col("model").alias("stockplan_model"),
        pl.col("backtest_rmse").is_not_null().alias("backtested"),
    )
    keep = (
        chosen.join(classes.select(*SERIES, "demand_pattern", "abc"), on=SERIES)
        .join(test.group_by(SERIES).agg(pl.len().alias("n")), on=SERIES)
        .filter(pl.col("n") == holdout)
        .sort(SERIES)
        .with_row_index("unique_id")
        .with_columns(pl.col("unique_id").cast(pl.Int64))
    )
    ids = keep.select(*SERIES, "unique_id")

    def long(frame: pl.DataFrame, value: str) -> pl.DataFrame:
        return frame.join(ids, on=SERIES).select(
            "unique_id", pl.col("period_start").alias("ds"), pl.col(value).alias("y")
        )

    train_df = long(train, "demand").sort("unique_id", "ds")
    season = SEASON[bucket] if settings.forecast.season_length == "auto" else 7
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # a model that cannot fit a short series (AutoETS: "tiny datasets") gives the
        # series' mean there, as stockplan does for short histories
        engine = StatsForecast(
            models=_models(season),
            freq=f"{days}d",
            n_jobs=1,
            fallback_model=HistoricAverage(),
        )
        singles = engine.forecast(df=train_df, h=holdout)
    singles_seconds = time.perf_counter() - started
    # a model that returns no forecast (SeasonalNaive without a season of history) gives
    # the series' mean there too, not a zero that MAE would reward on intermittent items
    singles = singles.with_columns(
        [
            pl.col(m)
            .fill_nan(None)
            .fill_null(pl.col("HistoricAverage"))
            .fill_null(0.0)
            .clip(lower_bound=0.0)
            for m in SINGLE_MODELS
        ]
    )
    # the test frame: actuals, each model's forecast and stockplan's choice, row by row
    steps = pl.int_range(pl.len()).over("unique_id")
    selected = (
        forecast.join(ids, on=SERIES)
        .sort("unique_id", "period_start")
        .select("unique_id", steps.alias("step"), pl.col("forecast").alias("stockplan"), "lo", "hi")
    )
    frame = (
        long(test, "demand")
        .sort("unique_id", "ds")
        .with_columns(steps.alias("step"))
        .join(
            singles.sort("unique_id", "ds").with_columns(steps.alias("step")).drop("ds"),
            on=["unique_id", "step"],
        )
        .join(selected, on=["unique_id", "step"])
        .with_columns(pl.lit(cutoff).alias("cutoff"))
    )
    models = [*SINGLE_MODELS, "stockplan"]
    scores = {
        "MASE": mase(frame, models, seasonality=1, train_df=train_df),
        "RMSSE": rmsse(frame, models, seasonality=1, train_df=train_df),
        "bias": bias(frame, models),
    }
    rows = []
    pattern = keep.select("unique_id", "demand_pattern")
    for metric, table in scores.items():
        table = table.join(pattern, on="unique_id")
        for model in models:
            finite = pl.col(model).is_finite()
            for name, group in [("overall", table), *table.group_by("demand_pattern")]:
                label = name if isinstance(name, str) else name[0]
                name = "stockplan selection" if model == "stockplan" else model
                values = group.filter(finite)[model]
                row = {"pattern": label, "model": name, "series": values.len()}
                rows.append({**row, "metric": metric, "value": values.mean()})
                if metric == "MASE":
                    rows.append({**row, "metric": "MASE median", "value": values.median()})
    result = pl.DataFrame(rows)
    timing = {"selection_seconds": selection_seconds, "single_models_seconds": singles_seconds}
    per_series = keep.join(scores["MASE"], on="unique_id").drop("unique_id")
    coverage = band_coverage(frame.join(pattern, on="unique_id"), settings.forecast.interval_level)
    return result, keep, timing, per_series, coverage


def gap_to_best(per_series: pl.DataFrame, best: dict[str, str], top: int = 5) -> pl.DataFrame:
    """Where the selection loses to a pattern's best single model: per demand pattern and
    ABC class, the series, the mean per-series MASE difference d = selection - best
    single, its standard error sd(d) / sqrt(n) over the pattern's series, and the part of
    the pattern's mean difference carried by its `top` largest d (sum of those d / n).
    `per_series`: demand_pattern, abc, stockplan and one MASE column per model; `best`:
    pattern -> model."""
    rows = [
        per_series.filter(pl.col("demand_pattern") == pattern).with_columns(
            (pl.col("stockplan") - pl.col(model)).alias("d"), pl.lit(model).alias("best_single")
        )
        for pattern, model in best.items()
    ]
    frame = pl.concat(rows).with_columns(pl.len().over("demand_pattern").alias("n_pattern"))
    by_class = frame.group_by("demand_pattern", "best_single", "abc").agg(
        pl.len().alias("series"), pl.col("d").mean().alias("mean_d")
    )
    overall = frame.group_by("demand_pattern", "best_single").agg(
        pl.lit("all").alias("abc"),
        pl.len().alias("series"),
        pl.col("d").mean().alias("mean_d"),
        (pl.col("d").std() / pl.len().sqrt()).alias("se_d"),
        (pl.col("d").top_k(top).sum() / pl.len()).alias(f"top{top}_d"),
    )
    return pl.concat([by_class, overall], how="diagonal").sort("demand_pattern", "abc")


def band_coverage(frame: pl.DataFrame, interval_level: float) -> pl.DataFrame:
    """Per demand pattern: the share of holdout buckets above the band's `hi` and below its
    `lo` (each nominally (1 - level) / 2), outside it (nominally 1 - level), in the first
    and the second half of the holdout, and the band's mean width h = 1 and h = last over
    the mean forecast (does the band widen with the horizon?). `frame`: unique_id,
    demand_pattern, step (0-based), y, stockplan, lo, hi."""
    last = frame["step"].max()
    half = (last + 1) // 2
    above = pl.col("y") > pl.col("hi")
    below = pl.col("y") < pl.col("lo")
    outside = above | below
    width = pl.col("hi") - pl.col("lo")
    level = pl.when(pl.col("stockplan").mean() > 0).then(pl.col("stockplan").mean())

    def table(by: list[str]) -> pl.DataFrame:
        return frame.group_by(by).agg(
            pl.col("unique_id").n_unique().alias("series"),
            above.mean().alias("above_hi"),
            below.mean().alias("below_lo"),
            outside.mean().alias("outside"),
            outside.filter(pl.col("step") < half).mean().alias(f"outside_h1-{half}"),
            outside.filter(pl.col("step") >= half).mean().alias(f"outside_h{half + 1}-{last + 1}"),
            (width.filter(pl.col("step") == 0).mean() / level).alias("width_h1"),
            (width.filter(pl.col("step") == last).mean() / level).alias(f"width_h{last + 1}"),
        )

    per_pattern = table(["demand_pattern"])
    overall = table([]).with_columns(pl.lit("overall").alias("demand_pattern"))
    result = pl.concat([per_pattern, overall.select(per_pattern.columns)])
    return result.with_columns(pl.lit(1 - interval_level / 100).alias("nominal_outside")).sort(
        "demand_pattern"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-c", "--config", type=Path, default=ROOT / "config.example.yaml")
    parser.add_argument("--file", type=Path, help="long-format unique_id, ds, y file instead")
    parser.add_argument("--bucket", choices=["day", "week"], default="week")
    parser.add_argument("--holdout", type=int, default=8, help="hidden buckets (default 8)")
    parser.add_argument("--output", type=Path, help="also write the scores to this CSV")
    parser.add_argument("--per-series", type=Path, help="write each series' MASE to this CSV")
    parser.add_argument(
        "--backtested-only",
        action="store_true",
        help="score only the series that had a model choice (no short-history or dead items)",
    )
    args = parser.parse_args()
    if args.file is not None:
        config = load_config(ROOT / "config.example.yaml")
        history, as_of = history_from_file(args.file, args.bucket)
        bucket = args.bucket
    else:
        history, as_of, bucket, config = history_from_config(args.config)
    scores, kept, timing, per_series, coverage = evaluate(
        history, as_of, bucket, config, args.holdout, args.backtested_only
    )
    print(
        f"{kept.height} series scored on the last {args.holdout} {bucket}s before {as_of}; "
        f"selection {timing['selection_seconds']:.1f} s (backtest + forecast), "
        f"all single models {timing['single_models_seconds']:.1f} s"
    )
    counts = scores.filter(pl.col("metric") == "MASE").select("pattern", "model", "series")
    wide = (
        scores.pivot(on="metric", index=["pattern", "model"], values="value")
        .join(counts, on=["pattern", "model"])
        .sort("pattern", "MASE")
    )
    with pl.Config(tbl_rows=200, tbl_cols=10, float_precision=3, tbl_width_chars=120):
        print(wide)
    # per pattern: does the selection beat every single model?
    for (pattern,), group in wide.group_by("pattern", maintain_order=True):
        ours = group.filter(pl.col("model") == "stockplan selection")
        others = group.filter(pl.col("model") != "stockplan selection")
        best = others.sort("MASE").head(1)
        beaten = others.filter(pl.col("MASE") < ours["MASE"][0])["model"].to_list()
        print(
            f"{pattern}: selection MASE {ours['MASE'][0]:.3f} (median "
            f"{ours['MASE median'][0]:.3f}), best single {best['model'][0]} "
            f"{best['MASE'][0]:.3f}; "
            + (f"beaten by {', '.join(beaten)}" if beaten else "beats every single model")
        )
    # where the selection loses: per pattern and ABC class, against its best single model
    best = (
        wide.filter((pl.col("model") != "stockplan selection") & (pl.col("pattern") != "overall"))
        .sort("MASE")
        .group_by("pattern", maintain_order=True)
        .first()
    )
    print(
        "selection - best single model (mean per-series MASE difference, its standard "
        "error, the part carried by the 5 largest differences), per pattern and ABC class:"
    )
    with pl.Config(tbl_rows=40, float_precision=3, tbl_width_chars=120):
        print(gap_to_best(per_series, dict(zip(best["pattern"], best["model"], strict=True))))
    overall = wide.filter(pl.col("pattern") == "overall")
    ours = overall.filter(pl.col("model") == "stockplan selection")
    best_single = overall.filter(pl.col("model") != "stockplan selection").sort("MASE").head(1)
    print(
        f"overall MASE: selection {ours['MASE'][0]:.3f}, best single model "
        f"{best_single['model'][0]} {best_single['MASE'][0]:.3f}; RMSSE: selection "
        f"{ours['RMSSE'][0]:.3f}, best single "
        f"{overall.filter(pl.col('model') != 'stockplan selection')['RMSSE'].min():.3f}"
    )
    print(
        f"band at forecast.interval_level {config.forecast.interval_level:g} %: share of "
        "holdout buckets above hi / below lo / outside, and its width (hi - lo) at the first "
        "and the last step over the mean forecast"
    )
    with pl.Config(tbl_rows=20, tbl_cols=12, float_precision=3, tbl_width_chars=160):
        print(coverage)
    if args.output:
        scores.write_csv(args.output)
    if args.per_series:
        per_series.write_csv(args.per_series)
    rank = np.argsort(overall["MASE"].to_numpy())
    print("ranking by overall MASE:", ", ".join(overall["model"].gather(rank).to_list()))


if __name__ == "__main__":
    main()
