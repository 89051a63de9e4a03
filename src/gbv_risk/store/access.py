"""Who may see and change what: four roles, and a scope of districts or mahallas per user.

- administrator: everything, including users and erasure;
- psychologist: reads the cases of their scope, scores and plans them;
- officer: reads and records the cases of their scope (cases, incidents, orders, sessions,
  referrals, plans);
- researcher: no case record and no identity, only the de-identified ``research_*`` views.

On PostgreSQL the database enforces this, so ``psql`` gives a user no more than the CLI:
each user is a login role in a group role (``gbv_<role>``), row-level security limits every
case table to the cases in the user's scope, identities are readable only through a function
that checks the scope and writes an audit entry, and researchers are granted the views alone.
On SQLite (one person's laptop) ``scope.py`` applies the same rules in the library.
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, text

from ..errors import RecordError
from ..messages import _

ROLES = ("administrator", "psychologist", "officer", "researcher")
NAME = re.compile(r"^[a-z][a-z0-9_]{1,62}$")

# tables reached from a case, and how a row finds its case (a subquery RLS applies to)
CASE_TABLES = {
    "cases": None,
    "incidents": "EXISTS (SELECT 1 FROM cases c WHERE c.id = case_id)",
    "protection_orders": "EXISTS (SELECT 1 FROM cases c WHERE c.id = case_id)",
    "assessments": "EXISTS (SELECT 1 FROM cases c WHERE c.id = case_id)",
    "enrolments": "EXISTS (SELECT 1 FROM cases c WHERE c.id = case_id)",
    "referrals": "EXISTS (SELECT 1 FROM cases c WHERE c.id = case_id)",
    "plans": "EXISTS (SELECT 1 FROM cases c WHERE c.id = case_id)",
    "outcomes": "EXISTS (SELECT 1 FROM cases c WHERE c.id = case_id)",
    "plan_releases": "EXISTS (SELECT 1 FROM cases c WHERE c.id = case_id)",
    "order_extensions": "EXISTS (SELECT 1 FROM protection_orders o WHERE o.id = order_id)",
    "order_violations": "EXISTS (SELECT 1 FROM protection_orders o WHERE o.id = order_id)",
    "sessions": "EXISTS (SELECT 1 FROM enrolments e WHERE e.id = enrolment_id)",
    "enrolment_transitions": "EXISTS (SELECT 1 FROM enrolments e WHERE e.id = enrolment_id)",
    "session_corrections": "EXISTS (SELECT 1 FROM sessions x WHERE x.id = session_id)",
    "subjects": "gbv_subject_in_scope(id)",
    "subject_identities": "gbv_subject_in_scope(subject_id)",
}
READS = tuple(t for t in CASE_TABLES if t != "subject_identities")
WRITES = {
    "officer": {"cases": "INSERT, UPDATE", "subjects": "INSERT, UPDATE",
                "subject_identities": "INSERT, UPDATE", "incidents": "INSERT, UPDATE",
                "protection_orders": "INSERT, UPDATE", "order_extensions": "INSERT",
                "order_violations": "INSERT", "enrolments": "INSERT, UPDATE",
                "enrolment_transitions": "INSERT", "sessions": "INSERT, UPDATE",
                "session_corrections": "INSERT", "referrals": "INSERT, UPDATE",
                "plans": "INSERT", "outcomes": "INSERT, UPDATE", "plan_releases": "INSERT"},
    "psychologist": {"assessments": "INSERT", "plans": "INSERT", "referrals": "INSERT, UPDATE",
                     "plan_releases": "INSERT",
                     "enrolments": "INSERT, UPDATE", "enrolment_transitions": "INSERT",
                     "sessions": "INSERT"},       # enrolling schedules the sessions
}
RESEARCH_VIEWS = {
    "research_cases": "SELECT id AS case_key, district, mahalla, status, "
                      "{month}(opened_on) AS opened_month, {month}(closed_on) AS closed_month "
                      "FROM cases",
    "research_assessments": "SELECT id AS assessment_key, case_id AS case_key, "
                            "{month}(date) AS month, instrument, ruleset, ruleset_version, "
                            "content_hash, level, computed_level, override_level, provisional "
                            "FROM assessments",
    "research_enrolments": "SELECT id AS enrolment_key, case_id AS case_key, programme, "
                           "programme_version, provider, {month}(start_on) AS start_month, "
                           "status FROM enrolments",
    "research_sessions": "SELECT id AS session_key, enrolment_id AS enrolment_key, "
                         "{month}(scheduled_on) AS month, kind, outcome, absence_reason "
                         "FROM sessions",
    "research_outcomes": "SELECT case_id AS case_key, {month}(follow_up_until) AS "
                         "follow_up_month, recurred, {month}(recurred_on) AS recurred_month "
                         "FROM outcomes",
}
PG_MONTH = "gbv_month"


def views_ddl(dialect: str) -> list[str]:
    """De-identified views: surrogate keys, months instead of dates, no names, codes, notes."""
    month = PG_MONTH if dialect == "postgresql" else "gbv_month_sqlite"
    out = []
    for name, body in RESEARCH_VIEWS.items():
        sql = body.format(month=month)
        if dialect != "postgresql":
            sql = sql.replace("gbv_month_sqlite(", "strftime('%Y-%m', ")
            out.append(f"CREATE VIEW {name} AS {sql}")
        else:
            out.append(f"CREATE VIEW {name} WITH (security_barrier) AS {sql}")
    return out


def _group(role: str) -> str:
    return f"gbv_{role}"


def postgres_ddl(conn: Connection) -> list[str]:
    present = set(conn.exec_driver_sql(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'").scalars())
    out = [f"""DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{_group(r)}') THEN
          CREATE ROLE {_group(r)} NOLOGIN; END IF; END $$""" for r in ROLES]
    out += [
        f"""CREATE OR REPLACE FUNCTION {PG_MONTH}(d date) RETURNS text LANGUAGE sql IMMUTABLE
            AS $$ SELECT to_char(d, 'YYYY-MM') $$""",
        """CREATE OR REPLACE FUNCTION gbv_is_admin() RETURNS boolean LANGUAGE sql STABLE
            SECURITY DEFINER SET search_path = public, pg_temp AS $$
            SELECT pg_has_role(session_user, 'gbv_administrator', 'MEMBER')
                OR coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = session_user), false)
            $$""",
        """CREATE OR REPLACE FUNCTION gbv_in_scope(d text, m text) RETURNS boolean
            LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
            SELECT gbv_is_admin() OR EXISTS (SELECT 1 FROM user_scopes s
              WHERE s.user_name = session_user AND (s.district = d OR s.mahalla = m)) $$""",
        # a subject is in scope through an in-scope case, or while it has no case yet
        """CREATE OR REPLACE FUNCTION gbv_subject_in_scope(sid integer) RETURNS boolean
            LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
            SELECT gbv_is_admin()
                OR EXISTS (SELECT 1 FROM cases c WHERE c.subject_id = sid
                           AND gbv_in_scope(c.district, c.mahalla))
                OR NOT EXISTS (SELECT 1 FROM cases c WHERE c.subject_id = sid) $$""",
        """CREATE OR REPLACE FUNCTION gbv_read_identity(sid integer)
            RETURNS SETOF subject_identities LANGUAGE plpgsql SECURITY DEFINER
            SET search_path = public, pg_temp AS $$
            BEGIN
              -- only through a case in scope (not the brief no-case-yet allowance of writes)
              -- (a superuser is a member of every role, researchers' included)
              IF sid IS NULL OR NOT (gbv_is_admin() OR (
                  NOT pg_has_role(session_user, 'gbv_researcher', 'MEMBER')
                  AND EXISTS (SELECT 1 FROM cases c WHERE c.subject_id = sid
                              AND gbv_in_scope(c.district, c.mahalla)))) THEN
                RAISE EXCEPTION 'not in your scope' USING ERRCODE = 'insufficient_privilege';
              END IF;
              PERFORM gbv_audit_append('read', 'subject_identities', sid::text, 'identity');
              RETURN QUERY SELECT * FROM subject_identities WHERE subject_id = sid;
            END $$""",
        "REVOKE ALL ON FUNCTION gbv_read_identity(integer) FROM PUBLIC",
    ]
    for r in ("administrator", "psychologist", "officer"):
        out.append(f"GRANT EXECUTE ON FUNCTION gbv_read_identity(integer) TO {_group(r)}")
    for table in CASE_TABLES:
        if table in present:
            out += _row_security(table)
    out.append("GRANT ALL ON ALL TABLES IN SCHEMA public TO gbv_administrator")
    out.append("GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO gbv_administrator, "
               "gbv_officer, gbv_psychologist")
    out.append("REVOKE ALL ON subject_identities FROM gbv_administrator")
    out.append("GRANT INSERT, UPDATE, DELETE ON subject_identities TO gbv_administrator")
    for r in ("psychologist", "officer"):
        out.append(f"GRANT SELECT ON {', '.join(t for t in READS if t in present)} "
                   f"TO {_group(r)}")
        for table, privileges in WRITES.get(r, {}).items():
            if table in present:
                out.append(f"GRANT {privileges} ON {table} TO {_group(r)}")
    # RETURNING the new id and matching by keyed hash need these columns; the encrypted ones
    # stay unreadable except through gbv_read_identity (scope-checked and audited)
    out.append("GRANT SELECT (id, subject_id, national_id_match, key_id) ON subject_identities "
               "TO gbv_administrator, gbv_officer, gbv_psychologist")
    out += views_ddl("postgresql")
    out.append(f"GRANT SELECT ON {', '.join(RESEARCH_VIEWS)} TO gbv_researcher, "
               "gbv_administrator")
    out.append("REVOKE ALL ON audit_log FROM gbv_officer, gbv_psychologist, gbv_researcher")
    # every client checks the schema version before it starts
    out.append("GRANT SELECT ON alembic_version TO " + ", ".join(_group(r) for r in ROLES))
    return out


def _row_security(table: str) -> list[str]:
    via = CASE_TABLES[table]
    cond = "gbv_in_scope(district, mahalla)" if via is None else via
    return [f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
            f"CREATE POLICY scope ON {table} USING ({cond}) WITH CHECK ({cond})"]


def install_table(conn: Connection, table: str) -> None:
    """Row security and grants for a case table that a later migration adds, as ``install``
    gives them to the first ones (PostgreSQL; SQLite has the library's rules)."""
    if conn.dialect.name != "postgresql":
        return
    ddl = [*_row_security(table), f"GRANT ALL ON {table} TO gbv_administrator",
           f"GRANT USAGE ON SEQUENCE {table}_id_seq TO gbv_administrator, gbv_officer, "
           "gbv_psychologist"]
    for r in ("psychologist", "officer"):
        ddl.append(f"GRANT SELECT ON {table} TO {_group(r)}")
        if table in WRITES.get(r, {}):
            ddl.append(f"GRANT {WRITES[r][table]} ON {table} TO {_group(r)}")
    for statement in ddl:
        conn.exec_driver_sql(statement)


def install(conn: Connection) -> None:
    ddl = (postgres_ddl(conn) if conn.dialect.name == "postgresql"
           else views_ddl(conn.dialect.name))
    for statement in ddl:       # psycopg reads % as a parameter marker
        conn.exec_driver_sql(statement.replace("%", "%%") if conn.dialect.name == "postgresql"
                             else statement)


def uninstall(conn: Connection) -> None:
    for name in RESEARCH_VIEWS:
        conn.exec_driver_sql(f"DROP VIEW IF EXISTS {name}")
    if conn.dialect.name != "postgresql":
        return
    for table in CASE_TABLES:
        conn.exec_driver_sql(f"DROP POLICY IF EXISTS scope ON {table}")
        conn.exec_driver_sql(f"ALTER TABLE IF EXISTS {table} DISABLE ROW LEVEL SECURITY")
    for fn in ("gbv_read_identity(integer)", "gbv_subject_in_scope(integer)",
               "gbv_in_scope(text, text)", "gbv_is_admin()", f"{PG_MONTH}(date)"):
        conn.exec_driver_sql(f"DROP FUNCTION IF EXISTS {fn}")


def add_user(conn: Connection, name: str, role: str, districts: list[str],
             mahallas: list[str]) -> None:
    """A user with a role and a scope; on PostgreSQL also a login role in the role's group."""
    if not NAME.match(name):
        raise RecordError(_("user name {name}: use 2-63 lower-case letters, digits or _, "
                            "starting with a letter").format(name=repr(name)))
    if role not in ROLES:
        raise RecordError(_("role {role}: expected one of {roles}").format(
            role=repr(role), roles=", ".join(ROLES)))
    if role in ("officer", "psychologist") and not (districts or mahallas):
        raise RecordError(_("a {role} needs a scope: give --district or --mahalla").format(
            role=role))
    if conn.execute(text("SELECT 1 FROM users WHERE name = :n"), {"n": name}).first():
        raise RecordError(_("user {name} already exists").format(name=name))
    conn.execute(text("INSERT INTO users (name, role) VALUES (:n, :r)"), {"n": name, "r": role})
    for d in districts:
        conn.execute(text("INSERT INTO user_scopes (user_name, district) VALUES (:n, :d)"),
                     {"n": name, "d": d})
    for m in mahallas:
        conn.execute(text("INSERT INTO user_scopes (user_name, mahalla) VALUES (:n, :m)"),
                     {"n": name, "m": m})
    if conn.dialect.name == "postgresql":
        exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"),
                              {"n": name}).first()
        extra = " CREATEROLE" if role == "administrator" else ""
        if exists:
            conn.exec_driver_sql(f'GRANT {_group(role)} TO "{name}"')
        else:
            conn.exec_driver_sql(f'CREATE ROLE "{name}" LOGIN{extra} IN ROLE {_group(role)}')


def users(conn: Connection) -> list[dict]:
    rows = conn.execute(text(
        "SELECT u.name, u.role, s.district, s.mahalla FROM users u LEFT JOIN user_scopes s "
        "ON s.user_name = u.name ORDER BY u.name, s.id")).all()
    out: dict[str, dict] = {}
    for name, role, district, mahalla in rows:
        u = out.setdefault(name, {"name": name, "role": role, "districts": [], "mahallas": []})
        if district:
            u["districts"].append(district)
        if mahalla:
            u["mahallas"].append(mahalla)
    return list(out.values())
