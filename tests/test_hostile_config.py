"""A config file written by hand, mistyped or hostile: each mistake is one line naming the
file, the line or key, in English and Chinese, never a plan that quietly ignored it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stockplan.cli import app
from stockplan.config import load_config

runner = CliRunner()


def _error(config: Path, *options: str) -> str:
    result = runner.invoke(app, ["validate", "-c", str(config), *options])
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def _append(config: Path, text: str) -> Path:
    config.write_text(config.read_text(encoding="utf-8") + text, encoding="utf-8")
    return config


def test_a_section_written_twice_is_refused_not_half_dropped(small_shop: Path):
    """A second `planning:` at the end replaced the first one whole: the plan ran with the
    default as_of and exit 0, the first section's as_of silently gone."""
    config = small_shop
    lines = config.read_text(encoding="utf-8").splitlines()
    first = lines.index("planning:") + 1
    _append(config, "planning:\n  bucket: day\n")
    second = len(lines) + 1
    message = _error(config)
    assert message == (
        f"stockplan: error: {config}, line {second}: duplicate key 'planning' (first on line "
        f"{first}): YAML keeps only the last one; write each key once"
    )
    chinese = _error(config, "--lang", "zh")
    assert f"，第 {second} 行：配置项 'planning' 重复（第一次在第 {first} 行）" in chinese, chinese
    assert "duplicate" not in chinese and "line" not in chinese


def test_a_key_written_twice_inside_a_section_is_refused(small_shop: Path):
    config = small_shop
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace("  backtest_windows: 2\n", "  backtest_windows: 2\n  backtest_windows: 8\n"),
        encoding="utf-8",
    )
    assert "duplicate key 'backtest_windows'" in _error(config)


def test_a_merge_key_may_still_be_overridden(small_shop: Path):
    """`<<: *defaults` then the same key is YAML's way to override: not a repeat."""
    config = _append(
        small_shop,
        "simulate:\n  <<: &replay {periods: 10, refit_every: 5}\n  periods: 12\n",
    )
    simulate = load_config(config).simulate
    assert (simulate.periods, simulate.refit_every) == (12, 5)


def test_a_yaml_syntax_error_leads_with_its_file_and_line_in_chinese(small_shop: Path):
    config = small_shop
    config.write_text(
        config.read_text(encoding="utf-8").replace("  sales", "\tsales"), encoding="utf-8"
    )
    line = next(
        n
        for n, text in enumerate(config.read_text(encoding="utf-8").splitlines(), 1)
        if "\t" in text
    )
    english = _error(config)
    assert english.startswith(f"stockplan: error: {config}, line {line}: invalid YAML ("), english
    chinese = _error(config, "--lang", "zh")
    assert chinese.startswith(f"stockplan: 错误: {config}，第 {line} 行：YAML 格式错误 ("), chinese


@pytest.mark.parametrize(
    ("section", "written", "key"),
    [
        ("policy", "  allocation_max_shortfall: no\n", "policy.allocation_max_shortfall"),
        ("policy", "  review_days: yes\n", "policy.review_days"),
        ("transfers", "  transit_days_to: {WH1: on}\n", "transfers.transit_days_to.WH1"),
        ("policy", "  skus: {A-100: {service_level: true}}\n", "policy.skus.A-100.service_level"),
    ],
)
def test_yes_or_no_where_a_number_goes_is_refused_not_read_as_1_or_0(
    small_shop: Path, section: str, written: str, key: str
):
    """YAML reads yes / no / on / off as booleans and pydantic took them as 1 or 0:
    `allocation_max_shortfall: no` (meant: null, no floor) planned with a floor of 0 and
    `review_days: yes` with a daily review, exit 0."""
    config = _append(small_shop, f"{section}:\n{written}")
    message = _error(config)
    assert message.startswith(
        f"stockplan: error: {config}: key '{key}': Input should be a number"
    ), message
    chinese = _error(config, "--lang", "zh")
    assert f"配置项 '{key}'：应为数字，不是 yes / no" in chinese, chinese


