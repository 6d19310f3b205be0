"""The example's year after the applications, read from ``examples/jiangtou-2025/year.yaml``: how the
sample experts score, and what each funded project's grantee reports and its supervisor records at
each checkpoint (the data lives there; ``cli.demo.people`` types it into the portal).

``load_year(path, config=…)`` checks every entry and refuses a mistake with the file, the project
and the field named, in Chinese and English: the types (a number where text belongs …); the
project among the example's applications; every date in order — the project's start, each report
and visit, its end, the 结项 after the end; each activity inside the project's period; spending
only on the project's budget items, within each line, never less at a later checkpoint; and, given
the competition's configuration, points on the checkpoint's rubric within each maximum (a failing
record says what to rectify).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from cli.demo.example.applications import APPLICATIONS, CSV_APPLICATIONS, FORM_APPLICATIONS, Sample
from models.competition.config import CompetitionConfig
from models.settings import EXAMPLES_DIR

DATA_FILE = EXAMPLES_DIR / "jiangtou-2025" / "year.yaml"
CHECKPOINTS = {  # the data's checkpoint key → (the configured checkpoint's code, round)
    "midterm": ("midterm", 1),
    "midterm_recheck": ("midterm", 2),
    "final": ("final", 1),
    "final_recheck": ("final", 2),
}


def _decimal(value: Any) -> Any:
    return Decimal(str(value)) if isinstance(value, int | float) and not isinstance(value, bool) else value


Points = Annotated[Decimal, BeforeValidator(_decimal)]


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Held(_Data):
    """One line of what was held: 日期, 活动名称, 场次, 服务人次."""

    day: date
    name: str = Field(min_length=1)
    sessions: int = Field(ge=1)
    people: int = Field(ge=0)


class Report(_Data):
    """The grantee's 中期 / 结项报告, cumulative."""

    submitted: date
    activities: tuple[Held, ...] = Field(min_length=1)
    beneficiaries: int = Field(ge=0)
    spent: dict[str, int]  # budget item → yuan
    problems: str = ""
    changes: str = ""

    @property
    def sessions(self) -> int:
        return sum(a.sessions for a in self.activities)

    @property
    def person_times(self) -> int:
        return sum(a.people for a in self.activities)

    @property
    def spent_yuan(self) -> int:
        return sum(self.spent.values())


class Record(_Data):
    """The supervisor's 督导记录, submitted on the day of the visit."""

    visit: date
    mode: Literal["on_site", "remote"]
    points: dict[str, Points]
    comments: dict[str, str] = Field(default_factory=dict)
    findings: str = Field(min_length=1)
    rectify: str = ""


class Visit(_Data):
    report: Report
    record: Record


class Project(_Data):
    midterm: Visit
    midterm_recheck: Visit | None = None
    final: Visit | None = None
    final_recheck: Visit | None = None
    termination: str = ""  # why the grant ends when the mid-term re-check fails

    def visit(self, code: str, round_: int) -> Visit | None:
        """The data of a configured checkpoint's round (``midterm``, 1 …), if the year has it."""
        for key, (checkpoint, number) in CHECKPOINTS.items():
            if (checkpoint, number) == (code, round_):
                found: Visit | None = getattr(self, key)
                return found
        return None


class ExpertHabits(_Data):
    """How the sample experts score (see year.yaml)."""

    seed: int
    quality: tuple[float, float]
    leniency: tuple[float, float]
    noise: float = Field(ge=0)
    floor: float = Field(ge=0, le=1)
    drafts: float = Field(ge=0, le=1)
    high_from: float
    mid_from: float
    comments: dict[Literal["high", "mid", "low"], tuple[str, ...]]


class SampleYear(_Data):
    experts: ExpertHabits
    projects: dict[str, Project]

    def project(self, title: str) -> Project:
        """The data of the funded project ``title``; a clear error when the year has none."""
        found = self.projects.get(title)
        if found is None:
            raise YearError(
                f"{DATA_FILE}: projects 中没有“{title}” / the sample year has no data for the funded "
                f"project {title!r}: add it to year.yaml"
            )
        return found


class YearError(ValueError):
    """A mistake in the data file, naming the file, the project and the field."""


def _samples() -> dict[str, Sample]:
    return {s.title: s for s in (*APPLICATIONS, *CSV_APPLICATIONS, *FORM_APPLICATIONS)}


