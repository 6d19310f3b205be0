"""The domain of a micro-venture philanthropy competition (微公益创投).

Nothing in this package talks to SMTP, HTTP or Prefect: it holds the tables, the state machines,
the pure rules and the configuration schema. Tasks, flows, the portal and the CLI call into it.
"""