@pytest.mark.parametrize(
    ("section", "written", "key"),
    [
        ("transfers", "  transit_days_to: {01: 3}\n", "transfers.transit_days_to.1"),
        (
            "transfers",
            "  transit_days_between: {WH1: {02: 1}}\n",
            "transfers.transit_days_between.WH1.2",
        ),
        ("calendars", "  exempt_suppliers: [Acme, 02]\n", "calendars.exempt_suppliers.1"),
    ],
)
def test_a_bare_number_as_a_location_or_sku_name_says_to_quote_it(
    small_shop: Path, section: str, written: str, key: str
):
    """U8 and Kingdee warehouses and suppliers are coded 01, 02: written bare, YAML reads a
    number, and the error read "key '...1.[key]': Input should be a valid string" (a bare
    sku under policy.skus has its own message)."""
    config = _append(small_shop, f"{section}:\n{written}")
    assert _error(config) == (
        f"stockplan: error: {config}: key '{key}': a name here must be text: write it in "
        "quotes as your data spells it, e.g. '01' (YAML reads a bare 01 as the number 1)"
    )
    assert _error(config, "--lang", "zh") == (
        f"stockplan: 错误: {config}：配置项 '{key}'：此处的名称须为文本，请按数据中的写法加引号，"
        "例如 '01'（YAML 会把不加引号的 01 读成数字 1）"
    )
    quoted = written.replace("01", "'01'").replace("02", "'02'")
    config.write_text(config.read_text(encoding="utf-8").replace(written, quoted), encoding="utf-8")
    assert load_config(config) is not None  # quoted, it reads


def test_yes_and_no_still_set_the_switches(small_shop: Path):
    config = load_config(
        _append(small_shop, "transfers:\n  enabled: no\npolicy:\n  calibrate_lost_sales: off\n")
    )
    assert config.transfers.enabled is False
    assert config.policy.calibrate_lost_sales is False


def test_a_columns_mapping_to_no_column_names_the_config_file(small_shop: Path):
    """It was refused when the sales were read, as `config: columns.sales maps to ...`,
    naming no file."""
    config = _append(small_shop, "columns:\n  sales: {warehouse: locaton}\n")
    assert _error(config) == (
        f"stockplan: error: {config}: columns.sales maps to 'locaton', which is not a sales "
        "column (expected one of: date, sku, quantity, location, name, revenue, "
        "returned_quantity, returned_revenue, document_type, unit_price, order_id, customer, "
        "promo)"
    )
    chinese = _error(config, "--lang", "zh")
    assert chinese.startswith(f"stockplan: 错误: {config}：columns.sales 映射到的 'locaton'")


@pytest.mark.parametrize(
    ("written", "chinese"),
    [
        (
            "forecast:\n  n_jobs: 0\n",
            "'forecast.n_jobs'：应为 -1（全部核心）或不小于 1 的进程数，现为 0",
        ),
        ("classify:\n  abc_cutoffs: [0.95, 0.8]\n", "应为两个累计占比 0 < a < b <= 1"),
        ("classify:\n  xyz_cutoffs: [-1, 1]\n", "应为两个变异系数 0 < a < b"),
        ("risk: {high: 0.2, medium: 0.5}\n", "'risk.medium'：应小于 risk.high（0.2），现为 0.5"),
        ("policy:\n  service_levels: {Q: 0.9}\n", "类别键 'Q' 应形如 'A' 或 'AX'"),
        ("policy:\n  skus: {10000: {service_level: 0.9}}\n", "SKU 编码 10000 在 YAML 中须加引号"),
        ("notices:\n  template: 'x {nosuch}'\n", "未知字段 {nosuch}；可用 {order}"),
        (
            "simulate: {baseline_reorder_weeks: 4, baseline_up_to_weeks: 2}\n",
            "simulate.baseline_up_to_weeks 应大于 baseline_reorder_weeks",
        ),
        (
            "notices:\n  compensation: [{min_days_late: 3, kind: coupon}]\n",
            "coupon 规则的 value 应大于 0",
        ),
        (
            "supplier_tiers:\n  core: {on_time_rate: 0.5, quantity_fill_rate: 0.98, "
            "quality_rate: 0.99}\n",
            "supplier_tiers.core.on_time_rate 应不小于 strategic.on_time_rate",
        ),
        (
            "policy:\n  promise_scoring: replayed\n  service_allocation: pattern\n",
            "promise_scoring: replayed 需要 service_allocation: item",
        ),
    ],
)
def test_the_config_s_own_checks_are_said_in_chinese(small_shop: Path, written: str, chinese: str):
    """pydantic's own errors were said in Chinese, the config's own checks in English."""
    text = small_shop.read_text(encoding="utf-8")
    section, _, keys = written.partition("\n")
    if f"\n{section}\n" in f"\n{text}":  # the shop's own section: add the keys to it
        small_shop.write_text(text.replace(f"{section}\n", written, 1), encoding="utf-8")
        config = small_shop
    else:
        config = _append(small_shop, written)
    english = _error(config)
    assert "Value error" not in english and ": key '" in english, english
    message = _error(config, "--lang", "zh")
    assert chinese in message, message
    assert "Value error" not in message and " must " not in message, message


