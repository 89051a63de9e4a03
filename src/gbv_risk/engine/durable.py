"""The durable-rules adapter: the compiled form driven through durable-rules' own ruleset
definitions, inside every guard rail of ENGINE.md §5-6.

- ``assert_fact`` only, never ``post``: an event lets one rule fire per message (§5.1).
- One host with no background timer threads (§5.4), one process-wide lock (§5.3).
- A fresh session id per evaluation, deleted in ``finally`` (1,024 live sessions cap, §5.2).
- An exception in an action is swallowed by durable-rules; we look for it and raise (§5.5).
- One ruleset name per version and content hash; names cannot be redefined (§5.6).
- Negated derived facts are read in a later phase, as flags on a new fact (§5.7).
- Facts carry only whole numbers and short strings; unanswered is absent (§5.8-5.9).
- Every pattern carries a discriminator ``t`` so re-asserted state never matches (§5.11).
- Actions are built by a factory so their arity is exactly one (§5.12).
- Every phase fact is handled: each phase has a catch-all rule with a no-op action. Measured
  here: ``delete_state`` on a session whose only fact raised MessageNotHandledException frees
  an invalid pointer and aborts the process, while not deleting it leaks the session towards
  the 1,024 cap. With the catch-all a fact is always handled and the session always deletable.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from typing import Any

from durable import engine as _engine

from ..errors import EngineError
from . import ir
from .aggregate import plan_level
from .ir import Absent, And, Cmp, Expr, Or, Present, TrueExpr

_LOCK = threading.RLock()
_OPS = {"ne": "$neq", "lt": "$lt", "lte": "$lte", "gt": "$gt", "gte": "$gte"}
_TRUE = {"$ex": {"t": 1}}
_FALSE = {"$nex": {"t": 1}}


class _QuietHost(_engine.Host):
    """A host without the 200 ms dispatcher threads that race the caller (ENGINE.md §5.4)."""

    def _run(self):
        pass


_HOST: _QuietHost | None = None
_LOADED: set[str] = set()
_SIDS = itertools.count(1)


def _host() -> _QuietHost:
    global _HOST
    if _HOST is None:
        _HOST = _QuietHost()
    return _HOST


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
    """One per compiled rule set; cheap to create again for the same name."""

    def __init__(self, rs: ir.CompiledRuleSet):
        self.rs = rs
        self.name = rs.name
        self._runs: dict[str, dict[str, Any]] = {}
        self._fail_on: int | None = None      # test hook: make one rule's action raise
        self._phases = sorted({r.phase for r in rs.rules})
        with _LOCK:
            if self.name not in _LOADED:
                _host().set_rulesets({self.name: self._definition()})
                _LOADED.add(self.name)
                _ENGINES[self.name] = self
            else:
                # durable-rules keeps the first definition; its actions route to that engine's
                # collector, so share it.
                first = _ENGINES[self.name]
                self._runs = first._runs

    def _definition(self) -> dict:
        rules = {}
        for r in self.rs.rules:
            derive = next((o.value for o in r.outcomes if o.kind == "derive"), None)
            patterns = [{"m": _pattern(r)}]
            for j, name in enumerate(r.joins):
                patterns.append({f"d{j}": {"$and": [{"t": "d"}, {"n": name}]}})
            rules[f"r{r.index}"] = {"all": patterns, "run": self._action(r.index, derive)}
        for phase in self._phases:
            rules[f"p{phase}"] = {"all": [{"m": {"$and": [{"t": "a"}, {"ph": phase}]}}],
                                  "run": _noop()}
        return rules

    def _action(self, index: int, derive: str | None):
        runs = self._runs
        engine = self

        def action(c):
            run = runs[c.s["sid"]]
            if engine._fail_on == index:
                raise RuntimeError(f"injected failure in rule #{index}")
            run["fired"].add(index)
            if derive is not None and derive not in run["derived"]:
                run["derived"].add(derive)
                # no rule of this phase may join on it; later phases read it as a flag
                with contextlib.suppress(_engine.MessageNotHandledException):
                    c.assert_fact({"t": "d", "n": derive})

        return action

    def evaluate(self, fact: dict[str, Any]) -> set[int]:
        rs = self.rs
        with _LOCK:
            sid = f"s{next(_SIDS)}"
            run = {"fired": set(), "derived": set()}
            self._runs[sid] = run
            deletable = True
            try:
                for phase in self._phases:
                    fields = rs.phase_fields[phase]
                    msg = {"sid": sid, "t": "a", "ph": phase}
                    for f in fields:
                        v = fact.get(f)
                        if v is not None:
                            msg[f] = v
                    for name in run["derived"]:
                        fld = ir.fact_field(name)
                        if fld in fields:
                            msg[fld] = 1
                    if phase == rs.plan_phase and ir.LEVEL in fields:
                        msg[ir.LEVEL] = plan_level(rs, fact, run["fired"])
                    if not self._assert(msg):
                        deletable = False
                        raise EngineError(f"the rule engine did not handle phase {phase} of "
                                          f"{self.rs.key}; the result would be incomplete")
                return set(run["fired"])
            finally:
                self._runs.pop(sid, None)
                if deletable:
                    with contextlib.suppress(Exception):
                        _host().delete_state(self.name, sid)

    def _assert(self, msg: dict) -> bool:
        """Assert one phase fact; False when the engine did not handle it (see module doc)."""
        try:
            state = _host().assert_fact(self.name, msg)
        except _engine.MessageNotHandledException:
            return False
        except Exception as exc:
            raise EngineError(f"rule engine refused a fact for {self.rs.key}: {exc}") from None
        if state and "exception" in state:
            detail = str(state["exception"]).split(", traceback")[0]
            detail = detail.replace("exception caught ", "")
            raise EngineError(f"a rule action failed in {self.rs.key}: {detail}")
        return True


def _noop():
    def action(c):
        return None

    return action


_ENGINES: dict[str, DurableEngine] = {}


def engine_for(rs: ir.CompiledRuleSet) -> DurableEngine:
    with _LOCK:
        eng = _ENGINES.get(rs.name)
        return eng if eng is not None else DurableEngine(rs)
