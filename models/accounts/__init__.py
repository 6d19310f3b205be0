"""Accounts of the administrator's console (管理后台): who may sign in, with which role, and how.

It owns the people who run the year from the console — ``User`` with a role (管理员 does
everything, 财务 reads everything and records signing dates and payments, 只读 reads and
downloads), their Argon2 password hashes, the sign-in attempts that throttle and lock out a name
or an address after repeated failures (kept in the database, so the lock holds across workers and
restarts), and the server-side sessions a signed cookie points at (idle timeout, absolute lifetime,
ended at logout, on a new password or when the account is disabled). Every change is audited on
the ``user`` entity.

It imports only the kernel; no stage imports it (the roof's ``tables`` registers its tables; the
portal's admin room and the CLI's ``grantflow admin`` use it).
"""

__public__ = ("roles", "tables", "users", "login", "sessions")
