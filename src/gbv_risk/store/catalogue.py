"""The security catalogue of a PostgreSQL case store, and what a restore may not change in it.

A backup is a file anyone with the disk could have edited: row security switched off on
``cases``, an audit trigger dropped, ``gbv_in_scope`` rewritten to say yes. Restoring it would
give back a store that looks whole (schema up to date, audit chain intact) but protects
nothing. So a restore compares what protects the restored store with what its schema revision
defines, and refuses the backup on any difference.

"What the revision defines" is what a fresh migration to that revision produces, taken from a
scratch database (so there is no list here to keep in step with the migrations). The snapshot
holds, for every schema but the system ones: the relations and their row-security flags and
view options and definitions, policies, triggers, rules, functions (definition digest,
SECURITY DEFINER, settings), operators, grants on tables, columns, sequences, functions,
schemas and the database, default privileges, extensions, event triggers and publications.
Two databases of different names compare equal: each database's group roles are written as
``<role>`` and each object's owner as ``<owner>``.

The snapshot is one SQL query, run the same way in the scratch database and, inside the
restore's transaction and before its COMMIT, in the restored one (``check_sql``): a difference
raises an error there, so nothing is committed. Grants are never taken from a backup: the
restore gives the restored store the scratch database's grants, re-addressed to its own group
roles (``grant_sql``).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping

from ..messages import _

# every schema but the server's own; objects an extension brings belong to the extension
_SCHEMAS = """ns AS (
  SELECT n.oid, n.nspname, n.nspowner, n.nspacl FROM pg_catalog.pg_namespace n
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
    AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'),
ext AS (
  SELECT d.classid, d.objid FROM pg_catalog.pg_depend d WHERE d.deptype = 'e'),
rel AS (
  SELECT c.oid, c.relname, c.relkind, c.relowner, c.relacl, c.relrowsecurity,
         c.relforcerowsecurity, c.reloptions,
         pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname) AS qname
  FROM pg_catalog.pg_class c JOIN ns n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
    AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                    AND ext.objid = c.oid)),
fn AS (
  SELECT p.oid, p.prokind, p.proowner, p.proacl,
         pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(p.proname) || '('
           || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')' AS qname
  FROM pg_catalog.pg_proc p JOIN ns n ON n.oid = p.pronamespace
  WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                    AND ext.objid = p.oid))"""

# (key, detail): key = kind TAB name; detail a JSON object
_SNAPSHOT = """WITH grp(name, label) AS (VALUES {groups}),
who AS (
  SELECT r.oid, coalesce('<' || g.label || '>', r.rolname::text) AS label
  FROM pg_catalog.pg_roles r LEFT JOIN grp g ON g.name = r.rolname),
{schemas},
acl AS (
  SELECT 'table' AS kind, c.qname AS name, NULL::text AS col, c.relowner AS owner, a.*
  FROM rel c, pg_catalog.aclexplode(coalesce(c.relacl, pg_catalog.acldefault('r', c.relowner))) a
  WHERE c.relkind <> 'S'
  UNION ALL
  SELECT 'sequence', c.qname, NULL, c.relowner, a.*
  FROM rel c, pg_catalog.aclexplode(coalesce(c.relacl, pg_catalog.acldefault('s', c.relowner))) a
  WHERE c.relkind = 'S'
  UNION ALL
  SELECT 'column', c.qname, att.attname, c.relowner, a.*
  FROM rel c JOIN pg_catalog.pg_attribute att ON att.attrelid = c.oid
    AND att.attnum > 0 AND NOT att.attisdropped AND att.attacl IS NOT NULL,
    pg_catalog.aclexplode(att.attacl) a
  UNION ALL
  SELECT 'routine', f.qname, NULL, f.proowner, a.*
  FROM fn f, pg_catalog.aclexplode(coalesce(f.proacl, pg_catalog.acldefault('f', f.proowner))) a
  UNION ALL
  SELECT 'schema', pg_catalog.quote_ident(n.nspname), NULL, n.nspowner, a.*
  FROM ns n, pg_catalog.aclexplode(coalesce(n.nspacl, pg_catalog.acldefault('n', n.nspowner))) a
  UNION ALL
  SELECT 'database', '', NULL, d.datdba, a.*
  FROM pg_catalog.pg_database d,
    pg_catalog.aclexplode(coalesce(d.datacl, pg_catalog.acldefault('d', d.datdba))) a
  WHERE d.datname = pg_catalog.current_database()),
