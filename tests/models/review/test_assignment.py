"""Reviewer assignment on random pools (hypothesis): k experts per application, no excluded pair,
balanced loads whenever a balanced assignment exists, determinism, explanations."""

from __future__ import annotations

from collections import Counter

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.review.assignment import (
    Candidate,
    Exclusions,
    InfeasibleAssignment,
    Pair,
    Reviewer,
    _least_loaded_first,
    assign,
    exclusion_reason,
    replacement_for,
)

ORGS = ["甲", "乙", "丙", "丁"]
COMMUNITIES = ["江头", "吕岭", "园山", ""]


@st.composite
def pools(draw: st.DrawFn) -> tuple[list[Candidate], list[Reviewer], int, Exclusions, int]:
    n = draw(st.integers(1, 10))
    m = draw(st.integers(1, 9))
    k = draw(st.integers(1, 4))
    apps = [
        Candidate(
            id=100 + i,
            ref=f"JT-{i:03d}",
            organisation=draw(st.sampled_from(ORGS)),
            communities=frozenset(draw(st.lists(st.sampled_from(COMMUNITIES[:3]), max_size=2))),
        )
        for i in range(n)
    ]
    experts = [
        Reviewer(
            id=1 + j,
            name=f"专家{j}",
            organisation=draw(st.sampled_from([*ORGS, "大学"])),
            community=draw(st.sampled_from(COMMUNITIES)),
        )
        for j in range(m)
    ]
    declared = draw(
        st.frozensets(
            st.builds(Pair, st.sampled_from([a.id for a in apps]), st.sampled_from([e.id for e in experts])),
            max_size=6,
        )
    )
    rules = Exclusions(
        same_organisation=draw(st.booleans()), same_community=draw(st.booleans()), declared=declared
    )
    return apps, experts, k, rules, draw(st.integers(0, 10_000))


def _allowed(app: Candidate, experts: list[Reviewer], rules: Exclusions) -> list[Reviewer]:
    return [e for e in experts if exclusion_reason(app, e, rules) is None]


def _balanced_exists(apps: list[Candidate], experts: list[Reviewer], k: int, rules: Exclusions) -> bool:
    """An independent check: a feasible flow with every load in [⌊nk/m⌋, ⌈nk/m⌉] (lower bounds
    as node demands)."""
    total = len(apps) * k
    low, high = total // len(experts), -(-total // len(experts))
    graph = nx.DiGraph()
    graph.add_node("s", demand=-total)
    graph.add_node("t", demand=total - low * len(experts))
    for app in apps:
        graph.add_edge("s", ("a", app.id), capacity=k)
        for e in _allowed(app, experts, rules):
            graph.add_edge(("a", app.id), ("e", e.id), capacity=1)
    for e in experts:
        graph.add_node(("e", e.id), demand=low)
        graph.add_edge(("e", e.id), "t", capacity=high - low)
    try:
        nx.min_cost_flow(graph)
    except nx.NetworkXUnfeasible:
        return False
    return True


@settings(max_examples=150, deadline=None)
@given(pools())
def test_assign_random_pools_k_each_no_conflict_balanced(pool):
    apps, experts, k, rules, seed = pool
    short = {a.id for a in apps if len(_allowed(a, experts, rules)) < k}
    if short:
        with pytest.raises(InfeasibleAssignment) as caught:
            assign(applications=apps, experts=experts, k=k, seed=seed, rules=rules)
        assert {s.application.id for s in caught.value.shortfalls} == short
        return
    pairs = assign(applications=apps, experts=experts, k=k, seed=seed, rules=rules)
    per_app = Counter(p.application_id for p in pairs)
    assert per_app == {a.id: k for a in apps}
    assert len(set(pairs)) == len(pairs)
    by_id = {e.id: e for e in experts}
    apps_by_id = {a.id: a for a in apps}
    for p in pairs:
        assert exclusion_reason(apps_by_id[p.application_id], by_id[p.expert_id], rules) is None
    loads = Counter(p.expert_id for p in pairs)
    loads_all = [loads[e.id] for e in experts]
    if _balanced_exists(apps, experts, k, rules):
        assert max(loads_all) - min(loads_all) <= 1


@settings(max_examples=60, deadline=None)
@given(pools(), st.randoms(use_true_random=False))
def test_assign_deterministic_whatever_the_input_order(pool, rng):
    apps, experts, k, rules, seed = pool
    try:
        first = assign(applications=apps, experts=experts, k=k, seed=seed, rules=rules)
    except InfeasibleAssignment:
        return
    shuffled_apps, shuffled_experts = list(apps), list(experts)
    rng.shuffle(shuffled_apps)
    rng.shuffle(shuffled_experts)
    assert assign(applications=shuffled_apps, experts=shuffled_experts, k=k, seed=seed, rules=rules) == first


@settings(max_examples=60, deadline=None)
@given(pools())
def test_assign_rerun_with_existing_adds_nothing(pool):
    apps, experts, k, rules, seed = pool
    try:
        first = assign(applications=apps, experts=experts, k=k, seed=seed, rules=rules)
    except InfeasibleAssignment:
        return
    assert assign(applications=apps, experts=experts, k=k, seed=seed, rules=rules, existing=first) == []


def _jiangtou() -> tuple[list[Candidate], list[Reviewer]]:
    apps = [
        Candidate(id=i, ref=f"JT2025-{i:03d}", organisation=f"机构{i}", communities=frozenset({"江头"}))
        for i in range(1, 13)
    ]
    experts = [Reviewer(id=j, name=f"专家{j}", organisation=f"单位{j}") for j in range(1, 8)]
    return apps, experts