@pytest.mark.parametrize(
    ("written", "english", "chinese"),
    [
        (
            "policy:\n  calibrate_lost_sales: sometimes\n",
            "key 'policy.calibrate_lost_sales': Input should be 'cycle', 'replayed' or "
            "'replayed_fill_rate', got 'sometimes'",
            "配置项 'policy.calibrate_lost_sales'：应为 'cycle'、'replayed' 或",
        ),
        (
            "calendars:\n  public_holidays: cn\nreport:\n  top_items: 0\n",
            "key 'report.top_items': Input should be greater than or equal to 1, got 0",
            "配置项 'report.top_items'：应不小于 1",
        ),
    ],
)
def test_a_value_a_union_refuses_names_the_key_and_the_choices(
    small_shop: Path, written: str, english: str, chinese: str
):
    """A key taking true / false or a choice was named `policy.calibrate_lost_sales.bool`
    and told 'should be a valid boolean' for a mistyped choice."""
    config = _append(small_shop, written)
    assert _error(config) == f"stockplan: error: {config}: {english}"
    assert chinese in _error(config, "--lang", "zh")


def test_a_negative_sheet_index_is_told_its_bound_not_to_be_text(small_shop: Path):
    text = small_shop.read_text(encoding="utf-8")
    config = small_shop
    config.write_text(
        text.replace("products: products.csv", "products: {path: products.csv, sheet: -1}"),
        encoding="utf-8",
    )
    assert _error(config) == (
        f"stockplan: error: {config}: key 'inputs.products.sheet': Input should be greater "
        "than or equal to 0, got -1"
    )


def test_an_unknown_alert_channel_type_is_said_in_chinese(small_shop: Path):
    config = _append(small_shop, "notify:\n  channels:\n    buyers: {type: slack, webhook: x}\n")
    assert "Input tag 'slack'" in _error(config)
    chinese = _error(config, "--lang", "zh")
    assert chinese.endswith(
        "配置项 'notify.channels.buyers'：'type' 应为 'wecom', 'dingtalk', 'email' 之一，"
        "现为 'slack'"
    ), chinese


@pytest.mark.parametrize(("written", "percent"), [("0.8", "80"), ("0.95", "95"), ("1", "100")])
def test_a_band_level_written_as_a_share_is_refused_with_the_percentage(
    small_shop: Path, written: str, percent: str
):
    """`forecast.interval_level` is a percentage (80 for the 80 % band): 0.8 was read as a
    0.8 % band, lo and hi all but on the forecast, exit 0."""
    config = small_shop
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "forecast:\n", f"forecast:\n  interval_level: {written}\n"
        ),
        encoding="utf-8",
    )
    assert _error(config) == (
        f"stockplan: error: {config}: key 'forecast.interval_level': is the "
        f"band's percentage: write {percent} for {percent} %, got {written}"
    )
    assert _error(config, "--lang", "zh") == (
        f"stockplan: 错误: {config}：配置项 'forecast.interval_level'：为区间的百分数："
        f"{percent}% 请写 {percent}，不是小数，现为 {written}"
    )
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            f"interval_level: {written}", "interval_level: 1.5"
        ),
        encoding="utf-8",
    )
    assert load_config(config).forecast.interval_level == 1.5  # a narrow band, if meant


def _warnings(config: Path, *options: str) -> list[str]:
    result = runner.invoke(app, ["validate", "-c", str(config), *options])
    assert result.exit_code == 0, result.output
    return [line for line in result.stderr.splitlines() if ": warning: " in line or "警告" in line]


