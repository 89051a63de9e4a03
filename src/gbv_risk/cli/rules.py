"""``gbv-risk rules``: list, show, validate and test rule sets."""

from __future__ import annotations

import json

import click

from ..dsl.legal import describe as describe_legal
from ..errors import GbvRiskError, RuleTestFailure
from ..messages import N_, _
from .output import emit, lang_of

# what a rule's ``then`` keys mean, for people reading ``rules show``
THEN = {"level_at_least": N_("level at least"), "derive": N_("derives"),
        "flags": N_("red flags"), "intensity": N_("programme intensity"),
        "referrals": N_("referrals"), "safety_steps": N_("victim safety"),
        "steps": N_("next steps"), "reassess_within_days": N_("re-assess within (days)"),
        "reassess_on": N_("re-assess on"), "needs": N_("needs")}


@click.group()
def rules() -> None:
    """Rule sets: list, show, validate and run their embedded tests."""


@rules.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table")
def list_(fmt: str) -> None:
    """List the shipped rule sets."""
    from .. import api

    rows = []
    for key, path in api.available_rulesets().items():
        rs = api.load_ruleset(path)
        rows.append({"key": key, "extends": rs.effective.file.extends or "",
                     "instrument": rs.instrument.key,
                     "rules": sum(1 for i in rs.compiled.info.values() if i.kind == "rule"),
                     "tests": len(rs.tests), "hash": rs.compiled.content_hash[:12],
                     "file": path.name})
    emit(rows, ["key", "extends", "instrument", "rules", "tests", "hash", "file"], fmt,
         _("Rule sets"))


@rules.command("show")
@click.argument("ref")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def show(ref: str, fmt: str) -> None:
    """Show the effective rule set (after extends): weights, thresholds and rules."""
    from .. import api

    rs = api.load_ruleset(ref)
    f = rs.effective.file
    lang = lang_of(None)
    if fmt == "json":
        body = f.model_dump(mode="json", exclude={"tests"})
        body["content_hash"] = rs.compiled.content_hash
        body["extends_chain"] = rs.effective.chain
        body["rule_origin"] = rs.effective.rule_origin
        click.echo(json.dumps(body, ensure_ascii=False, indent=2))
        return
    click.echo(_("{ruleset}  #{hash}  instrument {instrument}").format(
        ruleset=rs.key, hash=rs.compiled.content_hash[:12], instrument=rs.instrument.key))
    if rs.effective.chain:
        click.echo(_("extends: {chain}").format(chain=" <- ".join(reversed(rs.effective.chain))))
    click.echo(_("levels: {levels}").format(
        levels=" < ".join(level_label(rs, x, lang) for x in rs.compiled.levels)))
    click.echo(_("thresholds (total score): {thresholds}").format(
        thresholds=", ".join(f"{level_label(rs, k, lang)} {v}" for k, v in f.thresholds.items())))
    click.echo(_("weights: {weights}").format(
        weights=", ".join(f"{k} {v}" for k, v in f.weights.items())))
    click.echo(_("rules ({count}):").format(count=len(f.rules)))
    for r in f.rules:
        origin = rs.effective.rule_origin.get(r.id, rs.key)
        mark = "" if origin == rs.key else "  " + _("(from {ruleset})").format(ruleset=origin)
        dates = ""
        if r.effective_from or r.effective_until:
            dates = f"  [{r.effective_from or '...'} .. {r.effective_until or '...'})"
        then = "; ".join(f"{_(THEN[k]) if k in THEN else k}: {_outcome(rs, k, v, lang)}"
                         for k, v in r.then.model_dump(exclude_defaults=True).items())
        click.echo(f"  {r.id}{mark}{dates}\n      {r.rationale.get(lang)}\n      -> {then}")
        if r.legal is not None:
            click.echo("      " + _("legal: {basis}").format(
                basis=describe_legal(r.legal, r.effective_from)))


@rules.command("legal")
@click.option("--ruleset", "ref", metavar="REF",
              help="List this rule set's legal rules instead of the protection-order rules.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table")
def legal(ref: str | None, fmt: str) -> None:
    """The dated legal rules: each one's act, the day it took effect and whether that day was
    confirmed in a source ("unconfirmed" where it was inferred). Without --ruleset: the
    protection-order rules that set an order's length (rules/legal)."""
    if ref is None:
        from ..store.legal import listing, rules_path

        rows = listing()
        columns = ["effective_from", "date_status", "duration_days", "extension_days",
                   "max_extensions", "act", "date_source"]
        title = _("Protection-order rules ({file})").format(file=rules_path().name)
    else:
        from .. import api

        rs = api.load_ruleset(ref)
        rows = [{"rule": r.id, "effective_from": r.effective_from, "act": r.legal.act.cite(),
                 "date_status": "confirmed" if r.legal.date_confirmed else "unconfirmed",
                 "date_confirmed": r.legal.date_confirmed, "date_source": r.legal.date_source}
                for r in rs.effective.file.rules if r.legal is not None]
        columns = ["rule", "effective_from", "date_status", "act", "date_source"]
        title = _("Legal rules of {ruleset}").format(ruleset=rs.key)
    if fmt == "table":
        _records(rows, columns, title)
    else:
        emit(rows, columns, fmt)


def _records(rows: list[dict], columns: list[str], title: str) -> None:
    """One block per row, a line per column: the acts and their date sources are sentences,
    which a table would cut into narrow interleaved columns."""
    from .headings import cell, heading

    click.echo(title)
    for row in rows:
        click.echo()
        for c in columns:
            click.echo(f"  {heading(c)}: {cell(c, row.get(c))}")


