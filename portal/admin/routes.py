"""The console's routes: every page module registers its pages and actions on one ``Console``.

    /admin                                   → the newest competition's 首页 (or how to create one)
    /admin/login, /admin/logout              auth
    /admin/new                               新建竞赛 (upload, paste, copy) create
    /admin/c/{slug}                          首页                         home
    /admin/c/{slug}/applications[.xlsx]      申报一览 (and its export)     applications
    /admin/c/{slug}/applications/{id}        an application's page        application
    /admin/c/{slug}/documents/{id}           a document (download)        application
    /admin/c/{slug}/letters/{id}             a letter (preview)           application
    /admin/c/{slug}/evidence/{id}            an evidence file (download)  application
    /admin/c/{slug}/steps[/{step}]           运行阶段: confirm, then run      steps
    /admin/c/{slug}/runs/{id}                a stage run (polled)         steps
    /admin/c/{slug}/intake                   导入申报 (several files)      intake
    /admin/c/{slug}/decisions[/…]            tie, amounts, objections, signing dates  decisions
    /admin/c/{slug}/rectification[/outcomes|/terminate/{grant}]  整改与终止  rectification
    /admin/c/{slug}/outbox[/release|retry|send|sending], /letters/{id}/html    发信箱   outbox
    /admin/c/{slug}/documents[.zip]          文档 (a stage as a zip)         documents
    /admin/c/{slug}/people[/…]               专家与督导                     people
    /admin/c/{slug}/year[.xlsx], /year/charts/{chart}.png                     年度     year

A new page: a module with ``register(console)`` using ``@console.page`` / ``@console.action``
(``portal/admin/console.py``), its template under ``templates/web/admin/``, its words in
``portal/words/admin.py``, and one line below.
"""

from __future__ import annotations

from fastapi import APIRouter

from portal.admin import (
    application,
    applications,
    auth,
    create,
    decisions,
    documents,
    home,
    intake,
    outbox,
    people,
    rectification,
    steps,
    year,
)
from portal.admin.console import Console
from portal.site import Site


def console_of(site: Site) -> Console:
    console = Console(site)
    for module in (
        auth,
        home,
        applications,
        application,
        steps,
        intake,
        decisions,
        rectification,
        create,
        outbox,
        documents,
        people,
        year,
    ):
        module.register(console)
    return console


def routes(site: Site) -> APIRouter:
    return console_of(site).router