def test_a_transit_location_no_input_has_is_said_with_the_close_one(small_shop: Path):
    """`transit_days_to: {WH-1: 3}` beside stock and sales of WH1 was silently unused: the
    transfers into WH1 took transfers.transit_days (0) and nothing said so."""
    config = _append(small_shop, "transfers:\n  transit_days_to: {WH2: 1}\n")
    assert _warnings(config) == []
    config.write_text(
        config.read_text(encoding="utf-8").replace("{WH2: 1}", "{WH-1: 3, WH2: 1, Depot: 2}"),
        encoding="utf-8",
    )
    assert _warnings(config) == [
        f"stockplan: warning: {config}: transfers.transit_days_to names locations 'WH-1' (a "
        "typo of 'WH1'?), 'Depot', in no row of the stock or sales: a transfer there takes "
        "transfers.transit_days; write the location as the stock and sales do"
    ]
    assert _warnings(config, "--lang", "zh") == [
        f"stockplan: 警告: {config}：transfers.transit_days_to 中的 'WH-1'（是否为 'WH1' "
        "的笔误？）、'Depot' 不在库存或销售的任何一行中：调入该仓库按 transfers.transit_days 计；"
        "请按库存和销售中的写法填写仓库"
    ]


def test_a_lane_location_no_input_has_is_said_sender_or_receiver(small_shop: Path):
    config = _append(small_shop, "transfers:\n  transit_days_between: {WH2: {WH1: 2}}\n")
    assert _warnings(config) == []
    config.write_text(
        config.read_text(encoding="utf-8").replace("{WH2: {WH1: 2}}", "{WH-2: {WH1: 2, Depot: 3}}"),
        encoding="utf-8",
    )
    assert _warnings(config) == [
        f"stockplan: warning: {config}: transfers.transit_days_between names locations 'WH-2' "
        "(a typo of 'WH2'?), 'Depot', in no row of the stock or sales: a transfer there takes "
        "transfers.transit_days_to / transfers.transit_days; write the location as the stock "
        "and sales do"
    ]


def test_an_exempt_supplier_no_input_has_is_said_with_the_close_one(small_shop: Path):
    """`exempt_suppliers: [Acme Ltd]` beside products of supplier Acme was silently unused:
    the public holidays still closed Acme and lengthened its lead times."""
    config = _append(small_shop, "calendars:\n  exempt_suppliers: [Acme]\n")
    assert _warnings(config) == []
    config.write_text(
        config.read_text(encoding="utf-8").replace("[Acme]", "[Acme Ltd]"), encoding="utf-8"
    )
    assert _warnings(config) == [
        f"stockplan: warning: {config}: calendars.exempt_suppliers names supplier 'Acme Ltd' "
        "(a typo of 'Acme'?), in no row of the products, suppliers or purchase orders: the "
        "public holidays still close the supplier meant; write the supplier as those tables do"
    ]
    assert _warnings(config, "--lang", "zh") == [
        f"stockplan: 警告: {config}：calendars.exempt_suppliers 中的 'Acme Ltd'（是否为 'Acme' "
        "的笔误？）不在商品档案、供应商档案或采购订单的任何一行中：法定节假日仍会关闭所指的"
        "供应商；请按这些表中的写法填写供应商"
    ]


def test_a_policy_sku_no_input_has_is_said_once_with_the_close_one(small_shop: Path):
    """`policy.skus: {A-10O: ...}` (a letter O) beside item A-100 was silently unused: every
    item kept the default service level, exit 0, and nothing said so."""
    config = _append(small_shop, "policy:\n  skus: {'A-100': {service_level: 0.99}}\n")
    assert _warnings(config) == []
    config.write_text(
        config.read_text(encoding="utf-8").replace("'A-100'", "'A-10O'"), encoding="utf-8"
    )
    english = (
        f"stockplan: warning: {config}: policy.skus names SKU 'A-10O' (a typo of 'A-100'?), "
        "in no row of the products, stock or sales: its settings apply to no item; write the "
        "code as those tables do"
    )
    assert _warnings(config) == [english]
    assert _warnings(config, "--lang", "zh") == [
        f"stockplan: 警告: {config}：policy.skus 中的 'A-10O'（是否为 'A-100' 的笔误？）"
        "不在商品档案、库存或销售的任何一行中：其设置不作用于任何商品；请按这些表中的写法填写"
        "商品编码"
    ]
    result = runner.invoke(app, ["plan", "-c", str(config), "-o", "-", "--all"])
    assert result.exit_code == 0, result.output
    assert [line for line in result.stderr.splitlines() if "warning" in line] == [english]


def test_risk_levels_in_the_wrong_order_name_both_keys(small_shop: Path):
    """`risk: {high: 0.1, medium: 0.6}` was said at key '(top level)'."""
    config = _append(small_shop, "risk:\n  high: 0.1\n  medium: 0.6\n")
    assert _error(config) == (
        f"stockplan: error: {config}: key 'risk.medium': must be below risk.high (0.1), got 0.6"
    )
    assert _error(config, "--lang", "zh") == (
        f"stockplan: 错误: {config}：配置项 'risk.medium'：应小于 risk.high（0.1），现为 0.6"
    )