acl_who AS (
  SELECT acl.*, CASE WHEN acl.grantee = 0 THEN 'PUBLIC' WHEN acl.grantee = acl.owner
    THEN '<owner>' ELSE coalesce((SELECT w.label FROM who w WHERE w.oid = acl.grantee),
                                 acl.grantee::text) END AS grantee_label
  FROM acl)
SELECT 'relation' || E'\\t' || c.qname, pg_catalog.jsonb_build_object(
         'kind', c.relkind::text, 'row_security', c.relrowsecurity,
         'forced', c.relforcerowsecurity, 'options', pg_catalog.to_jsonb(c.reloptions),
         'definition', CASE WHEN c.relkind IN ('v', 'm')
           THEN pg_catalog.md5(pg_catalog.pg_get_viewdef(c.oid)) END)
FROM rel c
UNION ALL
SELECT 'policy' || E'\\t' || c.qname || '.' || pg_catalog.quote_ident(p.polname),
  pg_catalog.jsonb_build_object('command', p.polcmd::text, 'permissive', p.polpermissive,
    'roles', (SELECT pg_catalog.jsonb_agg(x.label ORDER BY x.label) FROM (
                SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE coalesce((SELECT w.label FROM who w
                  WHERE w.oid = r), r::text) END AS label
                FROM pg_catalog.unnest(p.polroles) r) x),
    'using', pg_catalog.md5(coalesce(pg_catalog.pg_get_expr(p.polqual, p.polrelid), '')),
    'check', pg_catalog.md5(coalesce(pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid), '')))
FROM pg_catalog.pg_policy p JOIN rel c ON c.oid = p.polrelid
UNION ALL
SELECT 'trigger' || E'\\t' || c.qname || '.' || pg_catalog.quote_ident(t.tgname),
  pg_catalog.jsonb_build_object('enabled', t.tgenabled::text,
    'definition', pg_catalog.md5(pg_catalog.pg_get_triggerdef(t.oid)))
FROM pg_catalog.pg_trigger t JOIN rel c ON c.oid = t.tgrelid
WHERE NOT t.tgisinternal
UNION ALL
SELECT 'rule' || E'\\t' || c.qname || '.' || pg_catalog.quote_ident(r.rulename),
  pg_catalog.jsonb_build_object('enabled', r.ev_enabled::text,
    'definition', pg_catalog.md5(pg_catalog.pg_get_ruledef(r.oid)))
FROM pg_catalog.pg_rewrite r JOIN rel c ON c.oid = r.ev_class
WHERE r.rulename <> '_RETURN'
UNION ALL
SELECT 'routine' || E'\\t' || f.qname, pg_catalog.jsonb_build_object(
    'kind', p.prokind::text, 'security_definer', p.prosecdef, 'volatility', p.provolatile::text,
    'settings', pg_catalog.to_jsonb(p.proconfig), 'leakproof', p.proleakproof,
    'definition', pg_catalog.md5(CASE WHEN p.prokind IN ('f', 'p')
      THEN pg_catalog.pg_get_functiondef(p.oid) ELSE p.prosrc END))
FROM fn f JOIN pg_catalog.pg_proc p ON p.oid = f.oid
UNION ALL
SELECT 'operator' || E'\\t' || pg_catalog.quote_ident(n.nspname) || '.' || o.oprname || '('
    || coalesce(pg_catalog.format_type(o.oprleft, NULL), 'NONE') || ', '
    || coalesce(pg_catalog.format_type(o.oprright, NULL), 'NONE') || ')',
  pg_catalog.jsonb_build_object('function', o.oprcode::pg_catalog.regprocedure::text)
FROM pg_catalog.pg_operator o JOIN ns n ON n.oid = o.oprnamespace
WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_catalog.pg_operator'::pg_catalog.regclass
                  AND ext.objid = o.oid)
UNION ALL
SELECT 'grant' || E'\\t' || a.privilege_type || ' ' || a.kind || ' ' || a.name
    || coalesce('(' || pg_catalog.quote_ident(a.col) || ')', '') || ' ' || a.grantee_label,
  pg_catalog.jsonb_build_object('privilege', a.privilege_type, 'on', a.kind, 'name', a.name,
    'column', a.col, 'to', a.grantee_label, 'grantable', a.is_grantable)
