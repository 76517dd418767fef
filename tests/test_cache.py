"""The plan cache: reused on unchanged inputs, never stale, never an error."""

from __future__ import annotations

import io
import os
from pathlib import Path

import polars as pl
import yaml
from conftest import add_customer_order
from typer.testing import CliRunner

from stockplan import cache
from stockplan.cli import app
from stockplan.config import load_config

runner = CliRunner()
REUSED = "reused the plan computed earlier"


def _table(command: str, config: Path, *extra: str) -> tuple[pl.DataFrame, str]:
    """`command`'s table written to stdout as CSV, read back, and its stderr."""
    result = runner.invoke(
        app, [command, "-c", str(config), "-o", "-", *extra], catch_exceptions=False
    )
    assert result.exit_code == 0, result.stderr
    return pl.read_csv(io.StringIO(result.stdout)), result.stderr


def _plan(config: Path, *extra: str) -> tuple[pl.DataFrame, str]:
    return _table("plan", config, "--all", *extra)


def _value(orders: pl.DataFrame, sku: str, location: str, column: str) -> float:
    row = orders.filter((pl.col("sku") == sku) & (pl.col("location") == location))
    return float(row[column][0])


def test_a_repeated_plan_on_unchanged_inputs_is_read_from_the_cache(small_shop: Path):
    first, first_log = _plan(small_shop)
    second, second_log = _plan(small_shop)
    assert REUSED not in first_log and REUSED in second_log
    assert second.equals(first)
    assert (small_shop.parent / ".stockplan-cache").is_dir()
    # the note says the same in the buyer's language, naming the cache folder
    _, chinese_log = _plan(small_shop, "--lang", "zh", "--headers", "canonical")
    folder = small_shop.parent / ".stockplan-cache"
    assert f"stockplan: 沿用此前用相同输入算出的计划（{folder}）" in chinese_log.splitlines()
    assert REUSED not in chinese_log


def test_one_changed_byte_of_an_input_is_recomputed_never_served_stale(small_shop: Path):
    before, _ = _plan(small_shop)
    stock = small_shop.parent / "stock.csv"
    text = stock.read_text()
    assert "A-100,WH1,40," in text
    stock.write_text(text.replace("A-100,WH1,40,", "A-100,WH1,90,"))  # one byte: 4 -> 9
    after, log = _plan(small_shop)
    fresh, _ = _plan(small_shop, "--no-cache")
    assert REUSED not in log
    assert after.equals(fresh)
    assert _value(before, "A-100", "WH1", "on_hand") == 40
    assert _value(after, "A-100", "WH1", "on_hand") == 90


def test_a_changed_config_is_recomputed_never_served_stale(small_shop: Path):
    before, _ = _plan(small_shop)
    settings = yaml.safe_load(small_shop.read_text())
    settings["lead_time"] = {"default_days": 60}
    settings["inputs"]["suppliers"] = None  # so the default lead time applies
    small_shop.write_text(yaml.safe_dump(settings))
    after, log = _plan(small_shop)
    fresh, _ = _plan(small_shop, "--no-cache")
    assert REUSED not in log
    assert after.equals(fresh)
    assert after["lead_time_days"].to_list() != before["lead_time_days"].to_list()


def test_no_cache_recomputes_and_a_corrupt_entry_is_recomputed_without_error(small_shop: Path):
    first, _ = _plan(small_shop)
    _, log = _plan(small_shop, "--no-cache")
    assert REUSED not in log
    folder = small_shop.parent / ".stockplan-cache"
    (entry,) = [
        p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(cache.FORECAST_PREFIX)
    ]
    risk = entry / "table.risk.arrow"
    risk.write_bytes(risk.read_bytes()[:100])  # a truncated file
    again, log = _plan(small_shop)
    assert REUSED not in log and again.equals(first)
    _, log = _plan(small_shop)
    assert REUSED in log  # the recomputed plan was stored again