def test_a_section_or_input_left_empty_says_so_and_what_it_needs(small_shop: Path):
    """`policy:` or `sales:` with nothing after it said only that the value was no valid
    `Policy` or `InputFile`, not that it was empty."""
    text = small_shop.read_text(encoding="utf-8")
    config = _append(small_shop, "policy:\n")
    assert _error(config) == (
        f"stockplan: error: {config}: key 'policy' is empty: write its settings under it, "
        "indented (key: value), or delete the line to keep the defaults"
    )
    assert _error(config, "--lang", "zh") == (
        f"stockplan: 错误: {config}：配置项 'policy' 为空：请在其下缩进填写设置（键: 值），"
        "或删除这一行以沿用默认值"
    )
    config.write_text(text.replace("sales: sales.csv", "sales:"), encoding="utf-8")
    assert _error(config) == (
        f"stockplan: error: {config}: key 'inputs.sales' is empty: give the file's path "
        "(e.g. sales.csv), or a database's url with its table or query"
    )
    assert _error(config, "--lang", "zh") == (
        f"stockplan: 错误: {config}：配置项 'inputs.sales' 为空：请填写文件路径（如 sales.csv），"
        "或数据库的 url 及其 table 或 query"
    )
    config.write_text(text + "policy:\n  review_days:\n", encoding="utf-8")
    assert _error(config) == (
        f"stockplan: error: {config}: key 'policy.review_days' is empty: Input should be a "
        "valid number"
    )
    assert _error(config, "--lang", "zh") == (
        f"stockplan: 错误: {config}：配置项 'policy.review_days' 为空：应为数字"
    )


def test_an_empty_input_path_is_refused_naming_the_key(small_shop: Path):
    """`sales: ''` was read as the config's own folder, a Parquet dataset, and the error
    named the folder, not the key."""
    text = small_shop.read_text(encoding="utf-8")
    config = small_shop
    config.write_text(text.replace("sales: sales.csv", "sales: ''"), encoding="utf-8")
    assert _error(config) == (
        f"stockplan: error: {config}: key 'inputs.sales': the path is empty: give the file's "
        "path, e.g. sales.csv"
    )
    assert _error(config, "--lang", "zh") == (
        f"stockplan: 错误: {config}：配置项 'inputs.sales'：路径为空：请填写文件路径，如 sales.csv"
    )
    config.write_text(text.replace("stock: stock.csv", "stock: {path: ' '}"), encoding="utf-8")
    assert _error(config) == (
        f"stockplan: error: {config}: key 'inputs.stock.path': the path is empty: give the "
        "file's path, e.g. stock.csv"
    )
    out = config.parent / "plan.csv"
    result = runner.invoke(app, ["plan", "-c", str(config), "-o", str(out)])
    assert result.exit_code == 1 and not out.exists()


def test_an_empty_variable_in_an_input_path_is_refused_naming_the_key(
    small_shop: Path, monkeypatch: pytest.MonkeyPatch
):
    """`sales: ${DD}/sales.csv` with DD set to nothing said `/sales.csv: file not found`."""
    text = small_shop.read_text(encoding="utf-8")
    config = small_shop
    config.write_text(text.replace("sales: sales.csv", "sales: ${DD}/sales.csv"), "utf-8")
    monkeypatch.setenv("DD", "")
    assert _error(config) == (
        f"stockplan: error: {config}: key 'inputs.sales': environment variable DD is set but "
        "empty: set it to the folder or name it stands for"
    )
    assert _error(config, "--lang", "zh") == (
        f"stockplan: 错误: {config}：配置项 'inputs.sales'：环境变量 DD 已设置但为空："
        "请设为它所代表的文件夹或名称"
    )
    monkeypatch.setenv("DD", str(config.parent))
    result = runner.invoke(app, ["validate", "-c", str(config)])
    assert result.exit_code == 0, result.output


def test_a_service_level_written_as_a_percentage_says_to_write_the_fraction(small_shop: Path):
    config = _append(small_shop, "policy:\n  service_level: 95\n")
    assert _error(config) == (
        f"stockplan: error: {config}: key 'policy.service_level': Input should be less than "
        "1, got 95 (a percentage? write 95 % as 0.95)"
    )
    assert _error(config, "--lang", "zh") == (
        f"stockplan: 错误: {config}：配置项 'policy.service_level'：应小于 1，现为 95"
        "（是百分数吗？95% 请写 0.95）"
    )


