"""The competition file as read: bounded, parsed, validated against the schema (``config``).

``load_config(path)`` / ``parse_config(text)`` return a ``CompetitionConfig`` or raise
``ConfigError`` whose problems name the file, the field path and the reason, in Chinese and
English — whatever the text holds (bad YAML, nesting deep enough to exhaust the stack, a number of
5,000 digits, a file of a gigabyte). ``config_digest`` names a text's content.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from models.competition.config import CompetitionConfig, FieldProblems
from models.errors import ConfigError, Problem

CONFIG_MAX_BYTES = 1_000_000

# libyaml's loader when it is built in (ten times faster), the same safe subset either way
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


_MESSAGES_ZH = {
    "missing": "缺少必填字段",
    "extra_forbidden": "不认识的字段（拼写错误？）",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "date_from_datetime_parsing": "应为日期，如 2025-03-01",
    "date_parsing": "应为日期，如 2025-03-01",
    "date_type": "应为日期，如 2025-03-01",
    "datetime_parsing": "应为时间，如 2025-03-01T17:00",
    "datetime_type": "应为时间，如 2025-03-01T17:00",
    "string_type": "应为文字",
    "string_too_short": "太短",
    "list_type": "应为列表",
    "too_short": "至少需要一项",
    "enum": "不是允许的取值",
    "string_pattern_mismatch": "格式不对（小写字母、数字、连字符）",
    "greater_than": "须大于下限",
    "greater_than_equal": "不能小于下限",
    "less_than_equal": "超过上限",
    "value_error": "取值无效",
    "model_type": "应为一组字段（映射）",
    "dict_type": "应为一组字段（映射）",
    "decimal_parsing": "应为数字",
}


def _path(parts: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(p) for p in parts if str(p) != "") or "(文件顶层 / top level)"


def _problems_from(exc: ValidationError, source: str) -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False):
        loc = list(err["loc"])
        kind = err["type"]
        en = err["msg"]
        if kind == "value_error":
            cause = err.get("ctx", {}).get("error")
            if isinstance(cause, FieldProblems):
                for relative, zh, en_part in cause.problems:
                    problems.append(Problem(source, _path([*loc, *relative.split(".")]), zh, en_part))
                continue
            en = en.removeprefix("Value error, ")
            zh, _, en_part = en.partition(" / ")
            if not en_part:  # a message from a library, in English only
                zh, en_part = "取值无效", en
            problems.append(Problem(source, _path(loc), zh, en_part))
            continue
        zh = _MESSAGES_ZH.get(kind, "取值无效")
        problems.append(Problem(source, _path(loc), zh, en))
    return problems


def _too_deep(source: str) -> Problem:
    return Problem(source, "", "YAML 嵌套层次过深", "the YAML is nested too deeply to be a configuration")


@functools.lru_cache(maxsize=16)
def parse_config(text: str, *, source: str = "<text>") -> CompetitionConfig:
    """Parse and validate YAML text; every problem at once, each naming source, field and reason.

    Whatever the text holds — bad YAML, nesting deep enough to exhaust the stack, numbers too big
    for any field — the answer is a ``ConfigError``, never another exception.

    A stage reads its competition's stored configuration many times; the models are frozen, so
    the last few results are kept (an error is never kept: it is raised again).
    """
    if len(text) > CONFIG_MAX_BYTES:
        raise ConfigError(_too_big(source))
    try:
        data = yaml.load(text, Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        if "nesting depth" in str(exc):  # libyaml's own limit, before Python's stack would run out
            raise ConfigError(_too_deep(source)) from None
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        raise ConfigError(Problem(where, "", "YAML 格式错误", f"not valid YAML: {exc}")) from exc
    except RecursionError:
        raise ConfigError(_too_deep(source)) from None
    except (ValueError, OverflowError, TypeError) as exc:  # e.g. an integer of 5,000 digits
        raise ConfigError(
            Problem(source, "", "YAML 中有无法读取的值", f"a value cannot be read: {exc}")
        ) from exc
    if not isinstance(data, dict):
        raise ConfigError(Problem(source, "", "文件须为字段映射", "the file must be a mapping of fields"))
    try:
        return CompetitionConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_problems_from(exc, source)) from exc
    except RecursionError:
        raise ConfigError(
            Problem(source, "", "配置嵌套层次过深", "the configuration is nested too deeply")
        ) from None


def _too_big(source: str) -> Problem:
    limit = CONFIG_MAX_BYTES // 1000
    return Problem(source, "", f"文件过大（上限 {limit} KB）", f"the file is too large (at most {limit} KB)")


def read_config_text(path: Path | str) -> str:
    """The text of a configuration file, or ``ConfigError`` naming the file: missing, a folder,
    unreadable, larger than ``CONFIG_MAX_BYTES`` (checked before reading it whole), not UTF-8."""
    path = Path(path)
    name = str(path)
    try:
        if path.is_dir():
            raise ConfigError(
                Problem(name, "", "这是一个文件夹，不是配置文件", "this is a folder, not a file")
            )
        with path.open("rb") as stream:
            data = stream.read(CONFIG_MAX_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(Problem(name, "", "文件不存在", "file not found")) from None
    except OSError as exc:
        raise ConfigError(
            Problem(name, "", "无法读取文件", f"cannot read the file: {exc.strerror or exc}")
        ) from None
    if len(data) > CONFIG_MAX_BYTES:
        raise ConfigError(_too_big(name))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            Problem(
                name,
                "",
                f"文件须为 UTF-8 编码（第 {exc.start + 1} 个字节无法解码；GBK、UTF-16 等请另存为 UTF-8）",
                f"the file must be UTF-8 text (byte {exc.start + 1} is not UTF-8; save GBK or UTF-16 "
                "as UTF-8)",
            )
        ) from None
    if "\x00" in text:
        raise ConfigError(Problem(name, "", "不是文本文件", "this is not a text file (it holds NUL bytes)"))
    return text


def load_config(path: Path | str) -> CompetitionConfig:
    return parse_config(read_config_text(path), source=str(path))


def config_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
