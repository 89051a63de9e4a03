"""The readable summary of a result that ``gbv-risk score`` prints: the level first, then why."""

from __future__ import annotations

from .result import RiskResult
from .rulesets import RuleSet


def _lbl(rs: RuleSet, kind: str, key: str, lang: str) -> str:
    t = rs.compiled.labels.get(kind, {}).get(key)
    return (t.get(lang) or t.get("en")) if t else key.replace("_", " ")


def summary_text(r: RiskResult, rs: RuleSet, lang: str = "en", explain: bool = False) -> str:
    L = []
    head = f"Risk level: {_lbl(rs, 'levels', r.level, lang).upper()}"
    if r.override:
        head += (f"  (raised by professional judgement from "
                 f"{_lbl(rs, 'levels', r.computed_level, lang)}: {r.override.reason})")
    L.append(head)
    if r.provisional:
        lo, hi = r.level_range
        exact = "" if r.range_exact else " (too many unanswered items to narrow it)"
        L.append(f"PROVISIONAL: with the unanswered items it could be anywhere from "
                 f"{_lbl(rs, 'levels', lo, lang)} to {_lbl(rs, 'levels', hi, lang)}{exact}")
        if r.decisive_unanswered:
            L.append("  answer these to settle it: " + ", ".join(r.decisive_unanswered))
    elif r.unanswered:
        L.append(f"Unanswered: {', '.join(r.unanswered)} (none of them could change the level)")
    L.append(f"Case {r.subject or '-'}, assessed {r.assessment_date}; rule set "
             f"{r.ruleset}@{r.version} #{r.content_hash[:12]}; instrument {r.instrument}")
    scores = ", ".join(f"{d} {s}" for d, s in r.scores.items())
    L.append(f"Score: total {r.total} ({scores})")
    sets_level = {r_.id for r_ in rs.compiled.rules
                  if any(o.kind in ("level", "derive") for o in r_.outcomes)}
    why = [f for f in r.fired if f.kind == "rule" and f.id in sets_level]
    then = [f for f in r.fired if f.kind == "rule" and f.id not in sets_level]
    thresholds = [f for f in r.fired if f.kind == "threshold"]
    top = max(thresholds, key=lambda f: rs.compiled.levels.index(f.id.split(".", 1)[1]),
              default=None)
    if why or top:
        L.append("Why this level:")
        if top:
            L.append(f"  - {top.rationale} (total {r.total})" + (f"  [{top.id}]" if explain else ""))
        L += [f"  - {f.rationale}" + (f"  [{f.id}; {f.source}]" if explain else "") for f in why]
    if then:
        L.append("What follows:")
        L += [f"  - {f.rationale}" + (f"  [{f.id}; {f.source}]" if explain else "") for f in then]
    if r.flags:
        L.append("Red flags: " + ", ".join(_lbl(rs, "flags", x, lang) for x in r.flags))
    a = r.actions
    if a.intensity:
        L.append(f"Programme intensity: {_lbl(rs, 'intensities', a.intensity, lang)}")
    if a.referrals:
        L.append("Referrals: " + ", ".join(_lbl(rs, "agencies", x, lang) for x in a.referrals))
    if a.safety_steps:
        L.append("Victim safety: " + ", ".join(_lbl(rs, "safety_steps", x, lang)
                                               for x in a.safety_steps))
    if a.steps:
        L.append("Next steps: " + ", ".join(_lbl(rs, "steps", x, lang) for x in a.steps))
    if a.reassess_by:
        trig = (" or at once on " + ", ".join(_lbl(rs, "triggers", x, lang) for x in a.reassess_on)
                if a.reassess_on else "")
        L.append(f"Re-assess by {a.reassess_by} ({a.reassess_within_days} days){trig}")
    if explain:
        L.append("Item contributions:")
        if not r.contributions:
            L.append("  (no weighted item added points)")
        for c in sorted(r.contributions, key=lambda c: (-c.points, c.item)):
            L.append(f"  {c.points:+3d}  {c.item} = {c.answer}  ({c.domain})")
        if r.derived:
            L.append("Derived facts: " + ", ".join(_lbl(rs, "facts", x, lang) for x in r.derived))
        if r.level_changes:
            L.append("Dynamic items that would change the level:")
            for ch in r.level_changes:
                L.append(f"  {ch.item}: {ch.answer} -> {ch.if_answered} gives {ch.level}")
        else:
            L.append("No single change to a dynamic item would change the level.")
    return "\n".join(L)