FROM acl_who a
UNION ALL
SELECT 'default privileges' || E'\\t' || coalesce((SELECT w.label FROM who w
    WHERE w.oid = d.defaclrole), '') || ' ' || coalesce((SELECT pg_catalog.quote_ident(n.nspname)
    FROM pg_catalog.pg_namespace n WHERE n.oid = d.defaclnamespace), '*') || ' ' || d.defaclobjtype::text,
  pg_catalog.jsonb_build_object('acl', (SELECT pg_catalog.jsonb_agg(x.item ORDER BY x.item)
    FROM (SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE coalesce((SELECT w.label FROM who w
      WHERE w.oid = a.grantee), a.grantee::text) END || ' ' || a.privilege_type AS item
      FROM pg_catalog.aclexplode(d.defaclacl) a) x))
FROM pg_catalog.pg_default_acl d
UNION ALL
SELECT 'schema' || E'\\t' || pg_catalog.quote_ident(n.nspname), '{{}}'::jsonb FROM ns n
UNION ALL
SELECT 'extension' || E'\\t' || e.extname, pg_catalog.jsonb_build_object(
    'schema', (SELECT n.nspname FROM pg_catalog.pg_namespace n WHERE n.oid = e.extnamespace))
FROM pg_catalog.pg_extension e
UNION ALL
SELECT 'event trigger' || E'\\t' || e.evtname, pg_catalog.jsonb_build_object(
    'event', e.evtevent, 'enabled', e.evtenabled::text, 'function', e.evtfoid::pg_catalog.regproc::text)
FROM pg_catalog.pg_event_trigger e
UNION ALL
SELECT 'publication' || E'\\t' || p.pubname, pg_catalog.jsonb_build_object(
    'all_tables', p.puballtables)
FROM pg_catalog.pg_publication p"""


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def snapshot_sql(groups: Mapping[str, str]) -> str:
    """The snapshot query of a database whose group role of each role is ``groups[role]``.
    Run it with an empty search path: names then come out schema-qualified, the same in any
    database."""
    values = ", ".join(f"({_literal(name)}, {_literal(role)})" for role, name in groups.items())
    return _SNAPSHOT.format(groups=values or "(NULL::name, NULL::text)", schemas=_SCHEMAS)


def take(conn, groups: Mapping[str, str]) -> dict[str, dict]:
    """The snapshot of the database ``conn`` is connected to (a SQLAlchemy connection)."""
    conn.exec_driver_sql("SET LOCAL search_path = ''")
    sql = snapshot_sql(groups).replace("%", "%%")       # psycopg reads % as a parameter
    return {key: detail for key, detail in conn.exec_driver_sql(sql).all()}


# --- what a restore appends before its COMMIT ------------------------------------------------

def _tag() -> str:
    return f"gbv_{secrets.token_hex(8)}"


def _who(label: str, groups: Mapping[str, str]) -> str:
    if label == "PUBLIC":
        return "PUBLIC"
    if label.startswith("<") and label.endswith(">") and label[1:-1] in groups:
        return _ident(groups[label[1:-1]])
    return _ident(label)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_REVOKE_ALL = """WITH {schemas}
SELECT pg_catalog.format('REVOKE ALL ON TABLE %s FROM %s CASCADE', c.qname, w.who)
FROM rel c, LATERAL (SELECT DISTINCT a.grantee FROM pg_catalog.aclexplode(c.relacl) a
  WHERE a.grantee <> c.relowner) x, LATERAL (SELECT {who}) w
UNION ALL
SELECT pg_catalog.format('REVOKE ALL (%I) ON TABLE %s FROM %s CASCADE', att.attname, c.qname, w.who)
FROM rel c JOIN pg_catalog.pg_attribute att ON att.attrelid = c.oid AND att.attnum > 0
  AND NOT att.attisdropped AND att.attacl IS NOT NULL,
  LATERAL (SELECT DISTINCT a.grantee FROM pg_catalog.aclexplode(att.attacl) a
  WHERE a.grantee <> c.relowner) x, LATERAL (SELECT {who}) w
UNION ALL
SELECT pg_catalog.format('REVOKE ALL ON ROUTINE %s FROM %s CASCADE', f.qname, w.who)
FROM fn f, LATERAL (SELECT DISTINCT a.grantee FROM pg_catalog.aclexplode(coalesce(f.proacl,
  pg_catalog.acldefault('f', f.proowner))) a WHERE a.grantee <> f.proowner) x,
  LATERAL (SELECT {who}) w
