"""``gbv-risk rules``: list, show, validate and test rule sets."""

from __future__ import annotations

import json

import click

from ..errors import GbvRiskError, RuleTestFailure
from .output import emit


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
         "Rule sets")


@rules.command("show")
@click.argument("ref")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def show(ref: str, fmt: str) -> None:
    """Show the effective rule set (after extends): weights, thresholds and rules."""
    from .. import api

    rs = api.load_ruleset(ref)
    f = rs.effective.file
    if fmt == "json":
        body = f.model_dump(mode="json", exclude={"tests"})
        body["content_hash"] = rs.compiled.content_hash
        body["extends_chain"] = rs.effective.chain
        body["rule_origin"] = rs.effective.rule_origin
        click.echo(json.dumps(body, ensure_ascii=False, indent=2))
        return
    click.echo(f"{rs.key}  #{rs.compiled.content_hash[:12]}  instrument {rs.instrument.key}")
    if rs.effective.chain:
        click.echo("extends: " + " <- ".join(reversed(rs.effective.chain)))
    click.echo("levels: " + " < ".join(rs.compiled.levels))
    click.echo("thresholds (total score): " + ", ".join(f"{k} {v}" for k, v in f.thresholds.items()))
    click.echo("weights: " + ", ".join(f"{k} {v}" for k, v in f.weights.items()))
    click.echo(f"rules ({len(f.rules)}):")
    for r in f.rules:
        origin = rs.effective.rule_origin.get(r.id, rs.key)
        mark = "" if origin == rs.key else f"  (from {origin})"
        dates = ""
        if r.effective_from or r.effective_until:
            dates = f"  [{r.effective_from or '...'} .. {r.effective_until or '...'})"
        then = ", ".join(f"{k}={v}" for k, v in r.then.model_dump(exclude_defaults=True).items())
        click.echo(f"  {r.id}{mark}{dates}\n      {r.rationale}\n      -> {then}")


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
            click.echo(f"ok  {p}  ({rs.key}, {len(rs.compiled.info)} rules, "
                       f"#{rs.compiled.content_hash[:12]})")
        except GbvRiskError as exc:
            click.echo(f"error: {exc}", err=True)
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
                click.echo(f"FAIL {rs.key}: {o.name}")
                for f in o.failures:
                    click.echo(f"     {f}")
            elif verbose:
                click.echo(f"ok   {rs.key}: {o.name}")
    click.echo(f"{total - failed} passed, {failed} failed")
    if failed:
        raise RuleTestFailure(f"{failed} of {total} rule-set test(s) failed")


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

    d = diff_rulesets(api.load_ruleset(a), api.load_ruleset(b))
    if fmt == "json":
        click.echo(json.dumps(dataclasses.asdict(d), ensure_ascii=False, indent=2, default=str))
        return
    click.echo(f"{d.a} -> {d.b}" + ("  (same content)" if d.same_content else ""))
    if d.instrument[0] != d.instrument[1]:
        click.echo(f"instrument: {d.instrument[0]} -> {d.instrument[1]}")
    if d.levels:
        click.echo(f"levels: {d.levels[0]} -> {d.levels[1]}")
    for title, rows, key in (("weights", d.weights, "item"), ("thresholds", d.thresholds, "level"),
                             ("parameters", d.parameters, "parameter")):
        for r in rows:
            click.echo(f"{title}: {r[key]}: {r['a']} -> {r['b']}")
    for rid in d.rules_added:
        click.echo(f"rule added: {rid}")
    for rid in d.rules_removed:
        click.echo(f"rule removed: {rid}")
    for r in d.rules_changed:
        click.echo(f"rule changed: {r['rule']} ({', '.join(r['fields'])})")
    if d.rules_inherited:
        click.echo(f"rules inherited unchanged by {d.b}: {len(d.rules_inherited)}")
    if d.tests_changed:
        click.echo("embedded tests whose outcome changes:")
        for t in d.tests_changed:
            if "error" in t:
                click.echo(f"  {t['test']}: {t['error']}")
                continue
            extra = []
            if t["fired_only_a"]:
                extra.append(f"only in A: {', '.join(t['fired_only_a'])}")
            if t["fired_only_b"]:
                extra.append(f"only in B: {', '.join(t['fired_only_b'])}")
            click.echo(f"  {t['test']}: {t['level_a']} -> {t['level_b']}"
                       + (f" ({'; '.join(extra)})" if extra else ""))
    else:
        click.echo("no embedded test changes outcome")