def test_assign_different_seeds_give_different_balanced_assignments():
    apps, experts = _jiangtou()
    one = assign(applications=apps, experts=experts, k=5, seed=1)
    two = assign(applications=apps, experts=experts, k=5, seed=2)
    assert one != two
    for pairs in (one, two):
        loads = Counter(p.expert_id for p in pairs)
        assert sorted(loads.values()) == [8, 8, 8, 9, 9, 9, 9]  # 60 sheets over 7 experts


def test_assign_tops_up_existing_and_counts_their_load():
    apps, experts = _jiangtou()
    existing = [Pair(1, e) for e in (1, 2, 3)]
    pairs = assign(applications=apps[:1], experts=experts, k=5, seed=3, existing=existing)
    assert len(pairs) == 2 and {p.expert_id for p in pairs}.isdisjoint({1, 2, 3})


def test_infeasible_assignment_explains_who_was_excluded_and_why():
    app = Candidate(id=1, ref="JT2025-001", organisation="江头社工站", communities=frozenset({"吕岭"}))
    experts = [
        Reviewer(id=1, name="陈慧敏", organisation="江头社工站"),
        Reviewer(id=2, name="蔡美玲", organisation="吕岭社区居委会", community="吕岭"),
        Reviewer(id=3, name="林雅琴", organisation="集美大学"),
        Reviewer(id=4, name="王建华", organisation="慈善总会"),
    ]
    rules = Exclusions(same_organisation=True, same_community=True, declared=frozenset({Pair(1, 4)}))
    with pytest.raises(InfeasibleAssignment) as caught:
        assign(applications=[app], experts=experts, k=3, seed=0, rules=rules)
    text = str(caught.value)
    assert "申报 JT2025-001" in text
    assert "还需 3 位专家，但只有 1 位可选" in text
    assert "needs 3 more experts but only 1 can review it" in text
    assert "同单位回避 1 人（陈慧敏）" in text and "same community: 1 (蔡美玲)" in text
    assert "declared conflict or declined: 1 (王建华)" in text
    assert caught.value.problems[0].field == "experts_per_application"


def test_replacement_for_picks_least_loaded_allowed_expert():
    apps, experts = _jiangtou()
    loads = {1: 3, 2: 3, 3: 3, 4: 3, 5: 3, 6: 2, 7: 1}
    held = {1, 2, 3, 4, 5, 7}
    chosen = replacement_for(application=apps[0], experts=experts, held=held, loads=loads, seed=9)
    assert chosen == 6  # 7 has the smallest load but already held (declined) this application


def test_replacement_for_equal_loads_deterministic_for_a_seed():
    apps, experts = _jiangtou()
    loads = dict.fromkeys(range(1, 8), 2)
    picks = {
        replacement_for(application=apps[0], experts=experts, held={1}, loads=loads, seed=s)
        for s in range(30)
    }
    assert picks <= set(range(2, 8)) and len(picks) > 1
    again = replacement_for(application=apps[0], experts=experts, held={1}, loads=loads, seed=5)
    assert again == replacement_for(application=apps[0], experts=experts, held={1}, loads=loads, seed=5)


def test_replacement_for_nobody_left_raises_with_reason():
    apps, experts = _jiangtou()
    with pytest.raises(InfeasibleAssignment) as caught:
        replacement_for(application=apps[0], experts=experts[:2], held={1, 2}, loads={}, seed=0)
    assert "already assigned: 2" in str(caught.value)


def test_assign_zero_experts_for_k_explains_every_application():
    apps, _ = _jiangtou()
    with pytest.raises(InfeasibleAssignment) as caught:
        assign(applications=apps[:3], experts=[], k=1, seed=0)
    assert len(caught.value.problems) == 3


def test_assign_large_pool_k_each_allowed_balanced_deterministic():
    """Above FLOW_PAIRS the assignment goes least-loaded-first: still k distinct allowed experts each,
    loads at most one apart, the same for any input order, and a re-run adds nothing."""
    apps = [
        Candidate(
            id=i, ref=f"R{i:04d}", organisation=ORGS[i % 4], communities=frozenset({COMMUNITIES[i % 3]})
        )
        for i in range(1, 601)
    ]
    experts = [
        Reviewer(id=j, name=f"专家{j}", organisation=ORGS[j % 4] if j % 10 == 0 else "大学")
        for j in range(1, 61)
    ]
    rules = Exclusions(same_organisation=True, same_community=True)
    assert _least_loaded_first(apps, experts, {a.id: 3 for a in apps}, rules, 7) is not None  # that way
    pairs = assign(applications=apps, experts=experts, k=3, seed=7, rules=rules)
    assert Counter(p.application_id for p in pairs) == {a.id: 3 for a in apps}
    assert len(set(pairs)) == len(pairs)
    by_id = {e.id: e for e in experts}
    assert all(exclusion_reason(apps[p.application_id - 1], by_id[p.expert_id], rules) is None for p in pairs)
    loads = Counter(p.expert_id for p in pairs)
    assert max(loads.values()) - min(loads[e.id] for e in experts) <= 1
    assert assign(applications=apps[::-1], experts=experts[::-1], k=3, seed=7, rules=rules) == pairs
    assert assign(applications=apps, experts=experts, k=3, seed=7, rules=rules, existing=pairs) == []
