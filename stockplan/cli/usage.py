"""Usage errors (unknown option, bad or missing value, missing argument) in the user's
language, exit code 2.

typer prints its usage errors in English. The app's command group (`StockplanGroup`) runs
typer's main with `standalone_mode=False`, so such an error comes back here before anything
is printed, and is shown in Chinese when the run's language is Chinese. Nothing has been
parsed yet, so the language comes from the command line itself: `--lang`, else
`planning.language` of the config named by `-c/--config` (or the default `stockplan.yaml`),
else English. Option names, file names and the values typed stay as written.
"""

from __future__ import annotations

import copy
import functools
import inspect
import re
import sys
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from stockplan.cli.display import message

DEFAULT_CONFIG = "stockplan.yaml"
_CONFIG_BYTES = 1_000_000  # a config is a few kB; anything larger is not read for this


def config_language(path: Path) -> str:
    """`planning.language` of the YAML config at `path`; "en" for any problem (missing,
    not a regular file, too large, not YAML, no such key): a usage error never fails."""
    try:
        if not path.is_file() or path.stat().st_size > _CONFIG_BYTES:
            return "en"
        import yaml

        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
        language = data["planning"]["language"]
    except Exception:  # any problem reading it: the error is shown in English
        return "en"
    return language if language in ("en", "zh") else "en"


def usage_language(args: Sequence[str]) -> str:
    """The language of a usage error in `args`: `--lang zh|en` (the last one given), else the
    config's `planning.language` (`-c FILE`, `-cFILE`, `-qc FILE`, `-qcFILE`, `--config FILE`,
    `--config=FILE`, else the default config), else "en"."""
    lang: str | None = None
    config: str | None = None
    args = list(args)
    for at, arg in enumerate(args):
        following = args[at + 1] if at + 1 < len(args) else None
        if arg == "--":
            break
        if arg == "--lang":
            lang = following
        elif arg.startswith("--lang="):
            lang = arg.removeprefix("--lang=")
        elif arg in ("-c", "--config"):
            config = following
        elif arg.startswith("--config="):
            config = arg.removeprefix("--config=")
        elif arg[:1] == "-" and arg[1:2] not in ("-", "") and len(arg) > 2:
            config = _bundled_config(arg, following) or config
    if lang in ("en", "zh"):
        return lang
    return config_language(Path(config or DEFAULT_CONFIG))


# fields that hold what the user typed (or a message around it): matched greedily, so a
# value that contains the template's own words (`-t 'orders is not one of x.'`) stays whole;
# the template's tail after them is fixed program text (choices, formats, option names)
_TYPED_FIELDS = frozenset(
    {"value", "path", "output", "plot", "sort", "column", "option", "name", "arguments", "detail"}
)
# click quotes a typed `{value}` (`'x'`, or `"x"` when it holds a '): a value that starts
# with a quote ends with one
_QUOTED_VALUE = r"""(?P<value>'.*'|".*"|[^'"].*)"""
# the texts that wrap another (`Invalid value for '-t': Value error, ...`), peeled first;
# click never puts the first two inside another message's detail
_WRAPPERS = ("usage.invalid_value_for", "usage.invalid_value", "usage.value_error")
_OUTER_ONLY = ("usage.invalid_value_for", "usage.invalid_value")


# the short options that take no value (`-q`): click reads `-qc FILE` and `-qcFILE` as
# `-q -c FILE`; any other short option takes the rest of its argument as its value
SHORT_FLAGS = frozenset("q")


def _bundled_config(arg: str, following: str | None) -> str | None:
    """The config named by a bundle of short options (`-cFILE`, `-qc FILE`, `-qcFILE`) as
    click parses it: flags without a value, then `-c` with the rest or the next argument."""
    for at, letter in enumerate(arg[1:], start=2):
        if letter == "c":
            return arg[at:] or following
        if letter not in SHORT_FLAGS:
            return None  # an option that takes the rest of the argument as its value
    return None


