"""What a table calls its columns and its coded values, in the reader's language.

JSON and CSV keep the codes (programs read them); a table is for a person, so its headings
and its coded cells (levels, statuses, yes/no) are looked up here and translated. ``N_`` only
marks a text for the catalogues; the lookup happens when the table is drawn, in the language
of that run.
"""

from __future__ import annotations

from typing import Any

from ..codes import CODES, code
from ..messages import N_, _

__all__ = ["CODES", "cell", "code", "heading"]


# column key -> heading (English, the message id)
HEADINGS: dict[str, str] = {
    # cases (case list, case find, case show, compliance, agenda)
    "case": N_("case"),
    "subject": N_("subject"),
    "district": N_("district"),
    "mahalla": N_("mahalla"),
    "officer": N_("officer"),
    "status": N_("status"),
    "level": N_("level"),
    "assessed": N_("assessed on"),
    "opened": N_("opened on"),
    # case show: incidents, orders, assessments, enrolments, referrals, plans
    "id": N_("id"),
    "date": N_("date"),
    "type": N_("type"),
    "severity": N_("severity"),
    "issued_on": N_("issued on"),
    "expires_on": N_("expires on"),
    "extensions": N_("extensions"),
    "violations": N_("violations"),
    "computed_level": N_("computed level"),
    "ruleset": N_("rule set"),
    "provisional": N_("provisional"),
    "reassess_by": N_("re-assess by"),
    "corrects": N_("corrects"),
    "programme": N_("programme"),
    "provider": N_("provider"),
    "start_on": N_("starts on"),
    "sessions": N_("sessions"),
    "attended": N_("attended"),
    "failures": N_("failures"),
    "from_agency": N_("from agency"),
    "to_agency": N_("to agency"),
    "updated_on": N_("updated on"),
    "version": N_("version"),
    "kind": N_("kind"),
    "created_on": N_("created on"),
    "agreed": N_("agreed"),
    "countersigned_by": N_("countersigned by"),
    # compliance check (per case, per district/mahalla/officer, orders, re-assessments)
    "reasons": N_("reasons"),
    "next steps": N_("next steps"),
    "flags": N_("flags"),
    "programmes": N_("programmes"),
    "order_expires": N_("order expires"),
    "cases": N_("cases"),
    "compliant": N_("compliant"),
    "warning": N_("warning"),
    "breach_suggested": N_("breach suggested"),
    "completed": N_("completed"),
    # instruments list / show
    "key": N_("key"),
    "items": N_("items"),
    "title": N_("title"),
    "allowed": N_("allowed answers"),
    "required": N_("required"),
    "domain": N_("domain"),
    "source": N_("source"),
    "change": N_("change"),
    "question": N_("question"),
    # program list
    "levels": N_("levels"),
    "needs": N_("needs"),
    "weeks": N_("weeks"),
    "format": N_("format"),
    # rules list
    "extends": N_("extends"),
    "instrument": N_("instrument"),
    "rules": N_("rules"),
    "tests": N_("tests"),
    "hash": N_("hash"),
    "file": N_("file"),
    # rules legal
    "rule": N_("rule"),
    "effective_from": N_("in force from"),
    "act": N_("act"),
    "date_status": N_("date status"),
    "date_source": N_("date checked against"),
    "duration_days": N_("length (days)"),
    "extension_days": N_("extension (days)"),
    "max_extensions": N_("extensions allowed"),
    # research backtest (the reclassification's "to_<level>" columns: see heading())
    "group": N_("subgroup"),
    "share": N_("share"),
    "recurred": N_("recurred"),
    "rate": N_("rate"),
    "rate_low": N_("rate (low)"),
    "rate_high": N_("rate (high)"),
    "auc": N_("AUC"),
    "auc_low": N_("AUC (low)"),
    "auc_high": N_("AUC (high)"),
    "override_rate": N_("override rate"),
    "from": N_("from"),
    "what": N_("what"),
    "value": N_("value"),
    "a": N_("A"),
    "b": N_("B"),
    # audit show
    "at": N_("when"),
    "actor": N_("who"),
    "action": N_("action"),
    "table_name": N_("table"),
    "record_id": N_("record"),
    # db status
    "table": N_("table"),
    "rows": N_("rows"),
    # user list
    "name": N_("name"),
    "role": N_("role"),
    "districts": N_("districts"),
    "mahallas": N_("mahallas"),
    # plan releases
    "on": N_("on"),
    "element": N_("element"),
    "by": N_("by"),
    "reason": N_("reason"),
    # agenda
    "time": N_("time"),
    "agency": N_("agency or provider"),
}

# columns whose values are codes from CODES
CODED: frozenset[str] = frozenset({
    "status", "level", "computed_level", "levels", "from", "type", "source", "change",
    "required", "format", "kind", "action", "role", "group", "what", "value", "needs",
    "table", "table_name", "date_status",
})

# headings asked for that have no entry: the tests run the commands and require it empty
UNKNOWN: set[str] = set()

# research backtest --against: one column per level of rule set B, "to_<level>"
_TO = "to_"


def heading(column: str) -> str:
    text = HEADINGS.get(column)
    if text is None:
        if column.startswith(_TO) and len(column) > len(_TO):
            return _("to {level}").format(level=code(column[len(_TO):]))
        UNKNOWN.add(column)
        return column
    return _(text)


def cell(column: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    text = str(value)
    if column in CODED:
        # "high,very_high" (a programme's levels) is a list of codes; anything else (a free
        # text that happens to sit in a coded column, an id not in CODES) is left as it is
        parts = text.split(",")
        if all(p in CODES for p in parts):
            return ", ".join(_(CODES[p]) for p in parts)
    return text
