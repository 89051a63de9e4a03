"""Compiling an effective rule set into the engine-neutral form (``engine.ir``).

The compiler does all the reasoning the engines should not have to: it checks every reference
against the instrument and the vocabulary, stratifies derived facts so that negation only ever
reads facts that are final (ENGINE.md §5.7), expands dated parameters into dated variants of a
rule, pushes negation down to the leaves (durable-rules has no unary NOT), and records which
rules rest on what the victim said.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import re
from collections import defaultdict
from typing import Any

from ..engine import ir
from ..engine.ir import Absent, And, Cmp, Expr, Or, Present, TrueExpr
from ..errors import DefinitionError, Problem
from ..instrument import Instrument, ItemType
from ..messages import _
from ..yamlio import locate
from .conditions import (
    AAll,
    AAny,
    ACount,
    AFact,
    AItem,
    ALevel,
    ANot,
    AScore,
    ConditionParser,
    Node,
    fact_refs,
    walk,
)
from .loader import Effective
from .provenance import VICTIM, ProvenanceBuilder
from .schema import DEFAULT_INTENSITIES, DEFAULT_LEVELS, Parameter, RuleDef

NEG = {"eq": "ne", "ne": "eq", "lt": "gte", "lte": "gt", "gt": "lte", "gte": "lt"}


def ymd(d: dt.date | None) -> int | None:
    return None if d is None else d.year * 10000 + d.month * 100 + d.day


def content_hash(eff: Effective, instrument: Instrument) -> str:
    """Hash of everything that can change a result; titles and embedded tests are left out,
    and of a rationale only the English that results store: a rule set whose rationales gain
    or correct their translations keeps its hash, and results scored with it still match it."""
    f = eff.file
    body = f.model_dump(mode="json", exclude={"tests", "title", "description", "extends",
                                             "remove_rules", "ruleset", "version"})
    for dumped, rule in zip(body["rules"], f.rules, strict=True):
        dumped["rationale"] = rule.rationale.en
    _drop_later_defaults(body)
    body["instrument_items"] = instrument.model_dump(mode="json", include={"items": {
        "__all__": {"id", "type", "domain", "min", "max", "choices", "source", "change"}}})
    blob = json.dumps(body, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


# Keys the file format gained after rule sets were first published, by where they sit. At
# their default they are left out of the hash, so a rule set that does not use them keeps the
# hash its stored results carry.
LATER_KEYS: dict[str, tuple[str, ...]] = {
    "file": ("superseded_by",),
    "vocabulary": ("needs",),
    "rule": ("legal",),
    "then": ("needs",),
}


def _drop_later_defaults(body: dict[str, Any]) -> None:
    def drop(d: dict[str, Any], where: str) -> None:
        for key in LATER_KEYS[where]:
            if key in d and d[key] in (None, [], {}, (), ""):
                del d[key]

    drop(body, "file")
    drop(body.get("vocabulary", {}), "vocabulary")
    for rule in body.get("rules", []):
        drop(rule, "rule")
        drop(rule.get("then", {}), "then")


class Compiler:
    def __init__(self, eff: Effective, instrument: Instrument):
        self.eff = eff
        self.f = eff.file
        self.inst = instrument
        self.src = eff.source
        self.problems: list[Problem] = []
        self.levels = tuple(self.f.levels or DEFAULT_LEVELS)
        self.intensities = tuple(self.f.intensities or DEFAULT_INTENSITIES)
        self.params: dict[str, Parameter] = dict(self.f.parameters)
        self.counts: list[ir.CountFeature] = []

    def fail(self, where: str, reason: str) -> None:
        self.problems.append(Problem(self.src, where, reason))

    def at(self, rule_id: str, sub: str = "") -> str:
        """'rules[3].then.flags (line 40)' from the rule's place and a path inside it."""
        base = self.eff.rule_lines.get(rule_id, f"rule {rule_id}")
        m = re.match(r"^(.*) \((line \d+)\)$", base)
        path, line = (m.group(1), m.group(2)) if m else (base, "")
        full = f"{path}.{sub}" if sub else path
        return f"{full} ({line})" if line else full

    # ---- the pieces -------------------------------------------------------------------
    def check_vocab(self) -> None:
        if len(set(self.levels)) != len(self.levels) or len(self.levels) < 2:
            self.fail("levels", _("levels must be at least two distinct names, lowest first"))
        if len(set(self.intensities)) != len(self.intensities):
            self.fail("intensities", _("intensities must be distinct, lowest first"))

    def weights(self) -> tuple[ir.Weight, ...]:
        out = []
        items = self.inst.by_id
        for item_id, spec in self.f.weights.items():
            where = locate(self.eff.raw, ("weights", item_id))
            item = items.get(item_id)
            if item is None:
                self.fail(where, _("unknown item {item} in instrument {instrument}").format(
                    item=repr(item_id), instrument=self.inst.key))
                continue
            if item.type is ItemType.yes_no:
                if not _is_int(spec):
                    self.fail(where, _("yes/no item: weight is whole points, got {value}").format(
                        value=repr(spec)))
                    continue
                out.append(ir.Weight(item_id, item.domain, "yes_no", points=spec))
            elif item.type is ItemType.count:
                if _is_int(spec):
                    spec = {"per": spec}
                if not isinstance(spec, dict) or set(spec) - {"per", "max"} or "per" not in spec \
                        or not all(_is_int(v) for v in spec.values()):
                    self.fail(where, _("count item: weight is {{per: N, max: M}} in whole points")
                              .format())
                    continue
                out.append(ir.Weight(item_id, item.domain, "count", points=spec["per"],
                                     cap=spec.get("max")))
            elif item.type is ItemType.choice:
                if not isinstance(spec, dict) or not all(_is_int(v) for v in spec.values()):
                    self.fail(where, _("choice item: weight is {{choice: points, ...}}").format())
                    continue
                bad = sorted(set(spec) - set(item.choice_values))
                if bad:
                    self.fail(where, _("not choices of {item}: {bad}; choices: {choices}").format(
                        item=repr(item_id), bad=bad, choices=list(item.choice_values)))
                    continue
                out.append(ir.Weight(item_id, item.domain, "choice",
                                     by_choice=tuple((c, spec.get(c, 0))
                                                     for c in item.choice_values)))
            else:
                self.fail(where, _("date items carry no weight; test them in rule conditions"))
        return tuple(out)

    def thresholds(self) -> list[tuple[str, str | int]]:
        """(level, int or $parameter) for every level above the lowest, in level order."""
        out = []
        for lvl, spec in self.f.thresholds.items():
            where = locate(self.eff.raw, ("thresholds", lvl))
            if lvl not in self.levels[1:]:
                self.fail(where, _("thresholds are set for levels above {lowest}: {levels}").format(
                    lowest=repr(self.levels[0]), levels=list(self.levels[1:])))
                continue
            if isinstance(spec, dict):
                try:
                    self.params[f"threshold_{lvl}"] = Parameter.model_validate(spec)
                except Exception as exc:  # pydantic error text is clear enough here
                    self.fail(where, _("dated threshold is {{values: {{DATE: points}}}}: {error}")
                              .format(error=exc))
                    continue
                spec = f"$threshold_{lvl}"
            if isinstance(spec, str) and spec.startswith("$"):
                if spec[1:] not in self.params:
                    self.fail(where, _("unknown parameter {parameter}").format(
                        parameter=repr(spec)))
                    continue
            elif not _is_int(spec):
                self.fail(where, _("expected whole points, $parameter or dated values, "
                                   "got {value}").format(value=repr(spec)))
                continue
            out.append((lvl, spec))
        order = {lvl: i for i, lvl in enumerate(self.levels)}
        out.sort(key=lambda t: order[t[0]])
        self._check_threshold_order(out)
        return out

    def _check_threshold_order(self, ths) -> None:
        dates = sorted({d for _, s in ths if isinstance(s, str) for d in self.params[s[1:]].values})
        for d in dates or [dt.date(1900, 1, 1)]:
            vals = [(lvl, self._value_at(s, d)) for lvl, s in ths]
            vals = [(lvl, v) for lvl, v in vals if v is not None]
            for (l1, v1), (l2, v2) in itertools.pairwise(vals):
                if v2 < v1:
                    values = {"level": repr(l2), "value": v2, "lower_level": repr(l1),
                              "lower_value": v1}
                    if dates:
                        reason = _("from {date}: threshold for {level} ({value}) is below the "
                                   "one for {lower_level} ({lower_value})").format(date=d, **values)
                    else:
                        reason = _("threshold for {level} ({value}) is below the one for "
                                   "{lower_level} ({lower_value})").format(**values)
                    self.fail("thresholds", reason)

    def _value_at(self, spec: str | int, day: dt.date) -> int | None:
        if not isinstance(spec, str):
            return spec
        values = self.params[spec[1:]].values
        in_force = [d for d in values if d <= day]
        return values[max(in_force)] if in_force else None

    def check_actions(self, rule: RuleDef, plan: bool) -> None:
        t = rule.then
        v = self.f.vocabulary
        if t.level_at_least is not None and t.level_at_least not in self.levels:
            self.fail(self.at(rule.id, "then.level_at_least"),
                      _("unknown level {level}; levels: {levels}").format(
                          level=repr(t.level_at_least), levels=list(self.levels)))
        if t.intensity is not None and t.intensity not in self.intensities:
            self.fail(self.at(rule.id, "then.intensity"),
                      _("unknown intensity {intensity}; intensities: {intensities}").format(
                          intensity=repr(t.intensity), intensities=list(self.intensities)))
        for key, vocab in (("referrals", "agencies"), ("safety_steps", "safety_steps"),
                           ("steps", "steps"), ("flags", "flags"), ("reassess_on", "triggers"),
                           ("needs", "needs")):
            known = getattr(v, vocab)
            for x in getattr(t, key):
                if x not in known:
                    self.fail(self.at(rule.id, f"then.{key}"),
                              _("{value} is not declared in vocabulary.{vocabulary}").format(
                                  value=repr(x), vocabulary=vocab))
        if plan and (t.level_at_least or t.derive):
            self.fail(self.at(rule.id, "then"),
                      _("a rule that reads the level (level_at_least) may not set "
                        "the level or derive facts: the level is final by then"))
        if not t.model_dump(exclude_defaults=True):
            self.fail(self.at(rule.id, "then"), _("a rule needs at least one action"))
        if rule.effective_from and rule.effective_until and \
                rule.effective_until <= rule.effective_from:
            self.fail(self.at(rule.id, "effective_until"), _("must be after effective_from"))

    # ---- strata ----------------------------------------------------------------------
    def stratify(self, parsed: dict[str, Node]) -> dict[str, int] | None:
        producers: dict[str, list[str]] = defaultdict(list)
        for r in self.f.rules:
            if r.then.derive:
                producers[r.then.derive].append(r.id)
        unresolved = False
        for rid, node in parsed.items():
            for name, _positive, _top in fact_refs(node):
                if name not in producers:
                    unresolved = True
                    if name in self.eff.unchecked.facts:   # its rule's refusal says why
                        continue
                    self.fail(self.at(rid, "when"),
                              _("unknown fact {fact} (no rule derives it; "
                                "derived facts: {facts})").format(
                                  fact=repr(name), facts=sorted(producers)))
        # cycles are sought even when other problems were found: only the rules whose
        # conditions parsed are needed, and only their edges between known facts
        deps: dict[str, set[str]] = {f: set() for f in producers}
        for fact, rids in producers.items():
            for rid in rids:
                if rid in parsed:
                    deps[fact] |= {n for n, _positive, _top in fact_refs(parsed[rid])
                                   if n in producers}
        cycle = _find_cycle(deps)
        if cycle:   # placed at the first rule deriving a fact of the cycle
            self.fail(self.at(producers[cycle[0]][0], "then.derive"),
                      _("cycle among derived facts: {cycle}").format(cycle=" -> ".join(cycle)))
            return None
        if self.problems or unresolved:
            return None
        stratum_rule: dict[str, int] = {}
        stratum_fact: dict[str, int] = {f: 0 for f in producers}
        for _round in range(len(parsed) + 2):
            changed = False
            for rid, node in parsed.items():
                s = 0
                for name, positive, top in fact_refs(node):
                    s = max(s, stratum_fact[name] + (0 if (positive and top) else 1))
                if stratum_rule.get(rid) != s:
                    stratum_rule[rid], changed = s, True
            for fact, rids in producers.items():
                s = max(stratum_rule[r] for r in rids)
                if stratum_fact[fact] != s:
                    stratum_fact[fact], changed = s, True
            if not changed:
                break
        self.fact_strata = stratum_fact
        return stratum_rule

    # ---- lowering to NNF ---------------------------------------------------------------
    def lower(self, node: Node, neg: bool, phase: int, values: dict[str, int]) -> Expr:
        if isinstance(node, AAll):
            parts = tuple(self.lower(p, neg, phase, values) for p in node.parts)
            return _or(parts) if neg else _and(parts)
        if isinstance(node, AAny):
            parts = tuple(self.lower(p, neg, phase, values) for p in node.parts)
            return _and(parts) if neg else _or(parts)
        if isinstance(node, ANot):
            return self.lower(node.part, not neg, phase, values)
        if isinstance(node, ACount):
            name = ir.count_field(len(self.counts))
            self.counts.append(ir.CountFeature(name, tuple(
                self.lower(p, False, phase, values) for p in node.parts)))
            return Cmp(name, "lt" if neg else "gte", node.at_least)
        if isinstance(node, AFact):
            if self.fact_strata[node.name] < phase:
                fld = ir.fact_field(node.name)
                return Absent(fld) if neg else Cmp(fld, "eq", 1)
            return TrueExpr()   # same phase, positive, top-level: joined as a separate fact
        if isinstance(node, ALevel):
            rank = self.levels.index(node.at_least)
            return Cmp(ir.LEVEL, "lt" if neg else "gte", rank)
        if isinstance(node, AScore):
            fld = ir.score_field(node.domain)
            tests = tuple(Cmp(fld, NEG[op] if neg else op,
                              values[v[1:]] if isinstance(v, str) else v) for op, v in node.tests)
            return _or(tests) if neg else _and(tests)
        return self.lower_item(node, neg)

    def lower_item(self, node: AItem, neg: bool) -> Expr:
        item = self.inst.by_id[node.item]
        fld = ir.item_field(item.id)
        tests = []
        for op, v in node.tests:
            if op == "answered":
                tests.append(Present(fld) if v != neg else Absent(fld))
                continue
            if op == "within_days":
                dfld = ir.days_field(item.id)
                tests.append(Or((Absent(dfld), Cmp(dfld, "gt", v))) if neg
                             else Cmp(dfld, "lte", v))
                continue
            if item.type is ItemType.choice and op in ("lt", "lte", "gt", "gte", "in", "ne"):
                op, v = "in", _choice_set(item.choice_values, op, v)
                if neg:
                    op, v = "in", tuple(c for c in item.choice_values if c not in v)
                    neg_done = True
                else:
                    neg_done = False
                expr = _or(tuple(Cmp(fld, "eq", c) for c in v)) if v else Or(())
                tests.append(Or((Absent(fld), expr)) if neg_done else expr)
                continue
            if op == "in":
                if neg:
                    tests.append(Or((Absent(fld), _and(tuple(Cmp(fld, "ne", c) for c in v)))))
                else:
                    tests.append(_or(tuple(Cmp(fld, "eq", c) for c in v)))
                continue
            tests.append(Or((Absent(fld), Cmp(fld, NEG[op], v))) if neg else Cmp(fld, op, v))
        return _or(tuple(tests)) if neg else _and(tuple(tests))

    # ---- windows -----------------------------------------------------------------------
    def segments(self, rule_params: set[str], start: dt.date | None, end: dt.date | None):
        """[(from, until, {param: value})] over which the rule is in force with fixed values."""
        if not rule_params:
            return [(start, end, {})]
        cuts = sorted({d for p in rule_params for d in self.params[p].values})
        bounds = sorted({d for d in cuts if (start is None or d > start)
                         and (end is None or d < end)})
        starts = [start or cuts[0], *[d for d in bounds if d > (start or cuts[0])]]
        out = []
        for i, s in enumerate(starts):
            u = starts[i + 1] if i + 1 < len(starts) else end
            vals = {p: self._value_at(f"${p}", s) for p in rule_params}
            if any(v is None for v in vals.values()):
                continue
            out.append((s, u, vals))
        return out


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _choice_set(order: tuple[str, ...], op: str, v: Any) -> tuple[str, ...]:
    if op == "in":
        return tuple(c for c in order if c in v)
    if op == "ne":
        return tuple(c for c in order if c != v)
    i = order.index(v)
    pick = {"lt": lambda j: j < i, "lte": lambda j: j <= i,
            "gt": lambda j: j > i, "gte": lambda j: j >= i}[op]
    return tuple(c for j, c in enumerate(order) if pick(j))


