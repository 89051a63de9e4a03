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

import hashlib
import re

from sqlalchemy import Connection, inspect, text

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
# what a written row refers to beyond its case must be in the writer's reach as well
CHECKS = {
    "cases": " AND gbv_subject_linkable(subject_id)",
    "assessments": " AND (supersedes_id IS NULL OR gbv_assessment_of_case(supersedes_id, case_id))",
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
# Research keys are keyed pseudonyms, not the internal ids: those are sequential and map 1:1
# onto the case codes. The key is a random secret kept in ``gbv_secret``, which nobody but the
# owner reads; the views (run with the owner's rights) hash it with each id inline, so there is
# no function a researcher could call to pseudonymise an id of his choice.
PSEUDONYM = {"postgresql": "left(encode(sha256(convert_to(k.value || ':{kind}:' || {col}::text, "
                           "'UTF8')), 'hex'), 16)",
             "sqlite": "substr(gbv_sha256(k.value || ':{kind}:' || {col}), 1, 16)"}
SECRET = "(SELECT value FROM gbv_secret WHERE name = 'research') AS k"
RESEARCH_VIEWS = {
    "research_cases": "SELECT {p_case_id} AS case_key, district, mahalla, status, "
                      "{month}(opened_on) AS opened_month, {month}(closed_on) AS closed_month "
                      "FROM cases AS t, {secret}",
    "research_assessments": "SELECT {p_assessment_id} AS assessment_key, {p_case_case_id} AS "
                            "case_key, {month}(date) AS month, instrument, ruleset, "
                            "ruleset_version, content_hash, level, computed_level, "
                            "override_level, provisional FROM assessments AS t, {secret}",
    "research_enrolments": "SELECT {p_enrolment_id} AS enrolment_key, {p_case_case_id} AS "
                           "case_key, programme, programme_version, provider, "
                           "{month}(start_on) AS start_month, status FROM enrolments AS t, "
                           "{secret}",
    "research_sessions": "SELECT {p_session_id} AS session_key, {p_enrolment_enrolment_id} AS "
                         "enrolment_key, {month}(scheduled_on) AS month, kind, outcome, "
                         "absence_reason FROM sessions AS t, {secret}",
    "research_outcomes": "SELECT {p_case_case_id} AS case_key, {month}(follow_up_until) AS "
                         "follow_up_month, recurred, {month}(recurred_on) AS recurred_month "
                         "FROM outcomes AS t, {secret}",
}
PG_MONTH = "gbv_month"


def _pseudonyms(dialect: str) -> dict[str, str]:
    shape = PSEUDONYM["postgresql" if dialect == "postgresql" else "sqlite"]
    out = {}
    for kind in ("case", "assessment", "enrolment", "session"):
        out[f"p_{kind}_id"] = shape.format(kind=kind, col="t.id")
        out[f"p_{kind}_{kind}_id"] = shape.format(kind=kind, col=f"t.{kind}_id")
    return out


def views_ddl(dialect: str) -> list[str]:
    """De-identified views: keyed pseudonyms instead of ids, months instead of dates, no names,
    codes or notes."""
    pg = dialect == "postgresql"
    month = PG_MONTH if pg else "gbv_month_sqlite"
    out = []
    for name, body in RESEARCH_VIEWS.items():
        sql = body.format(month=month, secret=SECRET, **_pseudonyms(dialect))
        if not pg:
            sql = sql.replace("gbv_month_sqlite(", "strftime('%Y-%m', ")
            out.append(f"DROP VIEW IF EXISTS {name}")
            out.append(f"CREATE VIEW {name} AS {sql}")
        else:
            out.append(f"DROP VIEW IF EXISTS {name}")
            out.append(f"CREATE VIEW {name} WITH (security_barrier) AS {sql}")
    return out


# Group roles are cluster-wide in PostgreSQL, so each database has its own four: a login made
# an administrator of one database is nobody in another on the same server. The name is
# derived from the database's name, the same way here and in SQL (``gbv_group``), so function
# bodies and policies hold no database-specific name and a backup restores into a database of
# another name.
GROUP_DB = re.compile(r"[a-z0-9_]{1,36}")
OLD_GROUPS = tuple(f"gbv_{r}" for r in ROLES)      # shared by every database before 0006


def group_name(database: str, role: str) -> str:
    """The group role of ``role`` in the database called ``database``."""
    if role not in ROLES:
        raise ValueError(role)
    tag = database if GROUP_DB.fullmatch(database) else hashlib.md5(
        database.encode("utf-8")).hexdigest()[:16]
    return f"gbv_{tag}_{role}"


def _database(conn: Connection) -> str:
    return conn.exec_driver_sql("SELECT current_database()").scalar_one()


def group(conn: Connection, role: str) -> str:
    """The group role of ``role`` in the database ``conn`` is connected to."""
    return group_name(_database(conn), role)


def groups(conn: Connection) -> dict[str, str]:
    database = _database(conn)
    return {r: group_name(database, r) for r in ROLES}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# SECURITY DEFINER functions run as the schema owner: each one is narrow, sets its search
# path, and is executable only by the groups listed with it (never by PUBLIC).
_DEFINER = "SECURITY DEFINER SET search_path = public, pg_temp"
FUNCTIONS = {
    "gbv_group(text)": (
        """CREATE OR REPLACE FUNCTION gbv_group(p_role text) RETURNS text LANGUAGE sql STABLE
        SET search_path = pg_catalog, pg_temp AS $$
        SELECT 'gbv_' || CASE WHEN current_database() ~ '^[a-z0-9_]{1,36}$'
               THEN current_database() ELSE left(md5(current_database()), 16) END
               || '_' || p_role $$""", ROLES),
    f"{PG_MONTH}(date)": (
        f"""CREATE OR REPLACE FUNCTION {PG_MONTH}(d date) RETURNS text LANGUAGE sql IMMUTABLE
        AS $$ SELECT to_char(d, 'YYYY-MM') $$""", ROLES),
    "gbv_is_admin()": (
        f"""CREATE OR REPLACE FUNCTION gbv_is_admin() RETURNS boolean LANGUAGE sql STABLE
        {_DEFINER} AS $$
        SELECT pg_has_role(session_user, gbv_group('administrator'), 'MEMBER')
            OR coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = session_user), false)
        $$""", ROLES),
    "gbv_in_scope(text, text)": (
        f"""CREATE OR REPLACE FUNCTION gbv_in_scope(d text, m text) RETURNS boolean
        LANGUAGE sql STABLE {_DEFINER} AS $$
        SELECT gbv_is_admin() OR EXISTS (SELECT 1 FROM user_scopes s
          WHERE s.user_name = session_user AND (s.district = d OR s.mahalla = m)) $$""",
        ROLES),
    # a subject is in scope through an in-scope case, or while it has no case yet
    "gbv_subject_in_scope(integer)": (
        f"""CREATE OR REPLACE FUNCTION gbv_subject_in_scope(sid integer) RETURNS boolean
        LANGUAGE sql STABLE {_DEFINER} AS $$
        SELECT gbv_is_admin()
            OR EXISTS (SELECT 1 FROM cases c WHERE c.subject_id = sid
                       AND gbv_in_scope(c.district, c.mahalla))
            OR NOT EXISTS (SELECT 1 FROM cases c WHERE c.subject_id = sid) $$""", ROLES),
    # a case may name a subject only if every other case of that subject is in the writer's
    # scope too: else linking a case would open someone else's identity to him
    "gbv_subject_linkable(integer)": (
        f"""CREATE OR REPLACE FUNCTION gbv_subject_linkable(sid integer) RETURNS boolean
        LANGUAGE sql STABLE {_DEFINER} AS $$
        SELECT gbv_is_admin() OR (sid IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM cases c WHERE c.subject_id = sid
            AND NOT gbv_in_scope(c.district, c.mahalla))) $$""", ROLES),
    # a correction supersedes an assessment of the same case, never another case's
    "gbv_assessment_of_case(integer, integer)": (
        f"""CREATE OR REPLACE FUNCTION gbv_assessment_of_case(aid integer, cid integer)
        RETURNS boolean LANGUAGE sql STABLE {_DEFINER} AS $$
        SELECT EXISTS (SELECT 1 FROM assessments a WHERE a.id = aid AND a.case_id = cid) $$""",
        ROLES),
    "gbv_read_identity(integer)": (
        f"""CREATE OR REPLACE FUNCTION gbv_read_identity(sid integer)
        RETURNS SETOF subject_identities LANGUAGE plpgsql {_DEFINER} AS $$
        BEGIN
          -- only through a case in scope (not the brief no-case-yet allowance of writes)
          -- (a superuser is a member of every role, researchers' included)
          IF sid IS NULL OR NOT (gbv_is_admin() OR (
              NOT pg_has_role(session_user, gbv_group('researcher'), 'MEMBER')
              AND EXISTS (SELECT 1 FROM cases c WHERE c.subject_id = sid
                          AND gbv_in_scope(c.district, c.mahalla)))) THEN
            RAISE EXCEPTION 'not in your scope' USING ERRCODE = 'insufficient_privilege';
          END IF;
          PERFORM gbv_audit_append('read', 'subject_identities', sid::text, 'identity');
          RETURN QUERY SELECT * FROM subject_identities WHERE subject_id = sid;
        END $$""", ("administrator", "psychologist", "officer")),
    # the only way an administrator makes a user: one login in exactly one of this database's
    # groups, with a scope, and no other attribute (no CREATEROLE: on PostgreSQL 15 that lets
    # its holder grant himself any role, the server's program execution included)
    "gbv_add_user(text, text, text[], text[])": (
        f"""CREATE OR REPLACE FUNCTION gbv_add_user(p_name text, p_role text,
            p_districts text[], p_mahallas text[]) RETURNS void LANGUAGE plpgsql {_DEFINER}
        AS $$
        DECLARE r pg_roles%ROWTYPE; v text;
        BEGIN
          IF NOT gbv_is_admin() THEN
            RAISE EXCEPTION 'only an administrator adds users'
              USING ERRCODE = 'insufficient_privilege';
          END IF;
          IF p_name IS NULL OR p_name !~ '^[a-z][a-z0-9_]{{1,62}}$' OR p_name LIKE 'pg\\_%'
             OR p_name LIKE 'gbv\\_%' THEN
            RAISE EXCEPTION 'user name %: use 2-63 lower-case letters, digits or _, starting '
              'with a letter (not pg_ or gbv_)', quote_literal(coalesce(p_name, ''))
              USING ERRCODE = 'invalid_parameter_value';
          END IF;
          IF p_role IS NULL OR p_role NOT IN ('administrator', 'psychologist', 'officer',
                                              'researcher') THEN
            RAISE EXCEPTION 'role %: not a role', quote_literal(coalesce(p_role, ''))
              USING ERRCODE = 'invalid_parameter_value';
          END IF;
          IF EXISTS (SELECT 1 FROM users WHERE name = p_name) THEN
            RAISE EXCEPTION 'user % already exists', p_name USING ERRCODE = 'unique_violation';
          END IF;
          SELECT * INTO r FROM pg_roles WHERE rolname = p_name;
          IF FOUND THEN
            -- a login of another database of this server may become a user here too, but
            -- never a role with powers beyond a plain login, nor the owner or a group
            IF r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication
               OR r.rolbypassrls OR NOT r.rolcanlogin
               OR EXISTS (SELECT 1 FROM pg_database d WHERE d.datdba = r.oid)
               OR EXISTS (SELECT 1 FROM pg_class c WHERE c.relowner = r.oid
                          AND c.relnamespace = 'public'::regnamespace) THEN
              RAISE EXCEPTION 'role % exists and is not a plain login: it cannot become a user',
                p_name USING ERRCODE = 'insufficient_privilege';
            END IF;
            EXECUTE format('GRANT %I TO %I', gbv_group(p_role), p_name);
          ELSE
            EXECUTE format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE '
                           'NOREPLICATION NOBYPASSRLS IN ROLE %I', p_name, gbv_group(p_role));
          END IF;
          INSERT INTO users (name, role) VALUES (p_name, p_role);
          FOREACH v IN ARRAY coalesce(p_districts, '{{}}') LOOP
            INSERT INTO user_scopes (user_name, district) VALUES (p_name, v);
          END LOOP;
          FOREACH v IN ARRAY coalesce(p_mahallas, '{{}}') LOOP
            INSERT INTO user_scopes (user_name, mahalla) VALUES (p_name, v);
          END LOOP;
        END $$""", ("administrator",)),
}


def postgres_ddl(conn: Connection) -> list[str]:
    """Everything the database enforces, from scratch or over an older install: it revokes
    before it grants, so rights an earlier version gave (ALL, TRUNCATE, TRIGGER, the shared
    groups) do not survive a re-install."""
    present = set(conn.exec_driver_sql(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'").scalars())
    g = groups(conn)
    every = ", ".join(_q(n) for n in g.values())
    staff = ", ".join(_q(g[r]) for r in ("administrator", "psychologist", "officer"))
    database = _q(_database(conn))
    out = [f"""DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{name}') THEN
          CREATE ROLE {_q(name)} NOLOGIN; END IF; END $$""" for name in g.values()]
    # nobody connects who is not a user of this database; nobody creates objects in it
    out += [f"REVOKE ALL ON DATABASE {database} FROM PUBLIC",
            f"GRANT CONNECT ON DATABASE {database} TO {every}",
            "REVOKE CREATE ON SCHEMA public FROM PUBLIC"]
    stale = [*g.values(), *OLD_GROUPS]
    out.append(f"""DO $$ DECLARE n text; BEGIN
        FOREACH n IN ARRAY ARRAY[{", ".join(repr(x) for x in stale)}] LOOP
          IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = n) THEN
            EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA public FROM %I', n);
            EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM %I', n);
            EXECUTE format('REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM %I', n);
          END IF;
        END LOOP;
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname IN
                   ('gbv_administrator', 'gbv_officer', 'gbv_psychologist', 'gbv_researcher'))
        THEN
          EXECUTE format('REVOKE CONNECT ON DATABASE %I FROM %s', current_database(),
            (SELECT string_agg(quote_ident(rolname), ', ') FROM pg_roles WHERE rolname IN
             ('gbv_administrator', 'gbv_officer', 'gbv_psychologist', 'gbv_researcher')));
        END IF;
        END $$""")
    out.append("REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC")
    for signature, (ddl, allowed) in FUNCTIONS.items():
        out += [ddl, f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC",
                f"GRANT EXECUTE ON FUNCTION {signature} TO "
                + ", ".join(_q(g[r]) for r in allowed)]
    for table in CASE_TABLES:
        if table in present:
            out += _row_security(table)
    tables = sorted(t for t in present if t not in ("audit_log", "alembic_version",
                                                    "subject_identities", "users",
                                                    "user_scopes", "gbv_secret"))
    out.append(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {', '.join(tables)} "
               f"TO {_q(g['administrator'])}")
    out.append(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {staff}")
    out.append(f"GRANT INSERT, UPDATE, DELETE ON subject_identities TO {_q(g['administrator'])}")
    for r in ("psychologist", "officer"):
        out.append(f"GRANT SELECT ON {', '.join(t for t in READS if t in present)} "
                   f"TO {_q(g[r])}")
        for table, privileges in WRITES.get(r, {}).items():
            if table in present:
                out.append(f"GRANT {privileges} ON {table} TO {_q(g[r])}")
    # RETURNING the new id and matching by keyed hash need these columns; the encrypted ones
    # stay unreadable except through gbv_read_identity (scope-checked and audited)
    out.append("GRANT SELECT (id, subject_id, national_id_match, key_id) ON subject_identities "
               f"TO {staff}")
    # users are made through gbv_add_user alone; the log is read, never written, by hand
    out.append(f"GRANT SELECT ON users, user_scopes, audit_log TO {_q(g['administrator'])}")
    out += views_ddl("postgresql")
    out.append(f"GRANT SELECT ON {', '.join(RESEARCH_VIEWS)} TO {_q(g['researcher'])}, "
               f"{_q(g['administrator'])}")
    # every client checks the schema version before it starts
    out.append(f"GRANT SELECT ON alembic_version TO {every}")
    return out


def _row_security(table: str) -> list[str]:
    via = CASE_TABLES[table]
    cond = "gbv_in_scope(district, mahalla)" if via is None else via
    check = cond + CHECKS.get(table, "")
    return [f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
            f"DROP POLICY IF EXISTS scope ON {table}",
            f"CREATE POLICY scope ON {table} USING ({cond}) WITH CHECK ({check})"]


def install_table(conn: Connection, table: str) -> None:
    """Row security and grants for a case table that a later migration adds, as ``install``
    gives them to the first ones (PostgreSQL; SQLite has the library's rules)."""
    if conn.dialect.name != "postgresql":
        return
    g = groups(conn)
    ddl = [*_row_security(table),
           f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {_q(g['administrator'])}",
           f"GRANT USAGE ON SEQUENCE {table}_id_seq TO "
           + ", ".join(_q(g[r]) for r in ("administrator", "psychologist", "officer"))]
    for r in ("psychologist", "officer"):
        ddl.append(f"GRANT SELECT ON {table} TO {_q(g[r])}")
        if table in WRITES.get(r, {}):
            ddl.append(f"GRANT {WRITES[r][table]} ON {table} TO {_q(g[r])}")
    for statement in ddl:
        conn.exec_driver_sql(statement)


SECRET_DDL = ("CREATE TABLE IF NOT EXISTS gbv_secret (id INTEGER PRIMARY KEY, "
              "name VARCHAR(40) NOT NULL UNIQUE, value VARCHAR(128) NOT NULL)")


def install_secret(conn: Connection) -> None:
    """The research pseudonyms' key: random, made once per store, readable by the owner
    alone (no grant on PostgreSQL)."""
    import secrets

    from . import audit

    tables = set(inspect(conn).get_table_names())
    if "gbv_secret" not in tables:
        conn.exec_driver_sql(SECRET_DDL)
        if audit.LOG in tables:
            audit.install_table(conn, "gbv_secret")
    if not conn.exec_driver_sql("SELECT 1 FROM gbv_secret WHERE name = 'research'").first():
        conn.execute(text("INSERT INTO gbv_secret (id, name, value) VALUES (1, 'research', :v)"),
                     {"v": secrets.token_hex(32)})


def install(conn: Connection) -> None:
    install_secret(conn)
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
    for fn in FUNCTIONS:
        conn.exec_driver_sql(f"DROP FUNCTION IF EXISTS {fn}")


def add_user(conn: Connection, name: str, role: str, districts: list[str],
             mahallas: list[str]) -> None:
    """A user with a role and a scope; on PostgreSQL a login role in the role's group of this
    database, made by ``gbv_add_user`` (which checks all of this again in the database)."""
    if not NAME.fullmatch(name) or name.startswith(("pg_", "gbv_")):
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
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT gbv_add_user(:n, :r, CAST(:d AS text[]), "
                          "CAST(:m AS text[]))"),
                     {"n": name, "r": role, "d": list(districts), "m": list(mahallas)})
        return
    conn.execute(text("INSERT INTO users (name, role) VALUES (:n, :r)"), {"n": name, "r": role})
    for d in districts:
        conn.execute(text("INSERT INTO user_scopes (user_name, district) VALUES (:n, :d)"),
                     {"n": name, "d": d})
    for m in mahallas:
        conn.execute(text("INSERT INTO user_scopes (user_name, mahalla) VALUES (:n, :m)"),
                     {"n": name, "m": m})


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
