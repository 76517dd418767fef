"""Usage errors (exit 2) in the buyer's language: `--lang`, else the config's
`planning.language`, else English; option names, file names and values as typed."""

from __future__ import annotations

import os
import string
from pathlib import Path
from typing import Annotated

import pytest
import typer
import yaml
from typer.testing import CliRunner

import stockplan.pipeline
from stockplan import i18n
from stockplan.cli import app
from stockplan.cli.usage import (
    StockplanGroup,
    config_language,
    render_usage,
    usage_language,
)

runner = CliRunner()

# (arguments, the English error line typer prints today, the Chinese error line)
CASES = [
    (
        ["plan", "--horizon", "x"],
        "Error: No such option: --horizon",
        "错误：没有这个选项：--horizon",
    ),
    (
        ["plan", "--as-of", "2025-13-01"],
        "Error: Invalid value for '--as-of': '2025-13-01' does not match the "
        "formats '%Y-%m-%d', '%Y/%m/%d', '%Y.%m.%d', '%Y年%m月%d日'.",
        "错误：'--as-of' 的值无效：'2025-13-01' 不是有效的日期（格式 '%Y-%m-%d', '%Y/%m/%d', "
        "'%Y.%m.%d', '%Y年%m月%d日'，如 2025-03-31）",
    ),
    (
        ["risk", "-t", "ordres"],
        "Error: No such option: -t",
        "错误：没有这个选项：-t",
    ),
    (
        ["plan", "-t", "ordres"],
        "Error: Invalid value for '--table' / '-t': 'ordres' is not one of "
        "'orders', 'risk', 'transfers'",
        "错误：'--table' / '-t' 的值无效：'ordres' 不是可选的值（可选：'orders', 'risk', "
        "'transfers'",
    ),
    (
        ["plan", "-f", "foo"],
        "Error: Invalid value for '--format' / '-f': 'foo' is not one of 'table', 'csv', "
        "'xlsx', 'json', 'parquet'.",
        "错误：'--format' / '-f' 的值无效：'foo' 不是可选的值（可选：'table', 'csv', 'xlsx', "
        "'json', 'parquet'）",
    ),
    (
        ["plan", "--fail-on-risk", "low"],
        "Error: Invalid value for '--fail-on-risk': 'low' is not one of 'high', 'medium', "
        "'new-high', 'worse'.",
        "错误：'--fail-on-risk' 的值无效：'low' 不是可选的值（可选：'high', 'medium', "
        "'new-high', 'worse'）",
    ),
    (
        ["simulate", "--baseline", "foo"],
        "Error: Invalid value for '--baseline': 'foo' is not one of 'rule', 'history'.",
        "错误：'--baseline' 的值无效：'foo' 不是可选的值（可选：'rule', 'history'）",
    ),
    (["explain"], "Error: Missing argument 'sku'.", "错误：缺少参数 'sku'"),
    (["report"], "Error: Missing option '--output' / '-o'.", "错误：缺少选项 '--output' / '-o'"),
    (
        ["plan", "-o", "name.xlsx/"],
        "Error: Invalid value for '--output' / '-o': 'name.xlsx/' ends with / (a folder) but "
        "has the file suffix .xlsx: drop the / to write the file, or the suffix to write a "
        "folder",
        "错误：'--output' / '-o' 的值无效：'name.xlsx/' 以 / 结尾（文件夹），却带有文件后缀 "
        ".xlsx：去掉 / 则写成文件，去掉后缀则写成文件夹",
    ),
    (
        ["plan", "-o", "plan.txt"],
        "Error: Invalid value for '--output' / '-o': unknown output type '.txt' (choose from "
        ".csv, .xlsx, .json, .parquet, a folder, or - for CSV on stdout)",
        "错误：'--output' / '-o' 的值无效：未知的输出类型 '.txt'（可选 .csv, .xlsx, .json, "
        ".parquet、文件夹，或 - 表示 CSV 写到标准输出）",
    ),
    (
        ["simulate", "--plot", "x.jpg"],
        "Error: Invalid value for '--plot': x.jpg: the chart is a PNG file (use a .png name)",
        "错误：'--plot' 的值无效：x.jpg：图表是 PNG 文件（请用 .png 文件名）",
    ),
    (
        ["plan", "-f", "json"],
        "Error: Invalid value for '--format': json cannot go to stdout (choose csv, or -o "
        "FILE.json)",
        "错误：'--format' 的值无效：json 不能写到标准输出（请用 csv，或 -o 文件名.json）",
    ),
    (
        ["plan", "-o", "x.csv", "-f", "json"],
        "Error: Invalid value for '--format': json does not match the file suffix .csv of x.csv",
        "错误：'--format' 的值无效：json 与 x.csv 的文件后缀 .csv 不符",
    ),
    (
        ["forecast", "--sort", "nosuch"],
        "Error: Invalid value for '--sort': unknown column 'nosuch' (choose from sku,",
        "错误：'--sort' 的值无效：没有列 'nosuch'（可选：sku,",
    ),
    (
        ["plan", "--sort", "sku:up"],
        "Error: Invalid value for '--sort': 'sku:up': order must be asc or desc",
        "错误：'--sort' 的值无效：'sku:up'：排序方向只能是 asc 或 desc",
    ),
    (
        ["plan", "--limit", "0"],
        "Error: Invalid value for '--limit': Input should be greater than or equal to 1",
        "错误：'--limit' 的值无效：应大于或等于 1",
    ),
    (
        ["plan", "--limit", "x"],
        "Error: Invalid value for '--limit': Input should be a valid integer",
        "错误：'--limit' 的值无效：应为整数",
    ),
    (
        ["plan", "extra"],
        "Error: Got unexpected extra argument(s) (extra)",
        "错误：多余的参数（extra）",
    ),
    (
        ["report", "-o", "r.csv"],
        "Error: Invalid value for '--output' / '-o': r.csv: the report is an HTML file (use a "
        ".html name)",
        "错误：'--output' / '-o' 的值无效：r.csv：报告是 HTML 文件（请用 .html 文件名）",
    ),
    (
        ["plan", "--fail-on-risk", "new-high"],
        "Error: Invalid value for '--fail-on-risk': new-high needs --previous PLAN",
        "错误：'--fail-on-risk' 的值无效：new-high 需要同时给出 --previous PLAN（上一期的计划）",
    ),
    (
        ["risk", "--fail-on-risk", "worse"],
        "Error: Invalid value for '--fail-on-risk': worse needs --previous PLAN",
        "错误：'--fail-on-risk' 的值无效：worse 需要同时给出 --previous PLAN（上一期的计划）",
    ),
    (
        ["plna"],
        "Error: No such command 'plna'. Did you mean 'plan'?",
        "错误：没有这个命令：'plna'，是否是 'plan'？",
    ),
]
IDS = [" ".join(args) for args, _, _ in CASES]


