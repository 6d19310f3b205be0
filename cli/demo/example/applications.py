"""The sample applications of the 江头街道 2025 competition, read from
``examples/jiangtou-2025/applications.yaml`` (the data lives there; ``cli.demo.example.files`` —
run by the example's make_examples.py and by ``grantflow example write`` — writes the example's
application files from it).

``load_samples(path)`` checks every entry — its fields and their types, the rows' shapes, a
统一社会信用代码's check character (GB 32100-2015) — and refuses a mistake with the file, the entry
and the field named, in Chinese and English. ``APPLICATIONS``, ``CSV_APPLICATIONS``,
``FORM_APPLICATIONS`` and ``EXPECTED_INELIGIBLE`` are the file's sections, loaded on import.
"""

from __future__ import annotations

from dataclasses import field
from pathlib import Path

import yaml
from pydantic import ConfigDict, ValidationError
from pydantic.dataclasses import dataclass

from models.settings import EXAMPLES_DIR

DATA_FILE = EXAMPLES_DIR / "jiangtou-2025" / "applications.yaml"
SECTIONS = ("applications", "csv_applications", "form_applications")
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check(body: str) -> str:
    """The check character of a 统一社会信用代码 (GB 32100-2015) for its first 17 characters."""
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(body, USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31]


@dataclass(frozen=True, config=ConfigDict(extra="forbid", strict=True))
class Sample:
    organisation: str
    kind: str  # 社会组织 / 备案志愿服务团队 / 社区社工室
    registration: str
    founded: str
    rating: str
    leader: str
    address: str
    contact: str
    phone: str
    email: str
    title: str
    category: str  # 一老 / 一小 / 公益服务
    communities: tuple[str, ...]
    target: str
    beneficiaries: int
    start: str
    end: str
    summary: str
    need: str
    goal: str
    activities: tuple[tuple[str, str, int, int], ...]  # 时间, 活动内容, 场次, 预计人次
    budget: tuple[tuple[str, str, int, int], ...]  # 科目, 用途, 单价（元）, 数量
    self_funded: int = 0
    team: tuple[tuple[str, str, str], ...] = field(default=())  # 姓名, 职务, 联系电话

    @property
    def amount(self) -> int:
        return sum(price * quantity for _, _, price, quantity in self.budget)


class SampleError(ValueError):
    """A mistake in the data file, naming the file, the entry and the field."""


def _sample(where: str, entry: object) -> Sample:
    """One entry → a Sample; YAML lists become tuples, and strict types refuse a number where text
    belongs (a phone number written without quotes) and text where a number belongs."""
    if not isinstance(entry, dict):
        raise SampleError(f"{where}: 应为映射 / expected a mapping of fields, got {entry!r}")
    where = f"{where} {entry.get('title', '')}".rstrip()
    unknown = sorted(set(entry) - set(Sample.__dataclass_fields__))
    if unknown:
        raise SampleError(f"{where}: 未知字段 {unknown} / unknown field(s) {unknown}")
    try:
        sample = Sample(**{key: _as_tuples(value) for key, value in entry.items()})
    except ValidationError as exc:
        first = exc.errors()[0]
        place = ".".join(str(part) for part in first["loc"])
        raise SampleError(f"{where}.{place}: {first['msg']} (有 / got {first.get('input')!r})") from None
    _check_registration(where, sample)
    return sample


def _check_registration(where: str, sample: Sample) -> None:
    number = sample.registration
    is_uscc = sample.kind == "社会组织" and len(number) == 18
    if is_uscc and (any(c not in USCC_CHARS for c in number[:17]) or uscc_check(number[:17]) != number[17]):
        raise SampleError(
            f"{where}.registration: 统一社会信用代码 {number} 校验位不对 / "
            f"{number} is not a valid unified social credit code (check character)"
        )


def load_samples(path: Path = DATA_FILE) -> dict[str, tuple[Sample, ...]]:
    """The file's three sections of samples, each checked (``SampleError`` names what is wrong)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise SampleError(f"{path}: 应为 YAML 映射 / expected a YAML mapping of sections")
    sections: dict[str, tuple[Sample, ...]] = {}
    for section in SECTIONS:
        entries = data.get(section)
        if not isinstance(entries, list):
            raise SampleError(f"{path}: 缺少列表 {section} / the list {section!r} is missing")
        samples = tuple(_sample(f"{path}: {section}[{index}]", entry) for index, entry in enumerate(entries))
        sections[section] = samples
    return sections


def _as_tuples(value: object) -> object:
    if isinstance(value, dict):
        return {key: _as_tuples(item) for key, item in value.items()}
    if isinstance(value, list):
        return tuple(_as_tuples(item) for item in value)
    return value


def load_expected_ineligible(path: Path = DATA_FILE) -> dict[str, str]:
    """Which titles screening must find ineligible, and by which rule."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {str(title): str(rule) for title, rule in (data.get("expected_ineligible") or {}).items()}


_LOADED = load_samples()
APPLICATIONS: tuple[Sample, ...] = _LOADED["applications"]
CSV_APPLICATIONS: tuple[Sample, ...] = _LOADED["csv_applications"]
FORM_APPLICATIONS: tuple[Sample, ...] = _LOADED["form_applications"]
EXPECTED_INELIGIBLE: dict[str, str] = load_expected_ineligible()
