"""Who reviews what: the assignment of experts to applications, as pure rules (no database).

Each application needs ``k`` experts. A pair (application, expert) is *excluded* when the expert
belongs to the applicant's organisation, lives in a community the application serves (if
configured), or declared a conflict (or earlier declined / withdrew from that application).

The assignment is a min-cost flow (networkx ``min_cost_flow``, as HotCRP's autoassigner does):

    source ──need──▶ application ──1──▶ expert ══ unit arcs of cost BIG·(load+1), BIG·(load+2)… ══▶ sink

Every application must receive exactly its need, each expert at most once; an expert's j-th
assignment costs more than the (j−1)-th, so the flow minimises Σ f(load) for a strictly convex f.
With a fixed total, that minimum is reached exactly by balanced loads (max − min ≤ 1) whenever a
balanced assignment exists; where the exclusions make it impossible, the loads are as even as the
convex cost allows. A small seeded random cost on every application → expert arc (always smaller
than one BIG) picks among the equally balanced assignments, so a seed gives one answer and another
seed another. The flow can route every need exactly when each application has at least ``need``
allowed experts: otherwise ``InfeasibleAssignment`` names each such application, how many experts it
has, and who was excluded for which reason.
"""

from __future__ import annotations

import heapq
import random
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from models.errors import InputError, Problem

_PERTURBATION = 1000  # seeded tie-breaking costs are drawn from 0 … 999
# Above this many (application, expert) pairs the cheapest flow's graph (every pair an arc, every
# unit of an expert's load an arc) grows with the square of the competition: 900 applications and
# 100 experts took 80 s. Larger first assignments go least-loaded-first (_least_loaded_first).
FLOW_PAIRS = 20_000


class Pair(NamedTuple):
    application_id: int
    expert_id: int


@dataclass(frozen=True)
class Candidate:
    """An application as the assignment sees it."""

    id: int
    ref: str = ""
    organisation: str = ""
    communities: frozenset[str] = frozenset()  # the main community and every one served

    @property
    def label(self) -> str:
        return self.ref or f"#{self.id}"


@dataclass(frozen=True)
class Reviewer:
    """An expert as the assignment sees it."""

    id: int
    name: str = ""
    organisation: str = ""
    community: str = ""


@dataclass(frozen=True)
class Exclusions:
    """Which pairs may not be assigned."""

    same_organisation: bool = True
    same_community: bool = False
    declared: frozenset[Pair] = frozenset()  # declared conflicts, declines and withdrawn pairs


EXCLUSION_LABELS: Mapping[str, tuple[str, str]] = {
    "organisation": ("同单位回避", "same organisation"),
    "community": ("同社区回避", "same community"),
    "declared": ("申报回避或谢绝", "declared conflict or declined"),
    "assigned": ("已分配", "already assigned"),
}


def _same(a: str, b: str) -> bool:
    return bool(a.strip()) and a.strip().casefold() == b.strip().casefold()


def exclusion_reason(application: Candidate, expert: Reviewer, rules: Exclusions) -> str | None:
    """Why ``expert`` may not review ``application`` ("organisation", "community", "declared"), or None."""
    if Pair(application.id, expert.id) in rules.declared:
        return "declared"
    if rules.same_organisation and _same(application.organisation, expert.organisation):
        return "organisation"
    if rules.same_community and any(_same(c, expert.community) for c in application.communities):
        return "community"
    return None


@dataclass(frozen=True)
class Shortfall:
    """One application that cannot get enough experts, and why."""

    application: Candidate
    needed: int
    available: int
    excluded: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # reason -> expert names

    def problem(self) -> Problem:
        reasons = [r for r in EXCLUSION_LABELS if r in self.excluded]
        zh_parts = [
            f"{EXCLUSION_LABELS[r][0]} {len(self.excluded[r])} 人（{'、'.join(self.excluded[r])}）"
            for r in reasons
        ]
        en_parts = [
            f"{EXCLUSION_LABELS[r][1]}: {len(self.excluded[r])} ({', '.join(self.excluded[r])})"
            for r in reasons
        ]
        return Problem(
            where=f"申报 {self.application.label}",
            field="experts_per_application",
            zh=f"还需 {self.needed} 位专家，但只有 {self.available} 位可选"
            + (f"；{'；'.join(zh_parts)}" if zh_parts else ""),
            en=f"needs {self.needed} more experts but only {self.available} can review it"
            + (f"; {'; '.join(en_parts)}" if en_parts else ""),
        )


class InfeasibleAssignment(InputError):
    """Some applications cannot get k experts under the exclusions; ``shortfalls`` says which and why."""

    def __init__(self, shortfalls: list[Shortfall]) -> None:
        self.shortfalls = shortfalls
        super().__init__([s.problem() for s in shortfalls])


def _name(expert: Reviewer) -> str:
    return expert.name or f"#{expert.id}"


def _shortfall(
    application: Candidate, need: int, experts: Iterable[Reviewer], rules: Exclusions, held: Collection[int]
) -> Shortfall | None:
    allowed = 0
    excluded: dict[str, list[str]] = {}
    for expert in experts:
        if expert.id in held:
            excluded.setdefault("assigned", []).append(_name(expert))
            continue
        reason = exclusion_reason(application, expert, rules)
        if reason is None:
            allowed += 1
        else:
            excluded.setdefault(reason, []).append(_name(expert))
    if allowed >= need:
        return None
    return Shortfall(application, need, allowed, {r: tuple(n) for r, n in excluded.items()})