UNION ALL
SELECT pg_catalog.format('REVOKE ALL ON SCHEMA %I FROM %s CASCADE', n.nspname, w.who)
FROM ns n, LATERAL (SELECT DISTINCT a.grantee FROM pg_catalog.aclexplode(coalesce(n.nspacl,
  pg_catalog.acldefault('n', n.nspowner))) a WHERE a.grantee <> n.nspowner) x,
  LATERAL (SELECT {who}) w
UNION ALL
SELECT pg_catalog.format('REVOKE ALL ON DATABASE %I FROM %s CASCADE', d.datname, w.who)
FROM pg_catalog.pg_database d, LATERAL (SELECT DISTINCT a.grantee FROM pg_catalog.aclexplode(
  coalesce(d.datacl, pg_catalog.acldefault('d', d.datdba))) a WHERE a.grantee <> d.datdba) x,
  LATERAL (SELECT {who}) w
WHERE d.datname = pg_catalog.current_database()"""

_WHO = ("CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident("
        "pg_catalog.pg_get_userbyid(x.grantee)) END AS who")


def grant_sql(expected: Mapping[str, dict], groups: Mapping[str, str], database: str) -> str:
    """Statements that give the restored store exactly the grants of ``expected`` (a
    snapshot), addressed to ``groups``: the group roles are made if missing, every grant the
    restored objects, their schemas and the database hold is revoked, then the expected ones
    are given. The owner's own rights are left as they are (the check compares them)."""
    tag = _tag()
    wanted = [d for k, d in expected.items() if k.startswith("grant\t")]
    used = sorted({d["to"][1:-1] for d in wanted if d["to"][1:-1] in groups})
    out = []
    for role in used:
        name = groups[role]
        out.append(f"DO ${tag}$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE "
                   f"rolname = {_literal(name)}) THEN CREATE ROLE {_ident(name)} NOLOGIN; "
                   f"END IF; END ${tag}$;")
    revoke = _REVOKE_ALL.format(schemas=_SCHEMAS, who=_WHO)
    out.append(f"DO ${tag}$ DECLARE s text; BEGIN FOR s IN {revoke} LOOP EXECUTE s; END LOOP; "
               f"END ${tag}$;")
    for d in sorted(wanted, key=lambda d: json.dumps(d, sort_keys=True)):
        if d["to"] == "<owner>":
            continue
        target = {"table": f"TABLE {d['name']}", "column": f"TABLE {d['name']}",
                  "sequence": f"SEQUENCE {d['name']}", "routine": f"ROUTINE {d['name']}",
                  "schema": f"SCHEMA {d['name']}",
                  "database": f"DATABASE {_ident(database)}"}[d["on"]]
        column = f" ({_ident(d['column'])})" if d["column"] else ""
        option = " WITH GRANT OPTION" if d["grantable"] else ""
        out.append(f"GRANT {d['privilege']}{column} ON {target} TO "
                   f"{_who(d['to'], groups)}{option};")
    return "\n".join(out) + "\n"


MARK = "gbv-restore-differences:"


def check_sql(expected: Mapping[str, dict], groups: Mapping[str, str], kind: str = "") -> str:
    """A statement that takes the snapshot of the database it runs in and raises an error
    naming every difference from ``expected`` (in the items of ``kind`` alone, if given): run
    before COMMIT, it stops the restore with nothing committed. The differences travel in the
    error's DETAIL after ``MARK``. A DO block is no DDL: no event trigger fires for it."""
    tag = _tag()
    prefix = f"{kind}\t" if kind else ""
    data = json.dumps({k: d for k, d in expected.items() if k.startswith(prefix)},
                      sort_keys=True)
    while tag in data:
        tag = _tag()
    return (
        f"DO ${tag}$ DECLARE want jsonb := ${tag}w${data}${tag}w$; have jsonb; diff jsonb;\n"
        f"BEGIN\n"
        f"  SELECT coalesce(pg_catalog.jsonb_object_agg(k, d), '{{}}') INTO have FROM (\n"
        f"{snapshot_sql(groups)}\n) s(k, d) WHERE pg_catalog.starts_with(k, "
        f"{_literal(prefix)});\n"
        f"  SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(coalesce(w.key, h.key),"
        f" w.value, h.value) ORDER BY coalesce(w.key, h.key)) INTO diff\n"
        f"  FROM pg_catalog.jsonb_each(want) w FULL JOIN pg_catalog.jsonb_each(have) h"
        f" ON h.key = w.key WHERE w.value IS DISTINCT FROM h.value;\n"
        f"  IF diff IS NOT NULL THEN\n"
        f"    RAISE EXCEPTION 'the restored database differs from its schema revision'\n"
        f"      USING DETAIL = {_literal(MARK)} || diff::text;\n"
        f"  END IF;\n"
        f"END ${tag}$;\n")