def _pattern(template: str) -> re.Pattern[str]:
    """The English template as a pattern: each `{field}` a group, a repeated field the same
    text again; typed values greedy (`_TYPED_FIELDS`), program text lazy."""
    parts = re.split(r"\{(\w+)\}", template)
    seen: set[str] = set()
    regex = ""
    for at, part in enumerate(parts):
        if at % 2 == 0:
            regex += re.escape(part)
        elif part in seen:
            regex += f"(?P={part})"
        elif part == "value" and not parts[at - 1].endswith("'"):
            seen.add(part)
            regex += _QUOTED_VALUE
        else:
            seen.add(part)
            regex += f"(?P<{part}>.+)" if part in _TYPED_FIELDS else f"(?P<{part}>.+?)"
    return re.compile(f"^{regex}$", re.DOTALL)


@functools.cache
def _usage_patterns() -> list[tuple[str, re.Pattern[str], int]]:
    """(key, pattern, characters of fixed text) of every `usage.` catalogue text."""
    from stockplan.i18n import MESSAGES

    return [
        (key, _pattern(entry["en"]), len(re.sub(r"\{\w+\}", "", entry["en"])))
        for key, entry in MESSAGES.items()
        if key[:6] == "usage."
    ]


def render_usage(text: str, lang: str, nested: bool = False) -> str:
    """A usage error's message in `lang`: a wrapping text (`_WRAPPERS`) is peeled and its
    `detail` rendered in turn; else, of the `usage.` catalogue texts whose English matches,
    the one with the most fixed text gives the words (a typed value may hold the words of a
    shorter one). Fields are kept as written. A message no text matches stays as it is."""
    if lang == "en":
        return text
    best: tuple[int, str, dict[str, str]] | None = None
    for key, pattern, fixed in _usage_patterns():
        found = pattern.match(text)
        if found is None or (nested and key in _OUTER_ONLY):
            continue
        if key in _WRAPPERS:
            detail = render_usage(found["detail"], lang, nested=True)
            return message(key, lang, **{**found.groupdict(), "detail": detail})
        if best is None or fixed > best[0]:
            best = (fixed, key, found.groupdict())
    if best is None:
        return text
    return message(best[1], lang, **best[2])


def _without_value_error(error: Any) -> None:
    """An option's own check says its words after pydantic's `Value error, `: the English
    line drops it (`Invalid value for '--lang': 'fr' is not one of 'en', 'zh'.`), as the
    Chinese one does (`usage.value_error`)."""
    text = getattr(error, "message", None)
    if isinstance(text, str) and text.startswith(_VALUE_ERROR):
        error.message = text.removeprefix(_VALUE_ERROR)


_VALUE_ERROR = "Value error, "


def show_usage_error(error: Any, lang: str) -> None:
    """What typer prints for a usage error (usage line, help hint, error), in `lang`."""
    ctx = getattr(error, "ctx", None)
    lines = []
    if ctx is not None:
        usage = ctx.get_usage().removeprefix("Usage:").strip()
        lines.append(message("usage_line", lang, usage=usage))
        if ctx.command.get_help_option(ctx) is not None:
            command, option = ctx.command_path, ctx.help_option_names[0]
            lines.append(message("usage_help", lang, command=command, option=option))
        lines.append("")
    detail = render_usage(error.format_message(), lang)
    lines.append(message("usage_error", lang, detail=detail))
    typer.echo("\n".join(lines), err=True)


class Commands(MutableMapping[str, Any]):
    """A command group's commands by name, in the order registered, each built by `build`
    from its typer registration the first time it is looked up; `outline(name)` gives a
    command with its help and no options, for the group's list of commands."""

    def __init__(self, infos: Sequence[Any], build: Callable[[Any], Any]) -> None:
        from typer.main import get_command_name

        self._infos = {
            info.name or get_command_name(info.callback.__name__): info for info in infos
        }
        self._built: dict[str, Any] = {}
        self._build = build

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            self._built[name] = self._build(self._infos[name])
        return self._built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._built[name] = command
        self._infos.setdefault(name, None)

    def __delitem__(self, name: str) -> None:
        del self._infos[name]
        self._built.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._infos)

    def __len__(self) -> int:
        return len(self._infos)

    def outline(self, name: str) -> Any:
        """The command `name` as typer builds it (`get_command_from_info`) but without its
        options: what the group's list shows (name, short help, hidden) is all there."""
        if name in self._built or name not in self._infos:
            return self.get(name)
        from typer.core import TyperCommand

        info = self._infos[name]
        text = info.help
        text = inspect.getdoc(info.callback) if text is None else inspect.cleandoc(text)
        return (info.cls or TyperCommand)(
            name=name,
            help=text,
            short_help=info.short_help,
            hidden=info.hidden,
            deprecated=info.deprecated,
        )


