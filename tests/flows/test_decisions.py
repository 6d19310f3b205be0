"""The administrator's decisions as the Prefect UI offers them: a typed form per decision, with
Chinese titles, required answers, and the same audited model functions as the CLI behind them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from prefect.utilities.callables import parameter_schema
from pydantic import ValidationError
from sqlmodel import select

from models.audit import AuditEvent
from models.db import default_engine, session_scope, upgrade_database
from models.funding.publicity import current_notice
from models.funding.tables import FundingDecision, Objection
from tests.support.funding_data import scored_competition

ROOT = Path(__file__).resolve().parents[2]
FLOWS = (
    "decide_funding",
    "record_objection",
    "rule_on_objection",
    "adjust_amount",
    "decide_tie",
    "record_signing",
    "gate_tranche",
)


@pytest.mark.parametrize("name", FLOWS)
def test_every_decision_form_explains_itself_in_chinese(name: str) -> None:
    import flows.decisions as decisions

    schema = parameter_schema(getattr(decisions, name).fn).model_dump()
    (form_ref,) = [p["$ref"] for p in schema["properties"].values()]
    form = schema["definitions"][form_ref.rsplit("/", 1)[1]]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in form["description"])
    for field, spec in form["properties"].items():
        title = spec.get("title", "")
        assert any("\u4e00" <= ch <= "\u9fff" for ch in title), f"{name}.{field} has no Chinese title"
        assert " / " in title, f"{name}.{field}: Chinese first, English beside it"
    assert set(form["required"]) == set(form["properties"]), "every answer is required (no silent default)"


@pytest.mark.parametrize("name", FLOWS)
def test_every_decision_is_a_deployment(name: str) -> None:
    spec = yaml.safe_load((ROOT / "deployments" / "prefect.yaml").read_text(encoding="utf-8"))
    entrypoints = {d["entrypoint"] for d in spec["deployments"]}
    assert f"flows/decisions.py:{name}" in entrypoints


def test_an_answer_must_be_chosen() -> None:
    from flows.decisions import FundingApproval

    with pytest.raises(ValidationError):
        FundingApproval.model_validate({"competition": "jiangtou-2025", "decided_by": "林站长"})
    with pytest.raises(ValidationError):
        FundingApproval.model_validate(
            {"competition": "jiangtou-2025", "decided_by": "林站长", "answer": "true"}
        )


@pytest.mark.flows
def test_approve_object_and_rule_from_the_forms(prefect_harness, settings_env: Path) -> None:
    from flows.decisions import (
        Approval,
        FundingApproval,
        ObjectionRecord,
        ObjectionRuling,
        Ruling,
        decide_funding,
        record_objection,
        rule_on_objection,
    )
    from flows.funding import funding_draft

    upgrade_database(default_engine())
    with session_scope() as session:
        competition, applications = scored_competition(session)
        slug, competition_id = competition.slug, competition.id
    funding_draft(slug, actor="admin:test")

    held = decide_funding(FundingApproval(competition=slug, answer=Approval.hold, decided_by="林站长"))
    assert held["approved"] is False
    with session_scope() as session:
        assert current_notice(session, competition_id=competition_id) is None

    approved = decide_funding(FundingApproval(competition=slug, answer=Approval.approve, decided_by="林站长"))
    assert approved["approved"] is True
    with session_scope() as session:
        assert current_notice(session, competition_id=competition_id) is not None
        approvals = session.exec(select(AuditEvent).where(AuditEvent.actor == "admin:林站长")).all()
        assert approvals, "the decision is audited under the name given in the form"

    ref = next(iter(applications))
    number = record_objection(
        ObjectionRecord(
            competition=slug, ref=ref, raised_by="张先生", text="申报材料与实际不符", recorded_by="林站长"
        )
    )["objection"]
    ruled = rule_on_objection(
        ObjectionRuling(
            objection=number, ruling=Ruling.dismissed, reason="经核实材料属实", decided_by="林站长"
        )
    )
    assert ruled["state"] == "dismissed"
    with session_scope() as session:
        objection = session.get(Objection, number)
        assert objection is not None and objection.state == "dismissed"
        assert session.exec(
            select(FundingDecision).where(FundingDecision.competition_id == competition_id)
        ).all()
