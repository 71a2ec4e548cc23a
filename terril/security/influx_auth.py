"""InfluxDB 1.x users and privileges: the statements that create them, and applying them to a server.

Roles: ``admin`` (all privileges, operators only), ``collector`` (WRITE on the
database: it cannot read), ``reader`` (READ: Grafana, exports; it cannot write),
``analytics`` (ALL on the database: the jobs read raw points and write rollups).
:func:`influx_init_statements` is pure, for reuse in a production init script;
:func:`ensure_influx_users` applies it idempotently (first admin created without
credentials, as InfluxDB allows only while no user exists).
"""

from __future__ import annotations

from collections.abc import Mapping

from terril.errors import InfluxAuthError, InfluxError
from terril.influx import InfluxClient, quote_ident, quote_literal

#: role -> InfluxDB user name
INFLUX_USERS = {"admin": "terril_admin", "collector": "terril_collector", "reader": "terril_reader",
                "analytics": "terril_analytics"}
#: role -> privilege on the Terril database (admin: cluster-wide ALL PRIVILEGES)
INFLUX_PRIVILEGES = {"collector": "WRITE", "reader": "READ", "analytics": "ALL"}


def influx_init_statements(database: str, passwords: Mapping[str, str]) -> list[str]:
    """InfluxQL statements creating the admin, the database and one user per role of ``passwords``.

    ``passwords``: role (``admin``, ``collector``, ``reader``, ``analytics``) -> clear password.
    Identifiers are checked and passwords quoted as string literals, never interpolated raw.
    The statements hold passwords: run them over HTTPS/POST or from a 0600 file, never log them.
    """
    unknown = set(passwords) - set(INFLUX_USERS)
    if unknown:
        raise ValueError(f"unknown InfluxDB roles: {', '.join(sorted(unknown))}")
    out = []
    if "admin" in passwords:
        out.append(f"CREATE USER {quote_ident(INFLUX_USERS['admin'])} WITH PASSWORD "
                   f"{quote_literal(passwords['admin'])} WITH ALL PRIVILEGES")
    out.append(f"CREATE DATABASE {quote_ident(database)}")
    for role, privilege in INFLUX_PRIVILEGES.items():
        if role in passwords:
            user = quote_ident(INFLUX_USERS[role])
            out.append(f"CREATE USER {user} WITH PASSWORD {quote_literal(passwords[role])}")
            out.append(f"GRANT {privilege} ON {quote_ident(database)} TO {user}")
    return out


def ensure_influx_users(url: str, database: str, passwords: Mapping[str, str], timeout_s: float = 10.0) -> None:
    """Make the server at ``url`` hold exactly the users and grants of ``passwords`` (idempotent).

    ``passwords`` must contain ``admin``. Existing users get their password reset to the given one.
    """
    admin_user, admin_password = INFLUX_USERS["admin"], passwords["admin"]
    with InfluxClient(url, database, username=admin_user, password=admin_password, timeout_s=timeout_s) as admin:
        try:
            existing = {row[0] for s in admin.query("SHOW USERS", epoch=None) for row in s.values}
        except InfluxAuthError:
            # no user yet: InfluxDB accepts the first admin without credentials
            with InfluxClient(url, database, timeout_s=timeout_s) as anonymous:
                anonymous.query(influx_init_statements(database, {"admin": admin_password})[0], method="POST",
                                epoch=None)
            existing = {admin_user}
        for statement in influx_init_statements(database, {k: v for k, v in passwords.items() if k != "admin"}):
            user = next((INFLUX_USERS[r] for r in INFLUX_PRIVILEGES if statement.startswith(
                f"CREATE USER {quote_ident(INFLUX_USERS[r])} ")), None)
            if user is not None and user in existing:
                role = next(r for r, u in INFLUX_USERS.items() if u == user)
                statement = f"SET PASSWORD FOR {quote_ident(user)} = {quote_literal(passwords[role])}"
            try:
                admin.query(statement, method="POST", epoch=None)
            except InfluxError as err:  # never echo the statement: it holds a password
                raise InfluxAuthError(f"InfluxDB refused a user-management statement: {err.status}",
                                      status=err.status) from None
