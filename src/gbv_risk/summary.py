"""The readable summary of a result that ``gbv-risk score`` prints: the level first, then why."""

from __future__ import annotations

from .messages import _, in_language
from .result import FiredRule, RiskResult
from .rulesets import RuleSet


def rationale_text(rs: RuleSet, f: FiredRule, lang: str) -> str:
    """Why a fired rule fired, in ``lang``. The result stores the English, and English is
    shown exactly as stored; a rule's other languages come from the rule set, a threshold's
    from the program's messages with the level's label in ``lang``."""
    with in_language(lang):
        if lang == "en":
            return f.rationale
        if f.kind == "threshold" and f.id.startswith("threshold."):
            level = f.id.split(".", 1)[1]
            return _("Total score reaches the threshold for {level}").format(
                level=rs.compiled.label("levels", level, lang))
        return rs.compiled.rationale(f.id, lang, f.rationale)


SETS_SHOWN = 10      # decisive sets printed; the JSON output has them all


def decisive_lines(r: RiskResult) -> list[str]:
    """The smallest sets of unanswered items whose answers could change the level, one set a
    line (items of a set joined by +), or the items alone for a result stored before sets."""
    if not r.decisive_sets:
        if not r.decisive_unanswered:
            return []
        return ["  " + _("answer these to settle it: {items}").format(
            items=", ".join(r.decisive_unanswered))]
    out = ["  " + _("any one of these sets of answers could change the level:")]
    out += ["    - " + " + ".join(s) for s in r.decisive_sets[:SETS_SHOWN]]
    if len(r.decisive_sets) > SETS_SHOWN:
        out.append("    " + _("... and {count} more such sets (--format json lists them "
                              "all)").format(count=len(r.decisive_sets) - SETS_SHOWN))
    if not r.decisive_exact:
        out.append("  " + _("(there may be other such sets: too many unanswered items to try "
                            "every combination)"))
    return out


def unanswered_line(r: RiskResult) -> str:
    """Unanswered items that cannot move the level: whether they could still add actions."""
    items = ", ".join(r.unanswered)
    if r.could_add is None:          # stored before what they could add was worked out
        return _("Unanswered: {items} (none of them could change the level)").format(
            items=items)
    if r.could_add.empty:
        return _("Unanswered: {items} (none of them could change the level or add an "
                 "action)").format(items=items)
    return _("Unanswered: {items} (they cannot change the level, but their answers could "
             "add actions)").format(items=items)


def could_add_lines(r: RiskResult, rs: RuleSet, lang: str) -> list[str]:
    """What answers to the unanswered items could add to the actions and red flags."""
    with in_language(lang):
        c = r.could_add
        if c is None or c.empty:
            return []

        def names(kind: str, codes: list[str]) -> str:
            return ", ".join(rs.compiled.label(kind, x, lang) for x in codes)

        out = [_("What the unanswered items could add, depending on their answers:") if c.exact
               else _("What the unanswered items might add (too many combinations to try them "
                      "all, so some of these may not be possible):")]
        if c.flags:
            out.append("  " + _("Red flags: {flags}").format(flags=names("flags", c.flags)))
        if c.intensity:
            out.append("  " + _("Programme intensity up to {intensity}").format(
                intensity=rs.compiled.label("intensities", c.intensity, lang)))
        for codes, kind, text in (
                (c.referrals, "agencies", _("Referrals: {agencies}")),
                (c.needs, "needs", _("Needs: {needs}")),
                (c.safety_steps, "safety_steps", _("Victim safety: {steps}")),
                (c.steps, "steps", _("Next steps: {steps}"))):
            if codes:
                out.append("  " + text.format(agencies=names(kind, codes), needs=names(kind, codes),
                                              steps=names(kind, codes)))
        if c.reassess_within_days:
            out.append("  " + _("Re-assess within {days} days").format(days=c.reassess_within_days))
        if c.reassess_on:
            out.append("  " + _("Re-assess at once on {triggers}").format(
                triggers=names("triggers", c.reassess_on)))
        return out