class _CoercionWhenNeeded:
    """Stands in for typer's conversion of one parameter's value (`_runtime_param`) until a
    value needs it. typer builds that conversion (a pydantic TypeAdapter; the first one
    imports pydantic, 0.1-0.15 s) for each parameter it processes, also one that was not
    given, whose value None it then returns as it is: the group's `--help` and completion
    flags on every `stockplan COMMAND ...` (so `COMMAND --help` imported pydantic), and each
    option a command leaves out."""

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        if value is None and not (param.multiple or param.nargs == -1):
            return None  # as typer's `RuntimeParam.coerce` does
        param._runtime_param = None  # typer's own from here on
        return param.get_runtime_param().coerce(value, param=param, ctx=ctx)


_WHEN_NEEDED = _CoercionWhenNeeded()


def _convert_when_needed(command: Any) -> Any:
    """`command` with each parameter's conversion built when a value needs it (a typer
    without `_runtime_param` is left as it is)."""
    for param in command.params:
        _param_when_needed(param)
    return command


def _param_when_needed(param: Any) -> None:
    """Only where typer builds the conversion on demand as this stand-in expects: an unset
    `_runtime_param` and a `get_runtime_param` that builds it (any other typer keeps its
    own way)."""
    on_demand = callable(getattr(type(param), "get_runtime_param", None))
    if on_demand and getattr(param, "_runtime_param", False) is None:
        param._runtime_param = _WHEN_NEEDED


def command_group(typer_app: typer.Typer) -> StockplanGroup:
    """`typer_app`'s command group as `typer_app()` runs it, but each command is built when
    it is looked up: typer reads a command's options from its function's signature, about
    2 ms a command, and `--help` or a run of one command needs the others' names and help
    alone (`Commands`); and a parameter's conversion is built when a value needs it
    (`_CoercionWhenNeeded`)."""
    from typer.main import get_command, get_command_from_info

    bare = copy.copy(typer_app)  # the group, its options and callback, no command
    bare.registered_commands = []
    group = _convert_when_needed(get_command(bare))
    build = functools.partial(
        get_command_from_info,
        pretty_exceptions_short=typer_app.pretty_exceptions_short,
        rich_markup_mode=typer_app.rich_markup_mode,
    )
    group.commands = Commands(
        typer_app.registered_commands, lambda info: _convert_when_needed(build(info))
    )
    return group


class StockplanGroup(TyperGroup):
    """typer's command group, whose usage errors are shown in the run's language; with
    `Commands`, its list of commands builds none of them."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)  # typer's reads them all (`.items()`)

    listing = False  # format_commands is running: get_command gives outlines

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if self.listing and isinstance(self.commands, Commands):
            return self.commands.outline(cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        self.listing = True
        try:
            super().format_commands(ctx, formatter)
        finally:
            self.listing = False

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # made on first use
        if option is not None and isinstance(self.commands, Commands):
            _param_when_needed(option)
        return option

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except typer.TyperException as error:  # typer's errors; usage errors are exit 2
            exit_code = getattr(error, "exit_code", 1)
            lang = usage_language(sys.argv[1:] if args is None else args)
            if exit_code == 2 and type(error).__name__ != "NoArgsIsHelpError" and lang != "en":
                show_usage_error(error, lang)
            elif hasattr(error, "show"):
                _without_value_error(error)
                error.show()
            else:
                typer.echo(f"Error: {error.format_message()}", err=True)
            sys.exit(exit_code)
        except typer.Abort:
            typer.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)
