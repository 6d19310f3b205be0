"""An application's page, and the files and letters it links to.

    GET  /admin/c/{slug}/applications/{id}            everything about it (``models.dossier``) and its
                                                     申报书 as submitted (the review room's view)
    POST /admin/c/{slug}/applications/{id}/screening  override one screening rule (管理员): rule,
                                                     passed (1 | 0), reason → ``override_check``
    GET  /admin/c/{slug}/documents/{id}               a document (download, audited)
    GET  /admin/c/{slug}/evidence/{id}                an evidence file (download, audited)
    GET  /admin/c/{slug}/letters/{id}                 a letter: its state, body and attachments

An id of another competition is refused as not found (``models.dossier``'s ``*_in``). After an
override the 资格审查表 and the result letters are rewritten by the next screening run (as
``grantflow screening override`` runs it; the console's stage buttons run it from the page).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.responses import Response

from models.accounts.roles import Power
from models.competition.tables import Competition, competition_config
from models.db import lock_competition
from models.dossier import (
    Dossier,
    application_in,
    attachments_of,
    document_in,
    dossier_of,
    evidence_in,
    letter_in,
)
from models.errors import IllegalTransition, InputError
from models.evaluation.grading import OUTCOME_LABELS
from models.screening.eligibility import override_check
from models.states import STATE_LABELS
from portal.admin.console import Call, Console, sentence
from portal.review.application_view import ApplicationView, application_view

PATH = "/admin/c/{slug}/applications/{application_id:int}"
PAST_SCREENING = (
    "申报已过资格审查阶段，不能再改判为不符合 / the application is past screening: a rule can no longer "
    "be set to failed"
)


@dataclass(frozen=True)
class OverrideForm:
    """What the override form shows again after a refusal."""

    rule: str = ""
    passed: str = ""
    reason: str = ""
    error: Any = None  # the refusal, Chinese with English beside


@dataclass(frozen=True)
class ApplicationPage:
    dossier: Dossier
    form: ApplicationView
    pools: dict[str, str]
    categories: dict[str, str]
    outcomes: dict[str, str]
    may_override: bool
    override: OverrideForm

    @property
    def state_label(self) -> str:
        state = self.dossier.application.state
        return STATE_LABELS.get(state, str(state))


def _page(call: Call, competition: Competition, application_id: int, override: OverrideForm) -> Response:
    with call.session() as session:
        config = competition_config(competition)
        dossier = dossier_of(session, competition=competition, config=config, application_id=application_id)
        page = ApplicationPage(
            dossier=dossier,
            form=application_view(session, dossier.application, competition, blind=False),
            pools={p.code: p.name for p in config.pools},
            categories={c.code: c.name for c in config.categories},
            outcomes={o.value: f"{zh} / {en}" for o, (zh, en) in OUTCOME_LABELS.items()},
            may_override=call.viewer.may(Power.act),
            override=override,
        )
    status = 422 if override.error is not None else 200
    return call.render("admin/application.html", {"page": page}, competition=competition, status_code=status)


def register(console: Console) -> None:
    @console.page(PATH)
    def application(call: Call) -> Response:
        with call.session() as session:
            competition = call.competition(session)
        return _page(call, competition, call.param("application_id"), OverrideForm())

    @console.action(f"{PATH}/screening")
    def override(call: Call) -> Response:
        application_id = call.param("application_id")
        fields = call.fields
        form = OverrideForm(
            rule=fields.get("rule", "")[:60],
            passed=fields.get("passed", ""),
            reason=fields.get("reason", "")[:2000],
        )
        try:
            with call.session() as session:
                competition = call.competition(session)
                lock_competition(session, competition.id or 0)
                application_in(session, competition=competition, application_id=application_id)
                if form.passed not in ("1", "0"):
                    raise InputError("请选择改判为“通过”或“未通过” / choose passed or failed")
                override_check(
                    session,
                    application_id=application_id,
                    rule=form.rule,
                    passed=form.passed == "1",
                    reason=form.reason,
                    actor=call.actor,
                )
        except InputError as exc:
            message = "；".join(p.zh for p in exc.problems) + " / " + "; ".join(p.en for p in exc.problems)
            return _refused(call, form, message)
        except IllegalTransition:
            return _refused(call, form, PAST_SCREENING)
        return call.redirect(
            f"/admin/c/{competition.slug}/applications/{application_id}#screening", notice="overridden"
        )

    def _refused(call: Call, form: OverrideForm, message: str) -> Response:
        with call.session() as session:
            competition = call.competition(session)
        failed = OverrideForm(form.rule, form.passed, form.reason, sentence(message))
        return _page(call, competition, call.param("application_id"), failed)

    @console.page("/admin/c/{slug}/documents/{document_id:int}", power=Power.download)
    def document(call: Call) -> Response:
        with call.session() as session:
            competition = call.competition(session)
            found = document_in(session, competition=competition, document_id=call.param("document_id"))
            call.audit(
                session, entity="document", entity_id=found.id or 0, action="download", reason=found.filename
            )
        return call.download(
            call.settings.documents_dir, found.path, found.filename, fallback=f"document-{found.id}.docx"
        )

    @console.page("/admin/c/{slug}/evidence/{evidence_id:int}", power=Power.download)
    def evidence(call: Call) -> Response:
        with call.session() as session:
            competition = call.competition(session)
            found = evidence_in(session, competition=competition, evidence_id=call.param("evidence_id"))
            call.audit(
                session, entity="evidence", entity_id=found.id or 0, action="download", reason=found.name
            )
        return call.download(call.settings.uploads_dir, found.path, found.name, found.media_type)

    @console.page("/admin/c/{slug}/letters/{letter_id:int}")
    def letter(call: Call) -> Response:
        with call.session() as session:
            competition = call.competition(session)
            found = letter_in(session, competition=competition, letter_id=call.param("letter_id"))
            attachments = attachments_of(session, found)
        return call.render(
            "admin/letter.html", {"letter": found, "attachments": attachments}, competition=competition
        )