@pytest.mark.parametrize("written", ["2025/10/13", "2025.10.13", "2025年10月13日", "2025-10-13"])
def test_a_planning_date_written_as_the_data_writes_dates_is_read(small_shop: Path, written: str):
    """`as_of: 2025/10/13` was refused with pydantic's 'invalid date separator, expected
    `-`', though the same text in a sales file reads as a date."""
    text = small_shop.read_text(encoding="utf-8")
    small_shop.write_text(
        text.replace("as_of: '2025-10-13'", f"as_of: {written}"), encoding="utf-8"
    )
    assert f"as_of: {written}" in small_shop.read_text(encoding="utf-8")
    assert load_config(small_shop).planning.as_of == dt.date(2025, 10, 13)


def test_a_planning_date_that_is_no_day_of_the_calendar_is_refused_saying_so(small_shop: Path):
    text = small_shop.read_text(encoding="utf-8")
    small_shop.write_text(text.replace("as_of: '2025-10-13'", "as_of: 2025/2/30"), encoding="utf-8")
    assert _error(small_shop) == (
        f"stockplan: error: {small_shop}: key 'planning.as_of': is no day of "
        "the calendar, got '2025/2/30'"
    )
    assert _error(small_shop, "--lang", "zh").endswith("日历上没有这一天，现为 '2025/2/30'")


def test_the_buckets_the_readme_names_are_the_ones_the_config_accepts(small_shop: Path):
    """The README said `planning.bucket` is day, week or month; `month` is refused."""
    import re
    import typing

    from stockplan.config import Planning

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    (row,) = [line for line in readme.splitlines() if line.startswith("| bucket · ")]
    named = re.search(r"for forecasting: (.*?);", row)
    assert named is not None, row
    accepted = typing.get_args(Planning.model_fields["bucket"].annotation)
    assert re.findall(r"`(\w+)`", named[1]) == list(accepted) == ["day", "week"]
    assert "month" not in row
    text = small_shop.read_text(encoding="utf-8")
    small_shop.write_text(text.replace("planning:\n", "planning:\n  bucket: month\n"))
    assert _error(small_shop).endswith(
        "key 'planning.bucket': Input should be 'day' or 'week', got 'month'"
    )


def _inputs(config: Path, **inputs: object) -> None:
    import yaml

    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    settings["inputs"].update(inputs)
    config.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")


def test_one_file_named_for_the_sales_and_the_stock_is_refused_naming_both_keys(
    small_shop: Path, tmp_path: Path
):
    # the sales export named for the stock too: each item's last day of sales was read as
    # its stock on hand, and the plan made from it with exit 0
    sales = small_shop.parent / "sales.csv"
    _inputs(small_shop, stock="./sales.csv")
    assert _error(small_shop) == (
        f"stockplan: error: {small_shop}: keys 'inputs.sales' and 'inputs.stock' name the same "
        f"file ({small_shop.parent / './sales.csv'}): the stock table would be read from the "
        "sales file; name each table's own export"
    )
    target = tmp_path / "plan.xlsx"
    result = runner.invoke(app, ["plan", "-c", str(small_shop), "-o", str(target)])
    assert result.exit_code == 1 and not target.exists()
    assert len(result.stderr.splitlines()) == 1
    _inputs(small_shop, stock={"path": str(sales)})  # the long form, an absolute path
    assert _error(small_shop, "--lang", "zh").endswith(
        "：配置项 'inputs.sales' 和 'inputs.stock.path' 指向同一个文件（"
        f"{sales}）：库存（stock）表会从销售（sales）文件中读取；请为每个表指定它自己的导出文件"
    )


def test_two_sheets_of_one_workbook_may_be_two_tables(small_shop: Path):
    from stockplan.config import parse_config

    raw = {
        "inputs": {
            "sales": {"path": "shop.xlsx", "sheet": "sales"},
            "stock": {"path": "shop.xlsx", "sheet": "stock"},
        }
    }
    config = parse_config(raw, small_shop, small_shop.parent)  # no error
    assert config.inputs.stock.sheet == "stock"
    raw["inputs"]["purchase_orders"] = {"path": "shop.xlsx", "sheet": "stock"}
    with pytest.raises(Exception, match="'inputs.stock.path' and 'inputs.purchase_orders.path'"):
        parse_config(raw, small_shop, small_shop.parent)
