"""Errors a Chinese buyer meets, said in Chinese as whole sentences: input reading, the
config (also when only the config asks for Chinese), earlier plans and alert channels."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from stockplan.cli import app

runner = CliRunner()
ENGLISH_WORD = re.compile(
    r"\b(?:missing|required|found|rename|column|row|is|not|date|read|use|"
    r"Input|should|valid|number|got|such|channel|plan|file|folder|key)\b"
)


def _run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def _error(result) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def _edit(config: Path, change) -> Path:
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    change(raw)
    config.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return config


def _sales_without_quantity(shop: Path) -> None:
    (shop / "sales.csv").write_text("商品编码,日期,仓库\nA-100,2025-01-02,WH1\n", encoding="utf-8")


def test_a_missing_column_is_said_in_chinese_with_its_chinese_name(small_shop: Path):
    _sales_without_quantity(small_shop.parent)
    line = _error(_run("validate", "-c", str(small_shop), "--lang", "zh"))
    assert line == (
        f"stockplan: 错误: {small_shop.parent / 'sales.csv'}：缺少必需列 数量（quantity）"
        "（现有列：'商品编码', '日期', '仓库'）；请改列名，或在配置 columns.sales 下映射"
    )
    english = _error(_run("validate", "-c", str(small_shop)))
    assert english == (
        f"stockplan: error: {small_shop.parent / 'sales.csv'}: missing required column "
        "'quantity' (found '商品编码', '日期', '仓库'); rename it or map it under "
        "columns.sales in the config"
    )


def test_an_unreadable_date_is_said_in_chinese_with_row_column_and_the_value(small_shop: Path):
    sales = small_shop.parent / "sales.csv"
    lines = sales.read_text(encoding="utf-8").splitlines()
    fields = lines[12].split(",")
    fields[0] = "2026/13/8"
    lines[12] = ",".join(fields)
    sales.write_text("\n".join(lines) + "\n", encoding="utf-8")
    line = _error(_run("validate", "-c", str(small_shop), "--lang", "zh"))
    assert line == (
        f"stockplan: 错误: {sales}，第 13 行，列 'date'：无法识别的日期 '2026/13/8'"
        "（请用 2026-01-08 这样的格式）"
    )
    english = _error(_run("validate", "-c", str(small_shop)))
    assert english == (
        f"stockplan: error: {sales}, row 13, column 'date': '2026/13/8' is not a date I can "
        "read (use YYYY-MM-DD)"
    )


def test_a_negative_quantity_names_the_header_read_as_the_column(small_shop: Path):
    stock = small_shop.parent / "stock.csv"
    stock.write_text("商品编码,仓库,现存量,已分配\nA-100,WH1,40,-5\n", encoding="utf-8")
    line = _error(_run("validate", "-c", str(small_shop), "--lang", "zh"))
    assert line == f"stockplan: 错误: {stock}，第 2 行，列 '已分配'（allocated）：'-5' 不能为负数"


@pytest.mark.parametrize(
    ("section", "key", "value", "zh", "en"),
    [
        (
            "policy",
            "service_level",
            "95%",
            "配置项 'policy.service_level'：应为数字，现为 '95%'（service_level 写小数，如 0.95）",
            "key 'policy.service_level': Input should be a valid number, unable to parse string "
            "as a number, got '95%' (write 95% as 0.95)",
        ),
        (
            "planning",
            "bucket",
            "周",
            "配置项 'planning.bucket'：应为 'day' 或 'week' 之一，现为 '周'（周 请写 week）",
            "key 'planning.bucket': Input should be 'day' or 'week', got '周' (write week)",
        ),
        (
            "planning",
            "horizon_periods",
            "七",
            "配置项 'planning.horizon_periods'：应为整数，现为 '七'",
            "key 'planning.horizon_periods': Input should be a valid integer, unable to parse "
            "string as an integer, got '七'",
        ),
        (
            "policy",
            "service_level",
            1.5,
            "配置项 'policy.service_level'：应小于 1，现为 1.5",
            "key 'policy.service_level': Input should be less than 1, got 1.5",
        ),
        (
            "planning",
            "as_of",
            "下周一",
            "配置项 'planning.as_of'：应为日期，如 2026-01-08，现为 '下周一'",
            None,
        ),
        ("policy", "review_dayz", 7, "未知配置项 'policy.review_dayz'", None),
    ],
)
def test_config_value_errors_are_said_in_chinese_from_pydantic_s_error_fields(
    small_shop: Path, section, key, value, zh, en
):
    _edit(small_shop, lambda raw: raw.setdefault(section, {}).__setitem__(key, value))
    line = _error(_run("validate", "-c", str(small_shop), "--lang", "zh"))
    assert line == f"stockplan: 错误: {small_shop}：{zh}"
    assert not ENGLISH_WORD.search(line.removeprefix(f"stockplan: 错误: {small_shop}"))
    if en is not None:
        english = _error(_run("validate", "-c", str(small_shop)))
        assert english == f"stockplan: error: {small_shop}: {en}"


def test_a_config_error_follows_the_config_s_language_without_lang(small_shop: Path):
    def chinese_with_a_typo(raw: dict) -> None:
        raw["planning"]["language"] = "zh"
        raw["policy"] = {"review_dayz": 7}

    _edit(small_shop, chinese_with_a_typo)
    line = _error(_run("validate", "-c", str(small_shop)))
    assert line == f"stockplan: 错误: {small_shop}：未知配置项 'policy.review_dayz'"
    # --lang still wins over the config
    english = _error(_run("validate", "-c", str(small_shop), "--lang", "en"))
    assert english == f"stockplan: error: {small_shop}: unknown key 'policy.review_dayz'"


def test_a_config_error_with_an_invalid_language_stays_english(small_shop: Path):
    _edit(small_shop, lambda raw: raw["planning"].__setitem__("language", "中文"))
    line = _error(_run("validate", "-c", str(small_shop)))
    assert line.startswith(f"stockplan: error: {small_shop}: key 'planning.language': ")
    assert line.endswith(", got '中文' (write zh)")


def test_an_unknown_notify_channel_and_a_missing_previous_plan_in_chinese(
    small_shop: Path, tmp_path: Path
):
    line = _error(_run("plan", "-c", str(small_shop), "--lang", "zh", "--notify", "nosuch"))
    assert line == (
        "stockplan: 错误: --notify nosuch：配置的 notify.channels 下没有这个通道（一个也没有定义）"
    )
    nope = tmp_path / "nope.xlsx"
    line = _error(_run("plan", "-c", str(small_shop), "--lang", "zh", "--previous", str(nope)))
    assert line == f"stockplan: 错误: {nope}：找不到这个计划文件或文件夹"
    english = _error(_run("plan", "-c", str(small_shop), "--previous", str(nope)))
    assert english == f"stockplan: error: {nope}: no such plan file or folder"


def test_every_error_phrase_has_both_languages_and_no_english_words_in_chinese():
    from stockplan import i18n

    for key, entry in i18n.ERROR_MESSAGES.items():
        assert i18n.MESSAGES[key] is entry
        # names, config keys and commands stay as written
        prose = re.sub(r"\{\w+\}|columns\.\S+|inputs\.\S+|`[^`]*`", "", entry["zh"])
        assert not ENGLISH_WORD.search(prose), key


def _duplicate_product(shop: Path) -> None:
    products = shop / "products.csv"
    lines = products.read_text(encoding="utf-8").splitlines()
    products.write_text("\n".join([*lines, lines[1]]) + "\n", encoding="utf-8")


def _unknown_sku(shop: Path) -> None:
    with (shop / "stock.csv").open("a", encoding="utf-8") as handle:
        handle.write("Z-999,WH1,5,0\n")
    _edit(shop / "config.yaml", lambda raw: raw["planning"].__setitem__("unknown_sku", "error"))


def _received_before_ordered(shop: Path) -> None:
    orders = shop / "purchase_orders.csv"
    orders.write_text(
        orders.read_text(encoding="utf-8").replace("2025-10-03", "2025-09-01"), encoding="utf-8"
    )


def _stray_location(shop: Path) -> None:
    orders = shop / "purchase_orders.csv"
    orders.write_text(
        orders.read_text(encoding="utf-8").replace("A-100,WH1,Acme,60", "A-100,WH9,Acme,60"),
        encoding="utf-8",
    )


def _service_level(shop: Path) -> None:
    products = shop / "products.csv"
    lines = products.read_text(encoding="utf-8").splitlines()
    lines = [f"{line},{'service_level' if i == 0 else '0.3'}" for i, line in enumerate(lines)]
    products.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize("written", ["50", "0.5", "100", "1"])
def test_a_service_level_at_an_edge_is_refused_quoting_it_as_written(small_shop: Path, written):
    # 50 % and 100 % themselves are refused (no safety stock, or infinite stock); the message
    # says so and quotes 50, not the 0.5 it is read as
    products = small_shop.parent / "products.csv"
    lines = products.read_text(encoding="utf-8").splitlines()
    lines = [f"{line},{'service_level' if i == 0 else written}" for i, line in enumerate(lines)]
    products.write_text("\n".join(lines) + "\n", encoding="utf-8")
    line = _error(_run("validate", "-c", str(small_shop)))
    assert line.endswith(
        f"products.csv, row 2, column 'service_level': {written} is not a service level "
        "above 50 % and below 100 % (e.g. 0.95 or 95)"
    )


@pytest.mark.parametrize(
    ("spoil", "zh", "en"),
    [
        (
            _duplicate_product,
            "products.csv，第 4 行，列 'sku'：商品 sku='A-100' 重复出现（首次出现在第 2 行）",
            "products.csv, row 4, column 'sku': product sku='A-100' appears again (first at row 2)",
        ),
        (
            _unknown_sku,
            "stock.csv，第 5 行，列 'sku'：'Z-999' 不在商品档案中"
            "（库存（stock）中共 1 个未知商品）；"
            "请把它们加入商品档案，或设置 planning.unknown_sku: warn",
            "stock.csv, row 5, column 'sku': 'Z-999' is not in the products table (1 unknown "
            "SKU in stock); add them to products or set planning.unknown_sku: warn",
        ),
        (
            _received_before_ordered,
            "purchase_orders.csv，第 2 行，列 'received_date'：到货日期 2025-09-01 早于下单日期"
            "（order_date）2025-09-20",
            "purchase_orders.csv, row 2, column 'received_date': 2025-09-01 is before the "
            "order_date 2025-09-20",
        ),
        (
            _stray_location,
            "purchase_orders.csv，第 2 行，列 'location'：'WH9' 既不在库存文件中，也不在销售文件中",
            "purchase_orders.csv, row 2, column 'location': 'WH9' is in neither the stock nor "
            "the sales file",
        ),
        (
            _service_level,
            "products.csv，第 2 行，列 'service_level'：0.3 不是高于 50 %、低于 100 % 的服务水平"
            "（例如 0.95 或 95）",
            "products.csv, row 2, column 'service_level': 0.3 is not a service level above "
            "50 % and below 100 % (e.g. 0.95 or 95)",
        ),
    ],
    ids=["duplicate", "unknown_sku", "received_early", "stray_location", "service_level"],
)
def test_input_checks_after_reading_are_said_in_chinese(small_shop: Path, spoil, zh, en):
    spoil(small_shop.parent)
    line = _error(_run("validate", "-c", str(small_shop), "--lang", "zh"))
    assert line == f"stockplan: 错误: {small_shop.parent}/{zh}"
    english = _error(_run("validate", "-c", str(small_shop)))
    assert english == f"stockplan: error: {small_shop.parent}/{en}"


def test_output_errors_are_said_in_chinese(small_shop: Path, tmp_path: Path):
    (tmp_path / "plan.xlsx").mkdir()
    args = ("plan", "-c", str(small_shop), "-q", "--lang", "zh")
    line = _error(_run(*args, "-o", str(tmp_path / "plan.xlsx")))
    assert line == (
        f"stockplan: 错误: {tmp_path / 'plan.xlsx'}：是已有的文件夹，不是 .xlsx 文件；"
        "请删除它或换一个名字"
    )
    (tmp_path / "file").write_text("x")
    line = _error(_run(*args, "--supplier-forecast", str(tmp_path / "file")))
    assert line == f"stockplan: 错误: --supplier-forecast {tmp_path / 'file'}：这是文件，应为文件夹"


# --- stockplan init for a Chinese export ---------------------------------------------


def test_init_reads_a_gbk_sales_export_with_销量_and_a_totals_row_and_the_plan_runs(
    tmp_path: Path,
):
    exports = tmp_path / "exports"
    exports.mkdir()
    lines = ["商品编码,商品名称,日期,销量,仓库"]
    lines += [
        f"A-1,保温杯,2025-{m:02d}-{d:02d},{d % 5 + 1},总仓" for m in (7, 8, 9) for d in (3, 17)
    ]
    lines.append("合计,,,21,")
    (exports / "销售明细.csv").write_bytes(("\n".join(lines) + "\n").encode("gbk"))
    (exports / "库存.csv").write_bytes("商品编码,仓库,现存量\nA-1,总仓,7\n".encode("gbk"))
    result = _run("init", str(exports), "--lang", "zh")
    assert result.exit_code == 0, result.output
    assert "销售明细.csv：销售（sales）（" in result.stderr and "销量 -> quantity" in result.stderr
    assert "库存.csv：库存（stock）（" in result.stderr
    config = yaml.safe_load((exports / "stockplan.yaml").read_text(encoding="utf-8"))
    assert config["inputs"] == {"sales": "销售明细.csv", "stock": "库存.csv"}
    plan = _run("plan", "-c", str(exports / "stockplan.yaml"), "-o", "-", "--all", "-q")
    assert plan.exit_code == 0, plan.output
    assert plan.stdout.splitlines()[1].startswith("A-1,总仓,")


@pytest.mark.parametrize("header", ["销量", "销售量", "发货数量"])
def test_a_sales_export_s_words_for_units_sold_are_its_quantity(tmp_path: Path, header: str):
    from stockplan.io.inspect import guess_file

    export = tmp_path / "export.csv"
    export.write_text(f"单据日期,存货编码,{header}\n2025-09-01,A-1,4\n", encoding="utf-8")
    guess = guess_file(export)
    assert (guess.table, guess.mapping.get("quantity")) == ("sales", header)


def test_init_in_chinese_writes_chinese_comments_and_names_the_tables_in_chinese(
    tmp_path: Path,
):
    exports = tmp_path / "exports"
    exports.mkdir()
    trap = "批次\u2028io: {csv_escape_formulas: false}"
    pl.DataFrame({"商品编码": ["A-1"], "仓库": ["WH1"], "现存量": [7], trap: ["x"]}).write_excel(
        exports / "库存.xlsx"
    )
    result = _run("init", str(exports), "--lang", "zh")
    assert result.exit_code == 0, result.output
    assert "stockplan: 库存.xlsx：库存（stock）（商品编码 -> sku" in result.stderr
    target = exports / "stockplan.yaml"
    assert f"stockplan: 警告: 未找到销售（sales）文件：请在 {target} 中补上" in result.stderr
    text = target.read_text(encoding="utf-8")
    config = yaml.safe_load(text)
    assert set(config) == {"inputs", "columns", "planning", "policy"}
    assert config["inputs"] == {"stock": "库存.xlsx"} and config["planning"]["language"] == "zh"
    assert "  # sales: 文件名   <- 必需的表，导出文件中没有找到" in text
    assert '#     "批次\\u2028io: {csv_escape_formulas: false}": 标准列名' in text
    comments = [line.split("#", 1)[1] for line in text.splitlines() if "#" in line]
    prose = [
        re.sub(r'"[^"]*"|`[^`]*`|[\w.]+\.yaml|\b(?:stockplan|sales|stock|columns|zh|en)\b', "", c)
        for c in comments
    ]
    assert not any(re.search(r"[A-Za-z]{3,}", p) for p in prose), comments


def test_a_date_in_the_config_that_is_no_date_is_refused_naming_its_key(small_shop: Path):
    # unquoted, YAML reads 2026-13-01 as a timestamp: its parser raised a bare ValueError
    # ("month must be in 1..12"), an internal error with exit 4
    _edit(small_shop, lambda raw: raw.setdefault("planning", {}).__setitem__("as_of", "X"))
    text = small_shop.read_text(encoding="utf-8")
    small_shop.write_text(text.replace("as_of: X", "as_of: 2026-13-01"), encoding="utf-8")
    assert "as_of: 2026-13-01\n" in small_shop.read_text(encoding="utf-8")
    result = _run("validate", "-c", str(small_shop))
    assert result.exit_code == 1
    assert _error(result) == (
        f"stockplan: error: {small_shop}: key 'planning.as_of': Input should be a valid date "
        "or datetime, month value is outside expected range of 1-12, got '2026-13-01'"
    )
    chinese = _error(_run("validate", "-c", str(small_shop), "--lang", "zh"))
    assert chinese == (
        f"stockplan: 错误: {small_shop}：配置项 'planning.as_of'：应为日期，如 2026-01-08，"
        "现为 '2026-13-01'"
    )


# --- database inputs, cluster engines, kits and successors ----------------------------


def _database_shop(folder: Path, sales: dict, stock: dict | None = None) -> Path:
    import sqlite3

    with sqlite3.connect(folder / "shop.db") as connection:
        connection.execute("CREATE TABLE sales (date text, sku text, quantity real)")
        connection.execute("INSERT INTO sales VALUES ('2025-09-01', 'A-1', 3)")
        connection.execute("CREATE TABLE stock (sku text, on_hand)")
        connection.execute("INSERT INTO stock VALUES ('A-1', 4), ('B-2', x'00ff')")
        connection.execute("CREATE TABLE no_stock (sku text, on_hand real)")
    config = folder / "config.yaml"
    stock = stock or {"url": "sqlite:///shop.db", "table": "no_stock"}
    raw = {"inputs": {"sales": sales, "stock": stock}, "planning": {"as_of": "2025-09-08"}}
    config.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return config


@pytest.mark.parametrize(
    ("sales", "stock", "zh"),
    [
        ({"table": "nosuch"}, None, "{sales}, table nosuch)：查询失败：no such table: nosuch"),
        ({"query": "SELECT sku, sku FROM sales"}, None, "{sales})：查询结果中列 'sku' 出现了两次"),
        ({"table": "sales"}, None, "{stock}, table no_stock)：查询没有返回任何行"),
        (
            {"table": "sales"},
            {"table": "stock"},
            "{stock}, table stock)，第 2 行，列 'on_hand'：二进制值（BLOB），此处应为文本或数字",
        ),
        (
            {"table": "sales", "url": "sqlite:///gone.db"},
            None,
            "inputs.sales (sqlite:///{folder}/gone.db, table sales)："
            "找不到数据库文件 {folder}/gone.db",
        ),
        (
            {"table": "s", "url": "postgresql://u:${STOCKPLAN_UNSET_VAR}@127.0.0.1:1/erp"},
            None,
            "inputs.sales (postgresql://u:***@127.0.0.1:1/erp, table s)：环境变量 "
            "STOCKPLAN_UNSET_VAR 未设置",
        ),
        (
            {"table": "s", "url": "postgresql://u:pw@127.0.0.1:1/erp"},
            None,
            "inputs.sales (postgresql://u:***@127.0.0.1:1/erp, table s)：连接被拒绝"
            "（数据库服务器是否在运行？主机和端口是否正确？）",
        ),
    ],
    ids=["no_table", "column_twice", "no_rows", "blob", "no_file", "unset_variable", "refused"],
)
def test_database_input_errors_are_said_in_chinese(tmp_path: Path, sales, stock, zh):
    url = {"url": "sqlite:///shop.db"}
    config = _database_shop(tmp_path, url | sales, stock and url | stock)
    line = _error(_run("validate", "-c", str(config), "--lang", "zh"))
    db = f"sqlite:///{tmp_path.as_posix()}/shop.db"
    expected = zh.format(
        sales=f"inputs.sales ({db}", stock=f"inputs.stock ({db}", folder=tmp_path.as_posix()
    )
    assert line == f"stockplan: 错误: {expected}"


def test_a_missing_engine_extra_and_an_unreachable_cluster_are_said_in_chinese(
    small_shop: Path, tmp_path: Path
):
    dask = pytest.importorskip("dask")
    out = tmp_path / "plan.csv"
    args = ("plan", "-c", str(small_shop), "-o", str(out), "-q", "--lang", "zh")
    if importlib.util.find_spec("pyspark") is None:
        _edit(small_shop, lambda raw: raw.setdefault("forecast", {}).update(engine="spark"))
        line = _error(_run(*args))
        assert line == (
            "stockplan: 错误: forecast.engine spark："
            '未安装 pyspark（pip install "stockplan[spark]"）'
        )
    nowhere = "tcp://127.0.0.1:9"  # the discard port: nothing answers
    forecast = {"engine": "dask", "engine_address": nowhere}
    _edit(small_shop, lambda raw: raw.setdefault("forecast", {}).update(forecast))
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        line = _error(_run(*args))
    assert line == (
        f"stockplan: 错误: forecast.engine_address {nowhere}：无法连接 dask 集群"
        "（其调度器是否在运行？地址是否正确？）"
    )
    assert not out.exists()


def _item_table(shop: Path, table: str, text: str) -> None:
    (shop / f"{table}.csv").write_text(text, encoding="utf-8")
    _edit(shop / "config.yaml", lambda raw: raw["inputs"].__setitem__(table, f"{table}.csv"))


@pytest.mark.parametrize(
    ("table", "text", "zh", "en"),
    [
        (
            "bom",
            "kit_sku,component_sku,quantity\nK1,A-100,2\nK1,K2,1\nK2,007,1\nK2,K1,1\n",
            "bom.csv，第 3 行，列 'component_sku'：套件 'K1' 经由 'K2' 包含了它自己"
            "（或套件嵌套超过 10 层）",
            "bom.csv, row 3, column 'component_sku': kit 'K1' contains itself through 'K2' "
            "(or kits nest deeper than 10 levels)",
        ),
        (
            "bom",
            "kit_sku,component_sku,quantity\nK1,A-100,0\n",
            "bom.csv，第 2 行，列 'quantity'：每套用量必须大于 0",
            "bom.csv, row 2, column 'quantity': quantity per kit must be above 0",
        ),
        (
            "succession",
            "old_sku,new_sku,date\n007,A-100,2025-10-01\n007,B-1,2025-10-01\n",
            "succession.csv，第 3 行，列 'old_sku'：'007' 有两个替代商品",
            "succession.csv, row 3, column 'old_sku': '007' has two successors",
        ),
        (
            "overrides",
            "sku,start,end,quantity\nA-100,2025-10-01,2025-10-10,5\nA-100,2025-10-05,2025-10-12,5\n",
            "overrides.csv，第 3 行，列 'start'：与 'A-100' 的另一条调整时间重叠",
            "overrides.csv, row 3, column 'start': overlaps another override of 'A-100'",
        ),
    ],
    ids=["kit_cycle", "kit_quantity", "two_successors", "override_overlap"],
)
def test_kit_successor_and_override_errors_are_said_in_chinese(
    small_shop: Path, table, text, zh, en
):
    _item_table(small_shop.parent, table, text)
    line = _error(_run("validate", "-c", str(small_shop), "--lang", "zh"))
    assert line == f"stockplan: 错误: {small_shop.parent}/{zh}"
    english = _error(_run("validate", "-c", str(small_shop)))
    assert english == f"stockplan: error: {small_shop.parent}/{en}"


def test_a_part_file_that_cannot_be_written_is_said_in_either_language(tmp_path: Path):
    # the part's name is taken by a folder: the write is refused, one line, no traceback
    import polars as pl

    from stockplan.errors import StockplanError
    from stockplan.i18n import error_text
    from stockplan.io.parts import write_part

    part = tmp_path / "orders" / "part-0001.parquet"
    (part / "inside").mkdir(parents=True)
    with pytest.raises(StockplanError) as refused:
        write_part(tmp_path, "orders", "0001", pl.DataFrame({"sku": ["A"]}))
    english = error_text(refused.value, "en")
    assert english.startswith(f"{part}: cannot write the part file (")
    problem = english.removeprefix(f"{part}: cannot write the part file (").removesuffix(")")
    assert problem and error_text(refused.value, "zh") == f"{part}：无法写入分块文件（{problem}）"
    assert not list((tmp_path / "orders").glob("*.parquet.tmp"))