def _check_project(where: str, title: str, project: Project, sample: Sample) -> list[str]:
    """Dates in order, activities in the period, spending within the budget and never shrinking."""
    start, end = date.fromisoformat(sample.start), date.fromisoformat(sample.end)
    lines: dict[str, int] = {}
    for item, _, price, quantity in sample.budget:
        lines[item] = lines.get(item, 0) + price * quantity
    problems: list[str] = []
    previous: tuple[str, Visit] | None = None
    for key in CHECKPOINTS:
        visit: Visit | None = getattr(project, key)
        if visit is None:
            continue
        place = f"{where}.{key}"
        report, record = visit.report, visit.record
        if not start < report.submitted <= record.visit:
            problems.append(
                f"{place}: 须 项目开始 {start} < 报告 {report.submitted} ≤ 走访 {record.visit} / "
                "the report must come after the project's start and no later than the visit"
            )
        if key.startswith("midterm") and not record.visit < end:
            problems.append(
                f"{place}.record.visit: 中期走访须在项目结束 {end} 之前 / before the project ends"
            )
        if key.startswith("final") and report.submitted < end:
            problems.append(
                f"{place}.report.submitted: 结项报告须在项目结束 {end} 之后 / "
                "the 结项 report comes after the end"
            )
        for index, held in enumerate(report.activities):
            if not start <= held.day <= min(end, report.submitted):
                problems.append(
                    f"{place}.report.activities[{index}]: {held.day} 不在项目周期 {start}至{end} 内"
                    "或晚于报告 / outside the project's period, or after the report"
                )
        for item, yuan in report.spent.items():
            if item not in lines:
                problems.append(
                    f"{place}.report.spent.{item}: 预算中没有该科目 / not a budget item of the project"
                )
            elif not 0 <= yuan <= lines[item]:
                problems.append(
                    f"{place}.report.spent.{item}: {yuan} 元超出预算 {lines[item]} 元 / "
                    f"{yuan} is beyond its budget line of {lines[item]}"
                )
        if previous is not None:
            before_key, before = previous
            if report.submitted <= before.record.visit:
                problems.append(
                    f"{place}.report.submitted: 须晚于 {before_key} 的走访 / after the previous visit"
                )
            for item, yuan in before.report.spent.items():
                if report.spent.get(item, 0) < yuan:
                    problems.append(
                        f"{place}.report.spent.{item}: 累计支出少于 {before_key} / less than spent before"
                    )
            if report.sessions < before.report.sessions or report.person_times < before.report.person_times:
                problems.append(
                    f"{place}.report.activities: 累计场次或人次少于 {before_key} / fewer than before"
                )
        previous = (key, visit)
    return problems


def _check_points(where: str, project: Project, config: CompetitionConfig) -> list[str]:
    problems: list[str] = []
    for key, (code, _) in CHECKPOINTS.items():
        visit: Visit | None = getattr(project, key)
        plan = config.checkpoint(code)
        if visit is None or plan is None:
            continue
        record, place = visit.record, f"{where}.{key}.record"
        wanted = {item.code: item for item in plan.rubric}
        if set(record.points) != set(wanted):
            problems.append(
                f"{place}.points: 应为 {sorted(wanted)}，有 {sorted(record.points)} / "
                f"the rubric of checkpoint {code} is {sorted(wanted)}"
            )
            continue
        for name, points in record.points.items():
            item = wanted[name]
            if not 0 <= points <= item.max_points or (points / item.step) % 1:
                problems.append(
                    f"{place}.points.{name}: {points} 不在 0…{item.max_points} 的步长上 / off the scale"
                )
        score = sum((points * wanted[name].weight for name, points in record.points.items()), Decimal(0))
        if score < plan.pass_score and not (record.rectify.strip() or record.findings.strip()):
            problems.append(f"{place}.rectify: 不合格时须写明整改要求 / say what to rectify")
    return problems


def load_year(path: Path = DATA_FILE, *, config: CompetitionConfig | None = None) -> SampleYear:
    """The sample year in ``path``, every entry checked (``YearError`` names what is wrong)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, Mapping):
        raise YearError(f"{path}: 应为 YAML 映射 / expected a YAML mapping of sections")
    try:
        year = SampleYear.model_validate(_as_tuples(data))
    except ValidationError as exc:
        first = exc.errors()[0]
        place = ".".join(str(part) for part in first["loc"])
        raise YearError(f"{path}: {place}: {first['msg']} (有 / got {first.get('input')!r})") from None
    samples = _samples()
    problems: list[str] = []
    for title, project in year.projects.items():
        where = f"{path}: projects.{title}"
        sample = samples.get(title)
        if sample is None:
            problems.append(
                f"{where}: 示例申报中没有该项目 / no such project among the example's applications"
            )
            continue
        problems += _check_project(where, title, project, sample)
        if config is not None:
            problems += _check_points(where, project, config)
    if problems:
        raise YearError("\n".join(problems))
    return year


def _as_tuples(value: Any) -> Any:
    """YAML lists as tuples; an activity row [日期, 名称, 场次, 人次] as its fields."""
    if isinstance(value, dict):
        return {
            key: tuple(_held(row) for row in item)
            if key == "activities" and isinstance(item, list)
            else _as_tuples(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return tuple(_as_tuples(item) for item in value)
    return value


def _held(row: Any) -> Any:
    if isinstance(row, list) and len(row) == 4:
        return dict(zip(("day", "name", "sessions", "people"), row, strict=True))
    return row
