"""The durable-rules adapter: the compiled form driven through durable-rules' own ruleset
definitions, inside every guard rail of ENGINE.md §5-6.

- ``assert_fact`` only, never ``post``: an event lets one rule fire per message (§5.1).
- No ``durable.engine.Host``, so none of its background timer threads (§5.4); one
  process-wide lock around every call into the C engine (§5.3).
- A fresh session id per evaluation, deleted in ``finally`` (1,024 live sessions cap, §5.2).
- Actions run in our own loop, so an exception in one is raised, never swallowed (§5.5).
- One ruleset name per version and content hash; names cannot be redefined (§5.6).
- Negated derived facts are read in a later phase, as flags on a new fact (§5.7).
- Facts carry only whole numbers and short strings; unanswered is absent (§5.8-5.9).
- Every pattern carries a discriminator ``t`` so re-asserted state never matches (§5.11).
- Every phase fact is handled: each phase has a catch-all rule. Measured here:
  ``delete_state`` on a session whose only fact was not handled frees an invalid pointer and
  aborts the process, while not deleting it leaks the session towards the 1,024 cap.

The action loop is the one ``durable.engine.Ruleset._flush_actions`` runs (start an action
for the state, complete it, take the next), without the per-action Python machinery this
adapter has no use for (closures, leases, timers, state rewrites): that machinery cost about
25 µs per fired rule, most of an evaluation.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
from typing import Any

import durable_rules_engine as _c

from ..errors import EngineError
from ..messages import _
from . import ir
from .aggregate import plan_level
from .ir import Absent, And, Cmp, Expr, Or, Present, TrueExpr

_LOCK = threading.RLock()
_OPS = {"ne": "$neq", "lt": "$lt", "lte": "$lte", "gt": "$gt", "gte": "$gte"}
_TRUE = {"$ex": {"t": 1}}
_FALSE = {"$nex": {"t": 1}}
_LOADED: dict[str, int] = {}      # ruleset name -> handle in the C engine
_SIDS = itertools.count(1)


def to_json(e: Expr) -> dict:
    t = type(e)
    if t is Cmp:
        if e.op == "eq":
            return {e.field: e.value}
        return {_OPS[e.op]: {e.field: e.value}}
    if t is And:
        return {"$and": [to_json(p) for p in e.parts]} if e.parts else _TRUE
    if t is Or:
        return {"$or": [to_json(p) for p in e.parts]} if e.parts else _FALSE
    if t is Present:
        return {"$ex": {e.field: 1}}
    if t is Absent:
        return {"$nex": {e.field: 1}}
    if t is TrueExpr:
        return _TRUE
    raise TypeError(e)


def _pattern(rule: ir.Rule) -> dict:
    parts = [{"t": "a"}, {"ph": rule.phase}]
    lo, hi = rule.window
    if lo is not None:
        parts.append({"$gte": {ir.ASOF: lo}})
    if hi is not None:
        parts.append({"$lt": {ir.ASOF: hi}})
    if not isinstance(rule.cond, TrueExpr):
        parts.append(to_json(rule.cond))
    return {"$and": parts}


class DurableEngine:
    """One per compiled rule set (``engine_for``); all share the C engine under one lock."""

    def __init__(self, rs: ir.CompiledRuleSet):
        self.rs = rs
        self.name = rs.name
        self._fail_on: int | None = None      # test hook: make one rule's action raise
        self._phases = sorted({r.phase for r in rs.rules})
        self._index = {f"r{r.index}": r.index for r in rs.rules}
        self._derives = {f"r{r.index}": next((o.value for o in r.outcomes if o.kind == "derive"),
                                             None) for r in rs.rules}
        self._runs: dict[str, set[int]] = {}
        with _LOCK:
            if self.name not in _LOADED:
                definition = json.dumps(self.definition(), ensure_ascii=False)
                _LOADED[self.name] = _c.create_ruleset(self.name, definition)
            self._h = _LOADED[self.name]

    def definition(self) -> dict:
        """The durable-rules ruleset: one rule per compiled rule, one catch-all per phase."""
        rules: dict[str, dict] = {}
        for r in self.rs.rules:
            patterns = [{"m": _pattern(r)}]
            for j, name in enumerate(r.joins):
                patterns.append({f"d{j}": {"$and": [{"t": "d"}, {"n": name}]}})
            rules[f"r{r.index}"] = {"all": patterns}
        for phase in self._phases:
            rules[f"p{phase}"] = {"all": [{"m": {"$and": [{"t": "a"}, {"ph": phase}]}}]}
        return rules

    def evaluate(self, fact: dict[str, Any]) -> set[int]:
        rs = self.rs
        with _LOCK:
            sid = f"s{next(_SIDS)}"
            fired: set[int] = set()
            derived: set[str] = set()
            self._runs[sid] = fired
            created = False
            try:
                for phase in self._phases:
                    fields = rs.phase_fields[phase]
                    msg: dict[str, Any] = {"sid": sid, "t": "a", "ph": phase}
                    for f in fields:
                        v = fact.get(f)
                        if v is not None:
                            msg[f] = v
                    for name in derived:
                        fld = ir.fact_field(name)
                        if fld in fields:
                            msg[fld] = 1
                    if phase == rs.plan_phase and ir.LEVEL in fields:
                        msg[ir.LEVEL] = plan_level(rs, fact, fired)
                    state = self._assert(msg)
                    created = True
                    self._run_actions(state, sid, fired, derived)
                return set(fired)
            finally:
                self._runs.pop(sid, None)
                if created:
                    with contextlib.suppress(Exception):
                        _c.delete_state(self._h, sid)

    def _assert(self, msg: dict) -> int:
        try:
            code, state = _c.assert_fact(self._h, json.dumps(msg, ensure_ascii=False))
        except Exception as exc:   # the C engine raises bare errors
            raise EngineError(_("rule engine refused a fact for {ruleset}: {reason}").format(
                ruleset=self.rs.key, reason=exc)) from None
        if code != 0:
            # 1: not handled (every phase has a catch-all, so never), 2: already observed
            raise EngineError(_("the rule engine did not take phase {phase} of "
                                "{ruleset} (code {code}); the result would be incomplete").format(
                phase=msg["ph"], ruleset=self.rs.key, code=code))
        return state

    def _run_actions(self, state: int, sid: str, fired: set[int], derived: set[str]) -> None:
        """Each pending action is one rule match: record it, and assert the derived fact when
        the rule makes one (rules of the same phase join on it)."""
        started = _c.start_action_for_state(self._h, state)
        message = started[1] if started else None
        while message:
            name = message[2:message.index('"', 2)]     # '{"r12":{...}}'
            index = self._index.get(name)
            try:
                if index is not None:
                    if self._fail_on == index:
                        raise RuntimeError(f"injected failure in rule #{index}")
                    fired.add(index)
                    derive = self._derives[name]
                    if derive is not None and derive not in derived:
                        derived.add(derive)
                        code, _state = _c.assert_fact(self._h, json.dumps(
                            {"sid": sid, "t": "d", "n": derive}))
                        if code not in (0, 1):   # 1: nothing in this phase joins on it
                            raise RuntimeError(_("derived fact {fact} refused (code {code})").format(
                                fact=repr(derive), code=code))
            except Exception as exc:
                with contextlib.suppress(Exception):
                    _c.abandon_action(self._h, state)
                rule = self.rs.rules[index].id if index is not None else name
                raise EngineError(_("a rule action failed in {ruleset} (rule {rule}): "
                                    "{reason}").format(ruleset=self.rs.key, rule=rule,
                                                       reason=exc)) from None
            message = _c.complete_and_start_action(self._h, state)


_ENGINES: dict[str, DurableEngine] = {}


def engine_for(rs: ir.CompiledRuleSet) -> DurableEngine:
    with _LOCK:
        eng = _ENGINES.get(rs.name)
        if eng is None:
            eng = _ENGINES[rs.name] = DurableEngine(rs)
        return eng