@pytest.mark.parametrize(("args", "english", "chinese"), CASES, ids=IDS)
def test_a_usage_error_is_exit_2_in_the_language_asked_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], english: str, chinese: str
):
    monkeypatch.chdir(tmp_path)
    missing = ["-c", str(tmp_path / "no-such-config.yaml")]  # reading it would be exit 1
    config = [] if args[0] == "plna" else missing
    result = runner.invoke(app, [*args, *config])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines()[-1].startswith(english), result.stderr
    assert result.stderr.splitlines()[0].startswith("Usage: stockplan")

    for lang in (["--lang", "zh"], ["--lang=zh"]):
        result = runner.invoke(app, [*args, *config, *lang])
        assert result.exit_code == 2, result.output
        lines = result.stderr.splitlines()
        assert lines[0].startswith("用法：stockplan"), result.stderr
        assert lines[1].startswith("帮助：stockplan") and lines[1].endswith(" --help")
        assert lines[-1].startswith(chinese), result.stderr
        assert len(lines) == 4 and result.stdout == ""
        for word in ("Usage", "Try", "Error", "Invalid", "Missing", "Value error"):
            assert word not in result.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_a_language_not_offered_is_one_plain_line_naming_the_choices(tmp_path: Path):
    """pydantic's `Value error, ` stood before the choices, in English only."""
    result = runner.invoke(app, ["plan", "--lang", "fr", "-c", str(tmp_path / "none.yaml")])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "Error: Invalid value for '--lang': 'fr' is not one of 'en', 'zh'."
    )