def differences_from(psql_errors: str) -> list[tuple[str, dict | None, dict | None]] | None:
    """The differences ``check_sql`` reported in psql's error output, or None if it did not
    (the restore failed for another reason)."""
    for line in psql_errors.splitlines():
        at = line.find(MARK)
        if at >= 0:
            try:
                return [tuple(x) for x in json.loads(line[at + len(MARK):])]
            except ValueError:
                return None
    return None


def compare(expected: Mapping[str, dict], actual: Mapping[str, dict]
            ) -> list[tuple[str, dict | None, dict | None]]:
    return [(k, expected.get(k), actual.get(k)) for k in sorted({*expected, *actual})
            if expected.get(k) != actual.get(k)]


# --- saying what differs ---------------------------------------------------------------------

def describe_all(found: list[tuple[str, dict | None, dict | None]], groups: Mapping[str, str]
                 ) -> list[str]:
    """Every difference in words, objects before grants; the grants of an object that is
    itself extra or missing go unsaid (its own line says enough)."""
    whole = {k.partition("\t")[2] for k, want, have in found
             if k.startswith(("relation\t", "routine\t")) and (want is None or have is None)}
    shown = [d for d in found if not (d[0].startswith("grant\t")
                                      and (d[1] or d[2] or {}).get("name") in whole)]
    shown.sort(key=lambda d: (d[0].startswith("grant\t"), d[0]))
    return [describe(d, groups) for d in shown]


_RELATIONS = {"r": "table", "p": "table", "v": "view", "m": "view", "S": "sequence",
              "f": "table"}


def _things() -> dict[str, str]:
    return {"table": _("table {name}"), "view": _("view {name}"),
            "sequence": _("sequence {name}"), "policy": _("policy {name}"),
            "trigger": _("trigger {name}"), "rule": _("rule {name}"),
            "routine": _("function {name}"), "operator": _("operator {name}"),
            "default privileges": _("default privileges {name}"), "schema": _("schema {name}"),
            "extension": _("extension {name}"), "event trigger": _("event trigger {name}"),
            "publication": _("publication {name}")}


def _grant(d: Mapping, groups: Mapping[str, str]) -> str:
    what = {"database": _("the database")}.get(d["on"], f"{d['on']} {d['name']}")
    if d.get("column"):
        what = f"{d['on']} {d['name']} ({d['column']})"
    who = d["to"]
    if who.startswith("<") and who[1:-1] in groups:
        who = groups[who[1:-1]]
    elif who == "<owner>":
        who = _("its owner")
    return _("{privilege} on {object} to {grantee}").format(privilege=d["privilege"],
                                                            object=what, grantee=who)


def describe(diff: tuple[str, dict | None, dict | None], groups: Mapping[str, str]) -> str:
    """One difference in words: what is missing, extra, or changed, and how."""
    key, want, have = diff
    kind, _tab, name = key.partition("\t")
    if kind == "grant":
        d = have or want
        return (_("extra grant {grant}") if want is None else _("grant {grant} is missing")
                ).format(grant=_grant(d, groups))
    if kind == "relation":
        kind = _RELATIONS.get((want or have or {}).get("kind"), "table")
    thing = _things().get(kind, kind + " {name}").format(name=name)
    if want is None:
        if kind == "routine" and have.get("security_definer"):
            return _("extra {thing}, which runs with its owner's rights (SECURITY "
                     "DEFINER)").format(thing=thing)
        return _("extra {thing}").format(thing=thing)
    if have is None:
        return _("{thing} is missing").format(thing=thing)
    if kind == "table" and want.get("row_security") and not have.get("row_security"):
        return _("row security is off on {table}").format(table=name)
    if kind == "trigger" and want.get("enabled") != have.get("enabled"):
        return _("{thing} is disabled").format(thing=thing) if have.get("enabled") == "D" \
            else _("{thing} fires at other times").format(thing=thing)
    if kind == "routine" and have.get("security_definer") and not want.get("security_definer"):
        return _("{thing} runs with its owner's rights (SECURITY DEFINER)").format(thing=thing)
    fields = ", ".join(sorted(f for f in {*want, *have} if want.get(f) != have.get(f)))
    return _("{thing} differs ({fields})").format(thing=thing, fields=fields)
