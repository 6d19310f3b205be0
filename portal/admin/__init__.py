"""The administrator's room (管理后台, /admin): the people who run the year, signed in with a role.

It owns the console's pages and actions — signing in and out (``auth``), the 首页 (``home``), the
申报一览 and its Excel export (``applications``), an application's page (``application``) — and
the rules they all follow (``console``: the session cookie, the role check, CSRF, errors as pages,
the layout). Each page module has a ``register(console)``; ``routes`` calls them in turn. The
figures and lists come from the roof of ``models`` (``overview``, ``roster``, ``dossier``) and the
accounts from ``models.accounts``; the 申报书 is shown through the review room's public
``application_view``. No other room imports this one.
"""

__public__ = ("routes",)
