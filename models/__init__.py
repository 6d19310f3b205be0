"""The domain of a micro-venture philanthropy competition (微公益创投), in rooms.

Nothing in this package talks to SMTP, HTTP or Prefect: it holds the tables, the state machines,
the pure rules and the configuration schema. Tasks, flows, the portal and the CLI call into it.

- The kernel, at the top of this folder: settings, errors, types, money, states, audit, db,
  lifecycle (``set_state``) and links (signed personal links). It imports no room.
- The rooms, one package per stage or concern: ``competition``, ``call``, ``intake``,
  ``screening``, ``review``, ``funding``, ``supervision``, ``evaluation``; and ``documents`` and
  ``mail``, which every stage uses. A stage imports the kernel, competition, documents and mail,
  and an earlier stage only through the modules that stage lists in ``__public__``; never a later
  stage.
- The roof, above every room: ``tables`` (every table, for Alembic), ``setup`` (create or purge a
  whole competition) and ``timeline`` (which stage may run now).

``tests/test_import_rules.py`` keeps it so.
"""