def summary_text(r: RiskResult, rs: RuleSet, lang: str = "en", explain: bool = False) -> str:
    with in_language(lang):
        L = []

        def level(code: str) -> str:
            return rs.compiled.label("levels", code, lang)

        def level_or_code(code: str) -> str:
            # English has always named the level by its id in these lines; other languages by label
            return code if lang == "en" else level(code)

        head = _("Risk level: {level}").format(level=level(r.level).upper())
        if r.override:
            head += "  " + _("(raised by professional judgement from {level}: {reason})").format(
                level=level(r.computed_level), reason=r.override.reason)
        L.append(head)
        if r.provisional:
            lo, hi = r.level_range
            if r.range_exact:
                L.append(_("PROVISIONAL: with the unanswered items it could be anywhere from "
                           "{low} to {high}").format(low=level(lo), high=level(hi)))
            else:
                L.append(_("PROVISIONAL: with the unanswered items it could be anywhere from "
                           "{low} to {high} (too many unanswered items to narrow it)").format(
                    low=level(lo), high=level(hi)))
            L += decisive_lines(r)
        elif r.unanswered:
            L.append(unanswered_line(r))
        L.append(_("Case {subject}, assessed {date}; rule set {ruleset} #{content_hash}; "
                   "instrument {instrument}").format(
            subject=r.subject or "-", date=r.assessment_date, ruleset=f"{r.ruleset}@{r.version}",
            content_hash=r.content_hash[:12], instrument=r.instrument))
        titles = {d.id: d.title.get(lang) for d in rs.instrument.domains}
        scores = "; ".join(f"{titles.get(d, d)}: {s}" for d, s in r.scores.items())
        L.append(_("Score: total {total} ({scores})").format(total=r.total, scores=scores))
        sets_level = {r_.id for r_ in rs.compiled.rules
                      if any(o.kind in ("level", "derive") for o in r_.outcomes)}
        why = [f for f in r.fired if f.kind == "rule" and f.id in sets_level]
        then = [f for f in r.fired if f.kind == "rule" and f.id not in sets_level]
        thresholds = [f for f in r.fired if f.kind == "threshold"]
        top = max(thresholds, key=lambda f: rs.compiled.levels.index(f.id.split(".", 1)[1]),
                  default=None)

        def reason(f: FiredRule) -> str:
            return "  - " + rationale_text(rs, f, lang) + (f"  [{f.id}; {f.source}]" if explain
                                                             else "")

        if why or top:
            L.append(_("Why this level:"))
            if top:
                L.append("  - " + _("{reason} (total {total})").format(
                    reason=rationale_text(rs, top, lang), total=r.total)
                    + (f"  [{top.id}]" if explain else ""))
            L += [reason(f) for f in why]
        if then:
            L.append(_("What follows:"))
            L += [reason(f) for f in then]

        def names(vocabulary: str, codes) -> str:
            return ", ".join(rs.compiled.label(vocabulary, x, lang) for x in codes)

        if r.flags:
            L.append(_("Red flags: {flags}").format(
                flags=names("flags", r.flags)))
        a = r.actions
        if a.intensity:
            L.append(_("Programme intensity: {intensity}").format(
                intensity=names("intensities", [a.intensity])))
        if a.referrals:
            L.append(_("Referrals: {agencies}").format(
                agencies=names("agencies", a.referrals)))
        if a.needs:
            L.append(_("Needs: {needs}").format(
                needs=names("needs", a.needs)))
        if a.safety_steps:
            L.append(_("Victim safety: {steps}").format(
                steps=names("safety_steps", a.safety_steps)))
        if a.steps:
            L.append(_("Next steps: {steps}").format(
                steps=names("steps", a.steps)))
        if a.reassess_by:
            if a.reassess_on:
                L.append(_("Re-assess by {date} ({days} days) or at once on {triggers}").format(
                    date=a.reassess_by, days=a.reassess_within_days,
                    triggers=names("triggers", a.reassess_on)))
            else:
                L.append(_("Re-assess by {date} ({days} days)").format(
                    date=a.reassess_by, days=a.reassess_within_days))
        L += could_add_lines(r, rs, lang)
        if explain:
            L.append(_("Item contributions:"))
            if not r.contributions:
                L.append("  " + _("(no weighted item added points)"))
            for c in sorted(r.contributions, key=lambda c: (-c.points, c.item)):
                L.append(f"  {c.points:+3d}  {c.item} = {c.answer}  ({c.domain})")
            if r.derived:
                L.append(_("Derived facts: {facts}").format(
                    facts=", ".join(rs.compiled.label("facts", x, lang) for x in r.derived)))
            if r.level_changes:
                L.append(_("Dynamic items that would change the level:"))
                for ch in r.level_changes:
                    L.append("  " + _("{item}: {answer} -> {if_answered} gives {level}").format(
                        item=ch.item, answer=ch.answer, if_answered=ch.if_answered,
                        level=level_or_code(ch.level)))
            else:
                L.append(_("No single change to a dynamic item would change the level."))
        return "\n".join(L)