def test_the_config_language_decides_when_no_lang_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    chinese = tmp_path / "shop.yaml"
    chinese.write_text("inputs: {sales: s.csv, stock: t.csv}\nplanning:\n  language: zh\n")
    result = runner.invoke(app, ["plan", "-c", str(chinese), "--horizon", "x"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == "错误：没有这个选项：--horizon"
    # --lang on the command line wins over the config
    result = runner.invoke(app, ["plan", "-c", str(chinese), "--horizon", "x", "--lang", "en"])
    assert result.stderr.splitlines()[-1] == "Error: No such option: --horizon"
    # without -c: the default config in the working folder, as the command would read it
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["plan", "--limit", "0"])
    assert result.stderr.splitlines()[-1].startswith("Error: Invalid value for '--limit'")
    (tmp_path / "stockplan.yaml").write_text(chinese.read_text())
    result = runner.invoke(app, ["plan", "--limit", "0"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == "错误：'--limit' 的值无效：应大于或等于 1"


def test_usage_language_reads_the_command_line_then_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    zh = tmp_path / "zh.yaml"
    zh.write_text(yaml.safe_dump({"planning": {"language": "zh"}}))
    assert usage_language(["plan", "--lang", "zh"]) == "zh"
    assert usage_language(["plan", "--lang=zh"]) == "zh"
    assert usage_language(["plan", "--lang", "zh", "--lang", "en"]) == "en"  # the last one
    assert usage_language(["plan", "-c", str(zh)]) == "zh"
    assert usage_language(["plan", f"-c{zh}"]) == "zh"
    assert usage_language(["plan", "--config", str(zh)]) == "zh"
    assert usage_language(["plan", f"--config={zh}"]) == "zh"
    assert usage_language(["plan", "-c", str(zh), "--lang", "en"]) == "en"
    assert usage_language(["plan", "-c", str(zh), "--lang", "fr"]) == "zh"  # fr is no language
    assert usage_language(["plan", "--", "--lang", "zh"]) == "en"  # an argument, not an option
    assert usage_language(["plan", "--lang"]) == "en"
    assert usage_language(["plan"]) == "en"  # no stockplan.yaml here
    (tmp_path / "stockplan.yaml").write_text(zh.read_text())
    assert usage_language(["plan"]) == "zh"


@pytest.mark.parametrize(
    "content",
    [
        "planning: {language: fr}\n",
        "planning: [zh]\n",
        "- planning\n",
        "planning: {language: zh\n",  # not YAML
        "",
        b"\xff\xfe\x00planning",  # not text
    ],
    ids=["unknown", "not-a-mapping", "a-list", "broken", "empty", "binary"],
)
def test_a_config_that_cannot_say_its_language_means_english(tmp_path: Path, content):
    path = tmp_path / "c.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    assert config_language(path) == "en"


def test_a_config_that_is_no_regular_file_is_not_read_for_the_language(tmp_path: Path):
    assert config_language(tmp_path) == "en"  # a folder
    assert config_language(tmp_path / "missing.yaml") == "en"
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)  # opening it would wait for a writer forever
    assert config_language(fifo) == "en"
    big = tmp_path / "big.yaml"
    big.write_text("planning: {language: zh}\n" + "#" * 2_000_000)
    assert config_language(big) == "en"


def _fields(text: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(text) if name]


@pytest.mark.parametrize("key", [key for key in i18n.MESSAGES if key.startswith("usage.")])
def test_every_usage_message_is_recognised_as_itself_with_its_values_kept(key: str):
    """No usage text is taken for an earlier one: each English text, filled with values,
    renders as its own Chinese text with the same values."""
    fields = {name: f"<{name}-1>" for name in _fields(i18n.MESSAGES[key]["en"])}
    english = i18n.message(key, "en", **fields)
    assert render_usage(english, "zh") == i18n.message(key, "zh", **fields)
    assert render_usage(english, "en") == english


def test_a_usage_message_without_a_chinese_text_is_kept_as_written():
    assert render_usage("Something new from typer", "zh") == "Something new from typer"
    nested = "Invalid value for '--x': Something new"
    assert render_usage(nested, "zh") == "'--x' 的值无效：Something new"


def test_ctrl_c_and_a_refused_write_are_said_in_chinese(
    small_shop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(stockplan.pipeline, "run_plan", interrupted)
    out = tmp_path / "out"
    result = runner.invoke(app, ["plan", "-c", str(small_shop), "-o", str(out), "--lang", "zh"])
    assert result.exit_code == 130
    assert result.stderr.splitlines()[-1] == "stockplan: 已中断"

    def refused(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(stockplan.pipeline, "run_plan", refused)
    result = runner.invoke(app, ["plan", "-c", str(small_shop), "-o", str(out), "-q"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "stockplan: error: [Errno 28] No space left on device"
    config = yaml.safe_load(small_shop.read_text())
    config["planning"]["language"] = "zh"  # the config's language, no --lang
    small_shop.write_text(yaml.safe_dump(config))
    result = runner.invoke(app, ["plan", "-c", str(small_shop), "-o", str(out), "-q"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "stockplan: 错误: [Errno 28] No space left on device"
    assert not out.exists()


def test_a_path_that_must_exist_is_named_in_chinese(tmp_path: Path):
    """typer's own check of a path option (`exists=True`) goes through the same group."""
    demo = typer.Typer(cls=StockplanGroup)

    @demo.command()
    def read(
        source: Annotated[Path, typer.Option(exists=True, dir_okay=False)], lang: str = "en"
    ) -> None:
        typer.echo(source.read_text())

    @demo.command()
    def scan(
        folder: Annotated[Path, typer.Argument(exists=True, file_okay=False)], lang: str = "en"
    ) -> None:
        typer.echo(str(folder))

    missing = tmp_path / "缺.csv"
    result = runner.invoke(demo, ["read", "--source", str(missing), "--lang", "zh"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == f"错误：'--source' 的值无效：文件 '{missing}' 不存在"
    result = runner.invoke(demo, ["read", "--source", str(missing)])
    assert result.stderr.splitlines()[-1] == (
        f"Error: Invalid value for '--source': file '{missing}' does not exist."
    )
    result = runner.invoke(demo, ["scan", str(missing), "--lang=zh"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == f"错误：'folder' 的值无效：文件夹 '{missing}' 不存在"


def test_bundled_short_options_name_the_config_as_click_reads_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "zh.yaml").write_text(yaml.safe_dump({"planning": {"language": "zh"}}))
    for args in (["-qc", "zh.yaml"], ["-qczh.yaml"]):
        result = runner.invoke(app, ["plan", *args, "--bogus"])
        assert result.exit_code == 2, result.output
        assert result.stderr.splitlines()[-1].startswith("错误：没有这个选项：--bogus"), args
    assert usage_language(["plan", "-qc", "zh.yaml"]) == "zh"
    assert usage_language(["plan", "-qczh.yaml"]) == "zh"
    # a short option that takes a value takes the rest: `-oc` writes to a file `c`
    assert usage_language(["plan", "-oc", "zh.yaml"]) == "en"
    assert usage_language(["plan", "-tc", "zh.yaml"]) == "en"
    assert usage_language(["plan", "-cq", "zh.yaml"]) == "en"  # the config is a file `q`


def test_the_short_options_without_a_value_are_the_ones_the_commands_have():
    from stockplan.cli.usage import SHORT_FLAGS

    group = typer.main.get_command(app)
    flags, valued = set(), set()
    for command in group.commands.values():
        for param in command.params:
            for name in getattr(param, "opts", []) + getattr(param, "secondary_opts", []):
                if len(name) == 2 and name[0] == "-":
                    (flags if param.is_flag else valued).add(name[1])
    assert flags == set(SHORT_FLAGS)
    assert "c" in valued and not flags & valued


@pytest.mark.parametrize(
    ("args", "chinese"),
    [
        (
            ["plan", "-t", "orders is not one of x."],
            "错误：'--table' / '-t' 的值无效：'orders is not one of x.' 不是可选的值"
            "（可选：'orders',",
        ),
        (
            ["plan", "-t", "a does not match the formats b."],
            "错误：'--table' / '-t' 的值无效：'a does not match the formats b.' 不是可选的值（",
        ),
        (
            ["plan", "--as-of", "a is not one of b"],
            "错误：'--as-of' 的值无效：'a is not one of b' 不是有效的日期（格式 '%Y-%m-%d'",
        ),
        (
            ["report", "-o", "Invalid value: x.csv"],
            "错误：'--output' / '-o' 的值无效：Invalid value: x.csv："
            "报告是 HTML 文件（请用 .html 文件名）",
        ),
        (
            ["plan", "--sort", "unknown column 'x' (choose from y)"],
            "错误：'--sort' 的值无效：没有列 'unknown column 'x' (choose from y)'（可选：",
        ),
    ],
)
def test_typed_values_that_hold_the_messages_own_words_stay_whole(
    args: list[str], chinese: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, [*args, "--lang", "zh"])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines()[-1].startswith(chinese), result.stderr
    assert list(tmp_path.iterdir()) == []