def _flatten(kind, parts):
    out = []
    for p in parts:
        if isinstance(p, kind):
            out.extend(p.parts)
        else:
            out.append(p)
    return out


def _and(parts) -> Expr:
    parts = [p for p in _flatten(And, parts) if not isinstance(p, TrueExpr)]
    if not parts:
        return TrueExpr()
    return parts[0] if len(parts) == 1 else And(tuple(parts))


def _or(parts) -> Expr:
    parts = _flatten(Or, parts)
    if any(isinstance(p, TrueExpr) for p in parts):
        return TrueExpr()
    return parts[0] if len(parts) == 1 else Or(tuple(parts))


def _find_cycle(deps: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for m in sorted(deps.get(n, ())):
            if state.get(m) == 1:
                return [*stack[stack.index(m):], m]
            if m not in state:
                found = visit(m)
                if found:
                    return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(deps):
        if n not in state:
            found = visit(n)
            if found:
                return found
    return None


def expr_fields(e: Expr) -> set[str]:
    if isinstance(e, (Cmp, Present, Absent)):
        return {e.field}
    if isinstance(e, (And, Or)):
        return set().union(*(expr_fields(p) for p in e.parts)) if e.parts else set()
    return set()


def compile_ruleset(eff: Effective, instrument: Instrument) -> ir.CompiledRuleSet:
    c = Compiler(eff, instrument)
    f = eff.file
    c.check_vocab()
    weights = c.weights()
    thresholds = c.thresholds()
    parser = ConditionParser(instrument, c.levels, set(c.params), eff.source)
    parsed: dict[str, Node] = {}
    plan_rules: set[str] = set()
    for r in f.rules:
        node = parser.parse(r.when, f"\0{r.id}\0when")
        is_plan = node is not None and any(isinstance(n, ALevel) for n in walk(node))
        if node is not None:
            parsed[r.id] = node
        if is_plan:
            plan_rules.add(r.id)
        if r.id not in eff.unchecked.actions:   # all refused by the schema: reported there
            c.check_actions(r, is_plan)
    for p in parser.problems:   # parser places are '\0rule\0path'; give them lines
        _empty, rid, sub = (p.location.split("\0", 2) if p.location.startswith("\0")
                            else ("", "", ""))
        c.problems.append(Problem(p.file, c.at(rid, sub) if rid else p.location, p.reason))
    strata = c.stratify(parsed)
    problems = [*eff.problems, *c.problems]   # a file pruned by its schema is never compiled
    if problems or strata is None:
        raise DefinitionError(_("{file}: invalid rule set ({count} problem(s))").format(
            file=eff.source, count=len(problems)), problems)
    max_stratum = max([s for rid, s in strata.items() if rid not in plan_rules], default=0)
    plan_phase = max_stratum + 1

    prov = ProvenanceBuilder(instrument, ((w.item, w.domain) for w in weights))
    prov.settle(f.rules, parsed, bool(thresholds))

    rules: list[ir.Rule] = []
    info: dict[str, ir.RuleInfo] = {}

    def add(rid, phase, node, outcomes, start, end, sources, joins=()):
        params = {v[1:] for n in walk(node) if isinstance(n, AScore)
                  for _, v in n.tests if isinstance(v, str)}
        # a rule about her safety is kept from the subject like one resting on her words
        victim = VICTIM in sources or any(o.kind == "safety" for o in outcomes)
        for s, u, values in c.segments(params, start, end):
            cond = c.lower(node, False, phase, values)
            rules.append(ir.Rule(len(rules), rid, phase, cond, tuple(joins), tuple(outcomes),
                                 (ymd(s), ymd(u)), victim, sources))

    for lvl, spec in thresholds:
        rid = f"threshold.{lvl}"
        # stored in results as written (English, the level's id); summary.rationale_text says
        # it in the reader's language
        info[rid] = ir.RuleInfo(rid, f"Total score reaches the threshold for {lvl}",
                                "rule set thresholds", "threshold")
        add(rid, 0, AScore("total", (("gte", spec),)), [ir.Outcome("level", c.levels.index(lvl))],
            None, None, prov.threshold())

    for r in f.rules:
        node = parsed[r.id]
        refs = fact_refs(node)
        phase = plan_phase if r.id in plan_rules else strata[r.id]
        joins = sorted({n for n, pos, top in refs
                        if pos and top and c.fact_strata[n] == phase})
        outcomes = _outcomes(r, c)
        info[r.id] = ir.RuleInfo(r.id, r.rationale.en.strip(), r.source.strip())
        add(r.id, phase, node, outcomes, r.effective_from, r.effective_until, prov.rule(node),
            joins)
    rules.sort(key=lambda r: (r.phase, r.index))
    rules = [ir.Rule(i, r.id, r.phase, r.cond, r.joins, r.outcomes, r.window, r.victim_informed,
                     r.sources) for i, r in enumerate(rules)]

    phase_fields: list[set[str]] = [set() for _phase in range(plan_phase + 1)]
    for r in rules:
        flds = expr_fields(r.cond)
        if r.window != (None, None):
            flds.add(ir.ASOF)
        phase_fields[r.phase] |= flds
    items = tuple(ir.ItemSpec(i.id, i.type.value, i.domain, i.choice_values, i.min, i.max,
                              i.victim_sourced, i.change == "dynamic", i.source.value)
                  for i in instrument.items)
    compiled = ir.CompiledRuleSet(
        ruleset=f.ruleset, version=f.version, content_hash=content_hash(eff, instrument),
        instrument=instrument.key, levels=c.levels, intensities=c.intensities,
        domains=tuple(d.id for d in instrument.domains), items=items, weights=weights,
        counts=tuple(c.counts), rules=tuple(rules), info=info,
        phase_fields=tuple(tuple(sorted(p)) for p in phase_fields),
        lowering_override_allowed=bool(f.lowering_override_allowed),
        facts=tuple(sorted(c.fact_strata)),
        monotone=_monotone({k: v for k, v in parsed.items() if k not in plan_rules}, weights,
                           instrument),
        labels=_labels(f),
    )
    return compiled


def _outcomes(r: RuleDef, c: Compiler) -> list[ir.Outcome]:
    t = r.then
    out: list[ir.Outcome] = []
    if t.level_at_least:
        out.append(ir.Outcome("level", c.levels.index(t.level_at_least)))
    if t.derive:
        out.append(ir.Outcome("derive", t.derive))
    out += [ir.Outcome("flag", x) for x in t.flags]
    if t.intensity:
        out.append(ir.Outcome("intensity", c.intensities.index(t.intensity)))
    out += [ir.Outcome("referral", x) for x in t.referrals]
    out += [ir.Outcome("safety", x) for x in t.safety_steps]
    out += [ir.Outcome("step", x) for x in t.steps]
    if t.reassess_within_days:
        out.append(ir.Outcome("reassess_days", t.reassess_within_days))
    out += [ir.Outcome("reassess_on", x) for x in t.reassess_on]
    out += [ir.Outcome("need", x) for x in t.needs]
    return out


def _monotone(parsed: dict[str, Node], weights, instrument: Instrument) -> bool:
    """True when answering more risk factors can never lower the level: weights are
    non-negative (and rise with a choice's order) and the level rules only test for presence
    of risk (a date counts as more risk the more recent it is). Plan rules read the level but
    cannot change it, so they do not count."""
    for w in weights:
        if w.points < 0 or any(p < 0 for _, p in w.by_choice):
            return False
        pts = [p for _, p in w.by_choice]
        if pts != sorted(pts):
            return False
    items = instrument.by_id
    for node in parsed.values():
        for n in walk(node):
            if isinstance(n, ANot):
                return False
            if isinstance(n, AScore) and any(op not in ("gte", "gt") for op, _ in n.tests):
                return False
            if isinstance(n, AItem):
                it = items[n.item]
                for op, v in n.tests:
                    if op in ("answered", "ne", "lt", "lte"):
                        return False
                    if op == "in" and it.type is not ItemType.choice:
                        return False
                    if op == "in" and it.type is ItemType.choice:
                        vals = [c for c in it.choice_values if c in v]
                        if vals != list(it.choice_values[-len(vals):]):
                            return False
                    if op == "eq" and it.type is ItemType.yes_no and v != 1:
                        return False
                    if op == "eq" and it.type is ItemType.count:
                        return False
                    if op == "eq" and it.type is ItemType.choice and v != it.choice_values[-1]:
                        return False
    return True


def _labels(f) -> dict[str, dict[str, dict[str, str]]]:
    """The vocabulary's labels by kind, and under ``rationales`` every rule's rationale by
    language (English only where the rule file gives a plain string)."""
    v = f.vocabulary
    out = {k: {x: t.root for x, t in getattr(v, k).items()} for k in type(v).model_fields}
    out[ir.RATIONALES] = {r.id: r.rationale.texts() for r in f.rules}
    return out