def assign(
    *,
    applications: Iterable[Candidate],
    experts: Iterable[Reviewer],
    k: int,
    seed: int,
    rules: Exclusions = Exclusions(),
    existing: Iterable[Pair] = (),
) -> list[Pair]:
    """New (application, expert) pairs so that every application has ``k`` experts.

    ``existing`` pairs are kept: they count towards an application's ``k`` and an expert's load,
    so re-running with the result as ``existing`` adds nothing. Deterministic for a given ``seed``
    whatever the input order. Raises ``InfeasibleAssignment`` (nothing assigned) when an application
    has fewer allowed experts than it needs.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    apps = sorted(set(applications), key=lambda a: a.id)
    pool = sorted(set(experts), key=lambda e: e.id)
    held_pairs = set(existing)
    held: dict[int, set[int]] = {}
    for pair in held_pairs:
        held.setdefault(pair.application_id, set()).add(pair.expert_id)
    loads = Counter(p.expert_id for p in held_pairs)

    needs = {a.id: max(0, k - len(held.get(a.id, ()))) for a in apps}
    if len(apps) * len(pool) > FLOW_PAIRS and not held_pairs and pool:
        quick = _least_loaded_first(apps, pool, needs, rules, seed)
        if quick is not None:  # every application got its experts: nobody falls short
            return quick
    shortfalls = [
        s
        for a in apps
        if needs[a.id] and (s := _shortfall(a, needs[a.id], pool, rules, held.get(a.id, set())))
    ]
    if shortfalls:
        raise InfeasibleAssignment(shortfalls)
    total = sum(needs.values())
    if total == 0:
        return []

    import networkx as nx  # here, not at the top: only an assignment needs it (0.2–0.9 s to import)

    rng = random.Random(seed)
    big = total * _PERTURBATION + 1  # one unit of load outweighs every tie-breaking cost together
    graph: Any = nx.MultiDiGraph()
    graph.add_node("source", demand=-total)
    graph.add_node("sink", demand=total)
    reachable: Counter[int] = Counter()
    for app in apps:
        if not needs[app.id]:
            continue
        graph.add_edge("source", ("a", app.id), capacity=needs[app.id], weight=0)
        for expert in pool:
            if expert.id in held.get(app.id, ()) or exclusion_reason(app, expert, rules):
                continue
            graph.add_edge(("a", app.id), ("e", expert.id), capacity=1, weight=rng.randrange(_PERTURBATION))
            reachable[expert.id] += 1
    for expert in pool:
        for j in range(1, reachable[expert.id] + 1):
            graph.add_edge(("e", expert.id), "sink", capacity=1, weight=big * (loads[expert.id] + j))

    flow = nx.min_cost_flow(graph)
    pairs = [
        Pair(app.id, expert_node[1])
        for app in apps
        for expert_node, arcs in flow.get(("a", app.id), {}).items()
        if sum(arcs.values()) > 0
    ]
    return sorted(pairs)


def _least_loaded_first(
    apps: list[Candidate], pool: list[Reviewer], needs: Mapping[int, int], rules: Exclusions, seed: int
) -> list[Pair] | None:
    """Applications in a seeded order, each given the allowed experts of least load (ties by a
    seeded draw): a heap of experts, so the work grows with applications × k, not × experts.

    ``None`` when it cannot give every application its experts or the loads end more than one
    apart (exclusions crowd some experts out): the caller then solves the cheapest flow, which
    reaches the most even loads that exist."""
    rng = random.Random(seed)
    order = list(apps)
    rng.shuffle(order)
    heap = [(0, rng.random(), expert.id, expert) for expert in pool]
    heapq.heapify(heap)
    pairs = []
    for app in order:
        chosen: list[tuple[int, float, int, Reviewer]] = []
        passed: list[tuple[int, float, int, Reviewer]] = []
        while len(chosen) < needs[app.id] and heap:
            entry = heapq.heappop(heap)
            (passed if exclusion_reason(app, entry[3], rules) else chosen).append(entry)
        if len(chosen) < needs[app.id]:
            return None
        for load, _, expert_id, expert in chosen:
            pairs.append(Pair(app.id, expert_id))
            heapq.heappush(heap, (load + 1, rng.random(), expert_id, expert))
        for entry in passed:
            heapq.heappush(heap, entry)
    final = [load for load, *_ in heap]
    if max(final) - min(final) > 1:
        return None
    return sorted(pairs)


def replacement_for(
    *,
    application: Candidate,
    experts: Iterable[Reviewer],
    held: Collection[int],
    loads: Mapping[int, int],
    seed: int,
    rules: Exclusions = Exclusions(),
) -> int:
    """The expert who replaces one that declined or declared a conflict on ``application``.

    ``held`` are the experts who have (or had) a sheet for this application, withdrawn ones included:
    none of them is picked again. Among the allowed experts, the one with the smallest current
    ``loads`` wins, so loads stay as even as they can without moving anyone's existing sheets; equal
    loads are ordered by a random draw seeded with ``seed`` and the application. Raises
    ``InfeasibleAssignment`` when nobody is left.
    """
    pool = sorted(set(experts), key=lambda e: e.id)
    allowed = [e for e in pool if e.id not in held and exclusion_reason(application, e, rules) is None]
    if not allowed:
        shortfall = _shortfall(application, 1, pool, rules, held)
        assert shortfall is not None
        raise InfeasibleAssignment([shortfall])
    rng = random.Random(seed * 1_000_003 + application.id)
    draws = {e.id: rng.random() for e in allowed}
    best = min(allowed, key=lambda e: (loads.get(e.id, 0), draws[e.id], e.id))
    return best.id
