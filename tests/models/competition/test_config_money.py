"""Every money field of the configuration is the one shared ``Money`` type, and says the same thing
about the same too-large or negative number, whichever field it is and however it is written."""

from __future__ import annotations

import re
import typing
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, BeforeValidator

from models.competition.config import CompetitionConfig
from models.competition.config_file import parse_config
from models.errors import ConfigError
from tests.conftest import EXAMPLE_DIR

EXAMPLE = yaml.safe_load((EXAMPLE_DIR / "competition.yaml").read_text(encoding="utf-8"))
# Field names that hold an amount of money (``per_project_min`` yes, ``min_founded_months`` no).
MONEY_NAME = re.compile(r"(^|_)(budget|pool|cap|min|amount|fen|yuan)$")


def _models(annotation: Any) -> Iterator[type[BaseModel]]:
    """The models an annotation holds (``list[Pool]``, ``Pool | None``, ``dict[str, Person]``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for argument in typing.get_args(annotation):
        yield from _models(argument)


def _fields(model: type[BaseModel], path: str = "") -> Iterator[tuple[str, Any]]:
    """Every field of the configuration tree: ``("budget.pool", FieldInfo)``, ``("pools.*.amount", …)``."""
    for name, info in model.model_fields.items():
        here = f"{path}{name}"
        yield here, info
        annotation = info.annotation
        many = typing.get_origin(annotation) in (list, dict) or any(
            typing.get_origin(a) in (list, dict) for a in typing.get_args(annotation)
        )
        for inner in _models(annotation):
            yield from _fields(inner, f"{here}.*." if many else f"{here}.")


def _validators(annotation: Any) -> Iterator[BeforeValidator]:
    """The before-validators of an annotation, also inside ``Money | None``."""
    yield from (m for m in getattr(annotation, "__metadata__", ()) if isinstance(m, BeforeValidator))
    for argument in typing.get_args(annotation):
        yield from _validators(argument)


def _is_money(info: Any) -> bool:
    found = [*info.metadata, *_validators(info.annotation)]
    return any(isinstance(v, BeforeValidator) and v.func.__name__ == "_money" for v in found)


def _is_model(info: Any) -> bool:
    return any(True for _ in _models(info.annotation))


MONEY_FIELDS = sorted(path for path, info in _fields(CompetitionConfig) if _is_money(info))


def test_every_field_named_like_money_is_the_shared_money_type() -> None:
    named = sorted(
        path
        for path, info in _fields(CompetitionConfig)
        if MONEY_NAME.search(path.rsplit(".", 1)[-1]) and not _is_model(info)
    )
    assert named and set(named) <= set(MONEY_FIELDS), set(named) - set(MONEY_FIELDS)
    assert {"budget.service_budget", "budget.pool", "pools.*.amount", "categories.*.max_amount"} <= set(
        MONEY_FIELDS
    )


def _set(data: dict[str, Any], path: str, value: object) -> str:
    """Set ``path`` (``*`` = the first item) in a copy of the example; returns the concrete path."""
    *parents, last = path.split(".")
    node: Any = data
    concrete = []
    for part in parents:
        if part == "*":
            node, part = node[0], "0"
        else:
            node = node.setdefault(part, {})
        concrete.append(part)
    node[last] = value
    return ".".join([*concrete, last])


@pytest.mark.parametrize("path", MONEY_FIELDS)
@pytest.mark.parametrize(
    ("value", "message"),
    [
        (10**17, "金额超过上限"),
        ("100,000,000,000,000,000元", "金额超过上限"),
        (1e300, "金额超过上限"),
        (-(10**17), "金额不能为负数"),
        ("-1", "金额不能为负数"),
    ],
    ids=["10^17", "10^17 as text", "1e300", "-10^17", "-1 as text"],
)
def test_a_money_field_refuses_a_huge_or_negative_amount_by_the_same_rule(
    path: str, value: object, message: str
) -> None:
    data = yaml.safe_load(yaml.safe_dump(EXAMPLE, allow_unicode=True))
    concrete = _set(data, path, value)
    with pytest.raises(ConfigError) as caught:
        parse_config(
            yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10**6), source="money.yaml"
        )
    problems = [(p.field, p.zh) for p in caught.value.problems]
    assert any(field == concrete and message in zh for field, zh in problems), problems