def test_cache_key_changes_with_every_input_byte_and_every_setting(small_shop: Path):
    config = load_config(small_shop)
    key = cache.cache_key(config)
    assert key == cache.cache_key(load_config(small_shop))
    sales = small_shop.parent / "sales.csv"
    data = sales.read_bytes()
    sales.write_bytes(data[:-2] + bytes([data[-2] ^ 1]) + data[-1:])
    assert cache.cache_key(config) != key
    sales.write_bytes(data)
    assert cache.cache_key(config) == key
    changed = config.model_copy(
        update={"policy": config.policy.model_copy(update={"service_level": 0.9})}
    )
    assert cache.cache_key(changed) != key


def test_a_database_input_is_never_cached(small_shop: Path):
    settings = yaml.safe_load(small_shop.read_text())
    settings["inputs"]["suppliers"] = {"url": "sqlite:///shop.db", "table": "suppliers"}
    small_shop.write_text(yaml.safe_dump(settings))
    assert cache.cache_key(load_config(small_shop)) is None


def test_suppliers_reads_only_the_purchase_orders(small_shop: Path):
    (small_shop.parent / "sales.csv").write_text("not,a,sales,file\n")  # never read
    result = runner.invoke(
        app, ["suppliers", "-c", str(small_shop), "-o", "-"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.stderr
    scorecard = pl.read_csv(io.StringIO(result.stdout))
    # P1 is the one received line: ordered 2025-09-20, received 2025-10-03 = 13 days, on time
    assert scorecard["supplier"].to_list() == ["Acme"]
    assert scorecard["lead_time_mean_days"][0] == 13.0
    assert scorecard["on_time_rate"][0] == 1.0


def test_suppliers_help_says_it_never_caches_and_a_plan_command_says_it_recomputes():
    def help_text(command: str) -> str:
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0, result.output
        return " ".join(result.output.replace("│", " ").split())  # the wrapped lines joined

    assert "this one reads only the purchase orders and never uses or keeps the plan cache" in (
        help_text("suppliers")
    )
    assert "Recompute" not in help_text("suppliers")
    assert "--no-cache Recompute even when the inputs" in help_text("classify")


def test_a_fifo_input_is_never_read_for_the_key(small_shop: Path):
    fifo = small_shop.parent / "sales.fifo"
    os.mkfifo(fifo)
    settings = yaml.safe_load(small_shop.read_text())
    settings["inputs"]["sales"] = "sales.fifo"
    small_shop.write_text(yaml.safe_dump(settings))
    assert cache.cache_key(load_config(small_shop)) is None  # returns at once, reads nothing


def test_another_version_of_a_computing_library_gives_another_key(small_shop: Path, monkeypatch):
    from importlib import metadata

    config = load_config(small_shop)
    key = cache.cache_key(config)
    installed = metadata.version

    for library in ("polars", "statsforecast", "numpy"):

        def other(name: str, library: str = library) -> str:
            return "0.0.1" if name == library else installed(name)

        monkeypatch.setattr(metadata, "version", other)
        assert cache.cache_key(config) != key, library
    monkeypatch.setattr(metadata, "version", installed)
    assert cache.cache_key(config) == key


def test_a_cache_folder_that_cannot_be_written_is_said_once_and_the_run_goes_on(
    small_shop: Path, tmp_path: Path, monkeypatch
):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder's parent should be\n")
    folder = blocked / "cache"
    monkeypatch.setenv("STOCKPLAN_CACHE_DIR", str(folder))
    orders, log = _plan(small_shop)
    assert orders.height > 0
    warnings = [line for line in log.splitlines() if "cache" in line]
    assert warnings == [
        f"stockplan: warning: cannot keep the plan in the cache folder {folder} (Not a "
        "directory): every run computes it again; set STOCKPLAN_CACHE_DIR to a folder you "
        "may write"
    ]
    _, chinese = _plan(small_shop, "--lang", "zh", "--headers", "canonical")
    assert [line for line in chinese.splitlines() if "缓存" in line] == [
        f"stockplan: 警告: 无法把计划保存到缓存文件夹 {folder}（Not a directory）：每次运行都要"
        "重新计算；请把 STOCKPLAN_CACHE_DIR 设为可写入的文件夹"
    ]


def _notices(config: Path, *extra: str) -> tuple[pl.DataFrame, str]:
    return _table("notices", config, "--headers", "canonical", *extra)


def test_a_plan_kept_in_one_language_is_reused_in_the_other_with_its_notices_in_it(
    small_shop: Path,
):
    add_customer_order(small_shop, "A-100", 300)  # more than stock ships today: a notice
    english, log = _notices(small_shop)
    assert REUSED not in log
    assert english.height == 1
    assert english["message"][0].startswith("Order SO1: 300 x A-100")
    # the Chinese run reads the plan the English one kept, its notices in Chinese, as a
    # Chinese run without the cache writes them
    chinese, log = _notices(small_shop, "--lang", "zh")
    assert "沿用此前用相同输入算出的计划" in log
    fresh, log = _notices(small_shop, "--lang", "zh", "--no-cache")
    assert "沿用此前" not in log
    assert chinese.equals(fresh)
    assert chinese["message"][0].startswith("订单 SO1：A-100")
    assert chinese.drop("message", "filled_from").equals(english.drop("message", "filled_from"))
    # and back: the English notices again, from the same entry
    again, log = _notices(small_shop)
    assert REUSED in log and again.equals(english)
    entries = [
        p
        for p in (small_shop.parent / ".stockplan-cache").iterdir()
        if p.is_dir() and not p.name.startswith(cache.FORECAST_PREFIX)
    ]
    assert len(entries) == 1


def test_alert_channels_and_report_settings_are_not_in_the_key(small_shop: Path):
    config = load_config(small_shop)
    key = cache.cache_key(config)
    channel = {"type": "wecom", "webhook": "https://qyapi.weixin.qq.com/send?key=k"}
    shown = config.model_copy(
        update={
            "notify": config.notify.model_copy(update={"top": 3, "language": "zh"}),
            "report": config.report.model_copy(update={"top_items": 5}),
            "planning": config.planning.model_copy(update={"language": "zh"}),
        }
    )
    assert cache.cache_key(shown) == key
    settings = yaml.safe_load(small_shop.read_text())
    settings["notify"] = {"channels": {"team": channel}}
    small_shop.write_text(yaml.safe_dump(settings))
    assert cache.cache_key(load_config(small_shop)) == key
    # a setting the plan reads still changes it
    currency = config.model_copy(
        update={"planning": config.planning.model_copy(update={"currency": "USD"})}
    )
    assert cache.cache_key(currency) != key


def test_an_entry_without_notices_in_the_run_language_is_a_miss_and_is_kept(tmp_path: Path):
    import datetime as dt

    from stockplan.result import Plan

    notices = pl.DataFrame({"order_id": ["SO1"], "message": ["Order SO1: ..."]})
    plan = Plan(as_of=dt.date(2025, 10, 13), tables={"notices": notices})
    assert cache.store(tmp_path, "k1", {}, [], plan, language="en") is None
    assert cache.load(tmp_path, "k1", "zh") is None  # kept in one language only
    assert (tmp_path / "k1").is_dir()
    _, _, read, _ = cache.load(tmp_path, "k1", "en")
    assert read.tables["notices"].equals(notices)
    plan.notices_in = {"zh": notices.with_columns(message=pl.lit("订单 SO1：..."))}
    assert cache.store(tmp_path, "k2", {}, [], plan, language="en") is None
    _, _, read, _ = cache.load(tmp_path, "k2", "zh")
    assert read.tables["notices"]["message"].to_list() == ["订单 SO1：..."]
    assert read.notices_in["en"]["message"].to_list() == ["Order SO1: ..."]
    # a plan without customer orders is the same in every language
    assert cache.store(tmp_path, "k3", {}, [], Plan(plan.as_of, tables={}), language="en") is None
    assert cache.load(tmp_path, "k3", "zh") is not None