def _outcome(rs, key: str, value, lang: str) -> str:
    """A rule's outcome value: vocabulary codes as they are (researchers write them), a
    level by its name."""
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    if key == "level_at_least":
        return level_label(rs, value, lang)
    if key == "intensity":
        return level_label(rs, value, lang, "intensities")
    return str(value)


def level_label(rs, level, lang: str, kind: str = "levels") -> str:
    """A level (or another ``kind`` of the vocabulary) as the rule set names it in ``lang``;
    the code if it has no name."""
    return rs.compiled.label(kind, level, lang) if level else str(level)


def _targets(paths: tuple[str, ...]) -> list[str]:
    from .. import api

    return list(paths) or [str(p) for p in api.available_rulesets().values()]


@rules.command("validate")
@click.argument("paths", nargs=-1)
def validate(paths: tuple[str, ...]) -> None:
    """Check rule-set files (default: every shipped one), reporting every problem."""
    from .. import api

    failed: list[GbvRiskError] = []
    for p in _targets(paths):
        try:
            rs = api.validate_ruleset(p)
            click.echo(_("ok  {file}  ({ruleset}, {count} rules, #{hash})").format(
                file=p, ruleset=rs.key, count=len(rs.compiled.info),
                hash=rs.compiled.content_hash[:12]))
        except GbvRiskError as exc:
            click.echo(_("error: {message}").format(message=exc), err=True)
            failed.append(exc)
    if failed:
        raise SystemExit(max(e.exit_code for e in failed))


@rules.command("test")
@click.argument("paths", nargs=-1)
@click.option("--verbose", "-v", is_flag=True, help="List every case, not only failures.")
def test(paths: tuple[str, ...], verbose: bool) -> None:
    """Run the embedded tests of rule sets on both engines (default: every shipped one)."""
    from .. import api

    total = failed = 0
    for p in _targets(paths):
        rs = api.validate_ruleset(p)
        for o in api.test_ruleset(rs):
            total += 1
            if not o.passed:
                failed += 1
                click.echo(_("FAIL {ruleset}: {test}").format(ruleset=rs.key, test=o.name))
                for f in o.failures:
                    click.echo(f"     {f}")
            elif verbose:
                click.echo(_("ok   {ruleset}: {test}").format(ruleset=rs.key, test=o.name))
    click.echo(_("{passed} passed, {failed} failed").format(passed=total - failed, failed=failed))
    if failed:
        raise RuleTestFailure(_("{failed} of {total} rule-set test(s) failed").format(
            failed=failed, total=total))


@rules.command("diff")
@click.argument("a")
@click.argument("b")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def diff(a: str, b: str, fmt: str) -> None:
    """What changed from rule set A to B (weights, thresholds, parameters, rules added,
    removed, changed or inherited) and which embedded tests change outcome."""
    import dataclasses

    from .. import api
    from ..research.diff import diff_rulesets

    rs_a, rs_b = api.load_ruleset(a), api.load_ruleset(b)
    d = diff_rulesets(rs_a, rs_b)
    lang = lang_of(None)
    if fmt == "json":
        click.echo(json.dumps(dataclasses.asdict(d), ensure_ascii=False, indent=2, default=str))
        return
    click.echo((_("{a} -> {b}  (same content)") if d.same_content else "{a} -> {b}").format(
        a=d.a, b=d.b))
    if d.instrument[0] != d.instrument[1]:
        click.echo(_("instrument: {a} -> {b}").format(a=d.instrument[0], b=d.instrument[1]))
    if d.levels:
        click.echo(_("levels: {a} -> {b}").format(a=d.levels[0], b=d.levels[1]))
    for line, rows, key in ((_("weights: {name}: {a} -> {b}"), d.weights, "item"),
                            (_("thresholds: {name}: {a} -> {b}"), d.thresholds, "level"),
                            (_("parameters: {name}: {a} -> {b}"), d.parameters, "parameter")):
        for r in rows:
            click.echo(line.format(name=r[key], a=r["a"], b=r["b"]))
    for rid in d.rules_added:
        click.echo(_("rule added: {rule}").format(rule=rid))
    for rid in d.rules_removed:
        click.echo(_("rule removed: {rule}").format(rule=rid))
    for r in d.rules_changed:
        click.echo(_("rule changed: {rule} ({fields})").format(rule=r["rule"],
                                                               fields=", ".join(r["fields"])))
    if d.rules_inherited:
        click.echo(_("rules inherited unchanged by {ruleset}: {count}").format(
            ruleset=d.b, count=len(d.rules_inherited)))
    if d.tests_changed:
        click.echo(_("embedded tests whose outcome changes:"))
        for t in d.tests_changed:
            if "error" in t:
                click.echo(f"  {t['test']}: {t['error']}")
                continue
            extra = []
            if t["fired_only_a"]:
                extra.append(_("only in A: {rules}").format(rules=", ".join(t["fired_only_a"])))
            if t["fired_only_b"]:
                extra.append(_("only in B: {rules}").format(rules=", ".join(t["fired_only_b"])))
            click.echo(f"  {t['test']}: {level_label(rs_a, t['level_a'], lang)} -> "
                       f"{level_label(rs_b, t['level_b'], lang)}"
                       + (f" ({'; '.join(extra)})" if extra else ""))
    else:
        click.echo(_("no embedded test changes outcome"))
