"""A seeded synthetic competition of N applications, written as an organiser would upload it.

``generate(out, n, seed)`` writes into ``out``:

- ``competition.yaml`` — the 江头街道 example's configuration with the pool scaled to N (about a
  third of the valid applications can be funded), experts in proportion to the sheets (three sheets
  per application, about 30 sheets per expert), supervisors in proportion to the grants and a
  mean aggregation (three sheets cannot be trimmed);
- ``applications.xlsx`` — the intake workbook (``grantflow intake template``) with N rows across the
  two pools, three categories and eleven communities, budget lines in 预算明细 and the plan in 活动安排:
  about 5 % of the rows carry one mistake intake refuses (bad email, over the cap, unknown community,
  unreadable amount, no budget), about 3 % repeat an earlier organisation (ineligible: one
  application per organisation) and about 2 % are ineligible otherwise (a barred organisation, a
  volunteer team without 备案号).

``Plan`` says how many of each the file holds, for the runner's checks and the test.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cli.demo.example.applications import USCC_CHARS, Sample, uscc_check
from cli.demo.example.files import activity_rows, budget_rows, fill_workbook, row_of
from models.competition.config_file import load_config
from models.intake.fields import ACTIVITY_SHEET, BUDGET_SHEET
from models.intake.template import write_intake_template
from models.settings import EXAMPLES_DIR

EXAMPLE_CONFIG = EXAMPLES_DIR / "jiangtou-2025" / "competition.yaml"
COMMUNITIES = ("江头", "吕厝", "吕岭", "园山", "金尚", "江村", "蔡塘", "后埔", "祥店", "江华", "忠仑")
CATEGORIES = ("一老", "一小", "公益服务")
BARRED = "厦门市某某失信社会服务中心"
SHEETS_PER_APPLICATION = 3
SHEETS_PER_EXPERT = 30
GRANTS_PER_SUPERVISOR = 10
FUNDED_SHARE = 3  # the pool funds about one valid application in three
# which rows are which, by row number: one in 20 refused (5 %), one in 33 a second application of
# an earlier organisation (3 %), one in 50 ineligible otherwise (2 %) — the shares hold from N = 30 on
INVALID_EVERY, INVALID_AT = 20, 3
DUPLICATE_EVERY, DUPLICATE_AT = 33, 10
INELIGIBLE_EVERY, INELIGIBLE_AT = 50, 17
TOPICS = {
    "一老": ("敬老餐厅助餐陪伴", "长者健康讲座", "独居老人探访", "老年智能手机课堂"),
    "一小": ("社区科普课堂", "四点半课堂", "暑期夏令营", "亲子阅读会"),
    "公益服务": ("一周一公益", "公益市集", "爱心会客厅", "邻里互助站"),
}
MISTAKES: tuple[dict[str, Any], ...] = (
    {"电子邮箱": "bad@example"},
    {"申请金额（元）": 12000},
    {"服务社区": "江头、湖边"},
    {"申请金额（元）": "八千多"},
    {"联系电话": "0592-551"},
)


@dataclass
class Plan:
    """What the generated file holds, by kind of row."""

    rows: int = 0
    invalid: int = 0  # refused at intake
    duplicates: int = 0  # accepted, ineligible at screening (a second application of one organisation)
    ineligible: int = 0  # accepted, ineligible at screening for another reason
    experts: int = 0
    supervisors: int = 0
    pool_yuan: int = 0
    titles: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return self.rows - self.invalid

    @property
    def eligible(self) -> int:
        return self.accepted - self.duplicates - self.ineligible


def _registration(rng: random.Random, kind: str, number: int) -> str:
    if kind == "备案志愿服务团队":
        return f"湖里志备〔2024〕{number:05d}号"
    body = "5235020" + "MJ" + f"{number:07d}" + rng.choice(USCC_CHARS[:10])
    body = body[:17]
    return body + uscc_check(body)


def _sample(rng: random.Random, number: int) -> Sample:
    """One synthetic application: a registered organisation or a volunteer team, a category, one or
    two communities, a plan and a budget of 2,000–8,000 yuan."""
    registered = rng.random() < 0.6
    kind = "社会组织" if registered else "备案志愿服务团队"
    community = COMMUNITIES[number % len(COMMUNITIES)]
    category = CATEGORIES[rng.randrange(len(CATEGORIES))]
    topic = rng.choice(TOPICS[category])
    organisation = (
        f"厦门市湖里区第{number:05d}号社会工作服务中心"
        if registered
        else f"{community}社区第{number:05d}号志愿服务队"
    )
    lines = rng.randint(2, 4)
    budget = tuple(
        (f"科目{line}", f"{topic}用途{line}", rng.choice((200, 300, 500)), rng.randint(2, 4))
        for line in range(1, lines + 1)
    )
    while sum(price * qty for _, _, price, qty in budget) < 2000:
        budget = (*budget, (f"科目{len(budget) + 1}", "活动物资", 500, 2))
    sessions = rng.randint(4, 12)
    people = sessions * rng.randint(15, 40)
    communities = (community,) if rng.random() < 0.8 else (community, COMMUNITIES[(number + 3) % 11])
    return Sample(
        organisation=organisation,
        kind=kind,
        registration=_registration(rng, kind, number),
        founded="2018-05-01",
        rating="3A" if registered else "合格",
        leader=f"负责人{number:05d}",
        address=f"厦门市湖里区{community}路{number % 500 + 1}号",
        contact=f"联系人{number:05d}",
        phone=f"1385920{number:04d}"[:11],
        email=f"org{number:05d}@example.org",
        title=f"{community}{topic}计划（第{number:05d}号）",
        category=category,
        communities=communities,
        target=f"{community}社区居民",
        beneficiaries=max(20, people // 4),
        start="2025-05-01",
        end="2025-09-30",
        summary=f"在{community}社区开展{topic}，组织志愿者服务居民，每月举办活动并做好台账记录。",
        need=f"{community}社区居民对{topic}的需求较大，走访显示多数居民希望有固定的活动。",
        goal=f"服务居民{people}人次；开展活动{sessions}场；满意度达到90%。",
        activities=(("2025年5月—9月", f"{topic}活动", sessions, people),),
        budget=budget,
        self_funded=0,
    )


def _budget(n: int, eligible: int) -> tuple[int, int, int]:
    """(pool, registered pool, volunteer pool) in yuan: about one eligible application in three."""
    pool = max(20000, (eligible // FUNDED_SHARE) * 5000)
    registered = pool * 6 // 10
    return pool, registered, pool - registered


def generate(out: Path, n: int, *, seed: int = 2025) -> Plan:
    """Write competition.yaml and applications.xlsx for ``n`` rows into ``out``; see the module."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    plan = Plan(rows=n)
    samples: list[Sample] = []
    rows: list[dict[str, Any]] = []
    budget: list[dict[str, Any]] = []
    plans: list[dict[str, Any]] = []
    for number in range(1, n + 1):
        sample = _sample(rng, number)
        changes: dict[str, Any] = {}
        lines = True
        if number % INVALID_EVERY == INVALID_AT:
            plan.invalid += 1
            choice = rng.randrange(len(MISTAKES) + 1)
            if choice == len(MISTAKES):
                lines = False  # no budget lines
            else:
                changes = dict(MISTAKES[choice])
        elif number % DUPLICATE_EVERY == DUPLICATE_AT and samples:
            plan.duplicates += 1
            earlier = rng.choice(samples)
            changes = {
                "申报单位": earlier.organisation,
                "单位性质": earlier.kind,
                "统一社会信用代码或登记证号": earlier.registration,
            }
        elif number % INELIGIBLE_EVERY == INELIGIBLE_AT:
            plan.ineligible += 1
            barred_yet = any(row["申报单位"] == BARRED for row in rows)
            if rng.random() < 0.5 and not barred_yet:
                changes = {"申报单位": BARRED}  # barred by the configuration
            else:  # a volunteer team without 备案号
                changes = {"单位性质": "备案志愿服务团队", "统一社会信用代码或登记证号": None}
        else:
            samples.append(sample)
        row = row_of(sample, inline_plan=False) | changes
        rows.append(row)
        plan.titles.append(sample.title)
        if lines:
            budget += budget_rows(sample)
        plans += activity_rows(sample)
    plan.experts = max(7, -(-n * SHEETS_PER_APPLICATION // SHEETS_PER_EXPERT) + 2)
    plan.supervisors = max(2, -(-(plan.eligible // FUNDED_SHARE) // GRANTS_PER_SUPERVISOR))
    pool, registered, volunteer = _budget(n, plan.eligible)
    plan.pool_yuan = pool
    config_path = out / "competition.yaml"
    config_path.write_text(_config_text(plan, pool, registered, volunteer), encoding="utf-8")
    config = load_config(config_path)
    workbook = write_intake_template(out / "applications.xlsx", config)
    fill_workbook(workbook, {"": rows, BUDGET_SHEET: budget, ACTIVITY_SHEET: plans})
    return plan


def _config_text(plan: Plan, pool: int, registered: int, volunteer: int) -> str:
    data = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    data["competition"]["slug"] = f"bench-{plan.rows}"
    data["budget"]["pool"] = pool
    data["budget"]["service_budget"] = max(pool, data["budget"]["service_budget"])
    data["pools"][0]["amount"] = registered
    data["pools"][1]["amount"] = volunteer
    data["categories"][2].pop("max_projects", None)
    # one sheet of the workbook holds every application (and 预算明细 / 活动安排 several lines each)
    data.setdefault("intake", {})["max_rows"] = max(5000, 10 * plan.rows)
    data["review"] |= {
        "experts_per_application": SHEETS_PER_APPLICATION,
        "aggregation": "weighted_mean",
        "exclude_same_community": False,
    }
    data["experts"] = [
        {
            "name": f"专家{number:04d}",
            "email": f"expert{number:04d}@experts.example.org",
            "phone": f"1380592{number:04d}",
            "organisation": f"厦门市某高校{number % 7}",
            "expertise": "社会工作",
        }
        for number in range(1, plan.experts + 1)
    ]
    data["supervisors"] = [
        {
            "name": f"督导{number:04d}",
            "email": f"supervisor{number:04d}@supervisors.example.org",
            "phone": f"1390592{number:04d}",
            "organisation": "厦门市社会工作协会",
        }
        for number in range(1, plan.supervisors + 1)
    ]
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=None)
