"""The allocation rules on hand-worked cases, and their properties (Hypothesis)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from models.funding.allocation import (
    BELOW_THRESHOLD,
    CATEGORY_FULL,
    EXCLUDED,
    FUNDED,
    NO_MONEY,
    QUOTA,
    REMAINDER,
    REMAINDER_TOO_SMALL,
    Candidate,
    PoolBudget,
    Quota,
    Rules,
    allocate,
)

Y = 100  # fen per yuan


def cand(key: int, score: str, yuan: int, *, pool: str = "org", category: str = "elderly", **kw) -> Candidate:
    return Candidate(
        key=key,
        ref=f"JT-{key:03d}",
        pool=pool,
        category=category,
        community=kw.pop("community", "江头"),
        score=Decimal(score),
        requested_fen=yuan * Y,
        rank=kw.pop("rank", key),
        pool_rank=kw.pop("pool_rank", key),
        **kw,
    )


def rules(pool_yuan: int = 20_000, **kw) -> Rules:
    pools = kw.pop("pools", (PoolBudget("org", "社会组织组", pool_yuan * Y),))
    return Rules(
        total_fen=kw.pop("total_fen", sum(p.budget_fen for p in pools)),
        pools=pools,
        cap_fen=kw.pop("cap_fen", 8_000 * Y),
        min_fen=kw.pop("min_fen", 2_000 * Y),
        threshold=Decimal(kw.pop("threshold", 60)),
        **kw,
    )


FOUR = [cand(1, "90", 8_000), cand(2, "85", 8_000), cand(3, "80", 6_000), cand(4, "75", 3_000)]


def test_skip_rule_funds_the_next_project_that_fits():
    result = allocate(FOUR, rules(remainder="skip"))
    assert [(o.ref, o.funded_fen // Y, o.rule) for o in result.outcomes] == [
        ("JT-001", 8_000, FUNDED),
        ("JT-002", 8_000, FUNDED),
        ("JT-003", 0, NO_MONEY),  # 4,000 left < 6,000
        ("JT-004", 3_000, FUNDED),
    ]
    assert result.returned_fen == 1_000 * Y and result.reconciles
    third = result.outcome("JT-003")
    assert third.zh == (
        "总排名第3、社会组织组第3名，得分80，社会组织组此时仅剩4,000.00元，不足所需6,000.00元，"
        "跳过并资助下一个放得下的项目。"
    )
    assert "skipped" in third.en and "4,000.00" in third.en
    assert result.outcome("JT-004").zh.endswith("按得分顺序资助3,000.00元，社会组织组剩余1,000.00元。")


def test_offer_rule_funds_the_remainder_when_it_reaches_the_minimum():
    result = allocate(FOUR, rules(remainder="offer"))
    assert [(o.ref, o.funded_fen // Y, o.rule) for o in result.outcomes] == [
        ("JT-001", 8_000, FUNDED),
        ("JT-002", 8_000, FUNDED),
        ("JT-003", 4_000, REMAINDER),
        ("JT-004", 0, REMAINDER_TOO_SMALL),  # nothing left, under the 2,000 minimum
    ]
    assert result.returned_fen == 0 and result.reconciles


def test_offer_rule_refuses_a_remainder_under_the_minimum():
    result = allocate([cand(1, "90", 8_000), cand(2, "85", 5_000)], rules(9_500, remainder="offer"))
    assert result.outcome("JT-002").rule == REMAINDER_TOO_SMALL  # 1,500 left < 2,000
    assert result.returned_fen == 1_500 * Y


def test_tie_at_the_cut_is_open_until_the_administrator_decides():
    tied = [cand(1, "90", 8_000), cand(2, "80", 5_000, tie_keys=(1,)), cand(3, "80", 5_000, tie_keys=(1,))]
    result = allocate(tied, rules(13_000))
    assert result.ties == (("JT-002", "JT-003"),)
    assert result.outcome("JT-002").tie == ("JT-003",) and "待管理员决定" in result.outcome("JT-002").zh
    decided = [tied[0], replace(tied[1], precedence=2), replace(tied[2], precedence=1)]
    after = allocate(decided, rules(13_000))
    assert after.ties == ()
    assert (after.outcome("JT-003").funded_fen, after.outcome("JT-002").funded_fen) == (5_000 * Y, 0)


def test_a_tie_broken_by_the_configured_rules_is_not_open():
    tied = [cand(1, "90", 8_000), cand(2, "80", 5_000, tie_keys=(2,)), cand(3, "80", 5_000, tie_keys=(1,))]
    result = allocate(tied, rules(13_000))
    assert result.ties == () and result.outcome("JT-003").rule == FUNDED


def test_a_tie_where_both_share_the_same_fate_is_not_open():
    tied = [cand(1, "90", 8_000), cand(2, "80", 5_000), cand(3, "80", 5_000)]
    assert allocate(tied, rules(30_000)).ties == ()  # both funded
    assert allocate(tied, rules(10_000)).ties == ()  # both cut


def test_category_quota_forces_a_lower_ranked_project_in():
    apps = [cand(1, "90", 8_000), cand(2, "85", 8_000), cand(3, "70", 4_000, category="children")]
    quota = Quota("category", "children", "一小 / children", 1)
    plain = allocate(apps, rules(16_000))
    assert plain.outcome("JT-003").rule == NO_MONEY
    result = allocate(apps, rules(16_000, quotas=(quota,)))
    assert [(o.ref, o.funded_fen // Y, o.rule) for o in result.outcomes] == [
        ("JT-001", 8_000, FUNDED),
        ("JT-002", 0, NO_MONEY),
        ("JT-003", 4_000, QUOTA),
    ]
    assert "按“一小至少1个项目”的保障规则资助4,000.00元" in result.outcome("JT-003").zh
    assert result.reconciles


def test_community_quota_applies_only_where_a_project_reaches_the_threshold():
    apps = [
        cand(1, "90", 8_000, community="江头"),
        cand(2, "85", 8_000, community="江头"),
        cand(3, "65", 4_000, community="吕岭"),
        cand(4, "50", 4_000, community="蔡塘"),  # below the threshold: no quota for 蔡塘
    ]
    quotas = tuple(Quota("community", c, f"{c}社区 / {c}", 1) for c in ("江头", "吕岭", "蔡塘"))
    result = allocate(apps, rules(16_000, quotas=quotas))
    assert result.outcome("JT-003").rule == QUOTA and result.outcome("JT-004").rule == BELOW_THRESHOLD
    assert result.unmet_quotas == ()


def test_pool_smaller_than_one_cap():
    apps = [cand(1, "90", 8_000)]
    assert allocate(apps, rules(5_000, remainder="skip")).outcome("JT-001").rule == NO_MONEY
    offered = allocate(apps, rules(5_000, remainder="offer")).outcome("JT-001")
    assert (offered.rule, offered.funded_fen) == (REMAINDER, 5_000 * Y)


def test_empty_pool_funds_nothing():
    result = allocate(FOUR, rules(0, remainder="offer"))
    assert {o.funded_fen for o in result.outcomes} == {0} and result.reconciles


def test_everyone_below_the_threshold():
    apps = [cand(1, "59.99", 8_000), cand(2, "40", 2_000)]
    result = allocate(apps, rules(20_000))
    assert {o.rule for o in result.outcomes} == {BELOW_THRESHOLD}
    assert result.returned_fen == 20_000 * Y and result.reconciles
    assert result.outcome("JT-001").zh == "总排名第1、社会组织组第1名，得分59.99，低于合格线60分，不予资助。"


def test_upheld_objection_excludes_a_project_and_the_next_moves_up():
    apps = [cand(1, "90", 8_000), cand(2, "85", 8_000), cand(3, "80", 8_000)]
    before = allocate(apps, rules(16_000))
    assert before.outcome("JT-003").rule == NO_MONEY
    excluded = replace(apps[0], excluded="公示期异议成立（冒名申报） / objection upheld during the notice")
    after = allocate([excluded, *apps[1:]], rules(16_000))
    assert after.outcome("JT-001").rule == EXCLUDED and "异议成立" in after.outcome("JT-001").zh
    assert after.outcome("JT-003").funded_fen == 8_000 * Y


def test_cap_and_request_share():
    apps = [cand(1, "92", 10_000), cand(2, "75", 5_001)]
    shares = ((Decimal(85), Decimal(100)), (Decimal(60), Decimal(80)))
    result = allocate(apps, rules(20_000, shares=shares))
    assert result.outcome("JT-001").funded_fen == 8_000 * Y  # capped
    # 80% of 5,001 = 4,000.80 → rounded down to whole yuan
    assert result.outcome("JT-002").funded_fen == 4_000 * Y
    assert "申请额的80%" in result.outcome("JT-002").zh


def test_category_limit():
    apps = [cand(1, "90", 3_000), cand(2, "85", 3_000), cand(3, "80", 3_000, category="children")]
    result = allocate(apps, rules(20_000, category_max_projects={"elderly": 1}))
    assert [o.rule for o in result.outcomes] == [FUNDED, CATEGORY_FULL, FUNDED]


def test_unspent_money_moves_to_the_pool_that_can_use_it():
    pools = (PoolBudget("org", "社会组织组", 10_000 * Y), PoolBudget("vol", "志愿服务团队组", 5_000 * Y))
    apps = [cand(1, "90", 6_000), cand(2, "88", 5_000, pool="vol"), cand(3, "80", 4_000, pool="vol")]
    returned = allocate(apps, rules(pools=pools, unspent="returned"))
    assert returned.outcome("JT-003").funded_fen == 0 and returned.returned_fen == 4_000 * Y
    moved = allocate(apps, rules(pools=pools, unspent="other_pool"))
    assert moved.outcome("JT-003").funded_fen == 4_000 * Y
    org, vol = moved.pools
    assert (org.moved_fen, vol.received_fen, vol.returned_fen) == (4_000 * Y, 4_000 * Y, 0)
    assert moved.returned_fen == 0 and moved.reconciles


def test_unassigned_part_of_the_competition_pool_is_returned():
    result = allocate(FOUR, rules(20_000, total_fen=25_000 * Y))
    assert result.unassigned_fen == 5_000 * Y and result.reconciles


# ---- properties -----------------------------------------------------------------------------------

scores = st.decimals(min_value=40, max_value=100, places=2, allow_nan=False, allow_infinity=False)


@st.composite
def worlds(draw: st.DrawFn) -> tuple[list[Candidate], Rules]:
    count = draw(st.integers(min_value=0, max_value=12))
    apps = [
        Candidate(
            key=i,
            ref=f"JT-{i:03d}",
            pool=draw(st.sampled_from(["org", "vol"])),
            category=draw(st.sampled_from(["elderly", "children", "public"])),
            community=draw(st.sampled_from(["江头", "吕岭", "蔡塘"])),
            score=draw(scores),
            requested_fen=draw(st.integers(min_value=1_000, max_value=12_000)) * Y
            + draw(st.integers(min_value=0, max_value=99)),
            tie_keys=(draw(st.integers(0, 2)),),
        )
        for i in range(1, count + 1)
    ]
    cap = draw(st.integers(min_value=3_000, max_value=10_000)) * Y
    minimum = draw(st.integers(min_value=0, max_value=3_000)) * Y
    pools = (
        PoolBudget("org", "社会组织组", draw(st.integers(0, 40_000)) * Y + draw(st.integers(0, 99))),
        PoolBudget("vol", "志愿服务团队组", draw(st.integers(0, 30_000)) * Y),
    )
    quotas = tuple(
        Quota("category", c, c, draw(st.integers(0, 2))) for c in draw(st.sets(st.sampled_from(["children"])))
    )
    return apps, Rules(
        total_fen=sum(p.budget_fen for p in pools) + draw(st.integers(0, 5_000)) * Y,
        pools=pools,
        cap_fen=cap,
        min_fen=min(minimum, cap),
        threshold=Decimal(60),
        remainder=draw(st.sampled_from(["skip", "offer"])),
        unspent=draw(st.sampled_from(["returned", "other_pool"])),
        shares=draw(st.sampled_from([(), ((Decimal(80), Decimal(100)), (Decimal(0), Decimal("75.5")))])),
        quotas=quotas,
    )


@settings(max_examples=50, deadline=None)
@given(worlds())
def test_never_over_any_budget_cap_or_under_the_minimum(world):
    apps, rule = world
    result = allocate(apps, rule)
    assert result.reconciles and result.funded_fen <= rule.total_fen
    for pool in result.pools:
        assert 0 <= pool.funded_fen <= pool.budget_fen + pool.received_fen
        assert pool.returned_fen >= 0 and pool.moved_fen >= 0
    for outcome in result.outcomes:
        assert outcome.funded_fen == 0 or rule.min_fen <= outcome.funded_fen <= rule.cap_fen
        assert outcome.funded_fen <= next(a.requested_fen for a in apps if a.key == outcome.key)
        assert outcome.zh.endswith("。") and outcome.en.endswith(".")


@settings(max_examples=30, deadline=None)
@given(worlds())
def test_deterministic_whatever_the_input_order(world):
    apps, rule = world
    assert allocate(apps, rule) == allocate(list(reversed(apps)), rule)


@settings(max_examples=50, deadline=None)
@given(worlds(), st.data())
def test_monotone_in_score_within_a_pool(world, data):
    apps, rule = world
    rule = replace(rule, quotas=(), unspent="returned", shares=())
    if not apps:
        return
    chosen = data.draw(st.sampled_from(apps))
    better = replace(chosen, score=min(Decimal(100), chosen.score + data.draw(scores) / 10))
    before = allocate(apps, rule).outcome(chosen.ref).funded_fen
    after = allocate([better if a.key == chosen.key else a for a in apps], rule).outcome(chosen.ref)
    assert after.funded_fen >= before
