"""The codes the store and the rule sets use (levels, statuses, incident types, roles, table
names...) as a person reads them, in the reader's language.

JSON, CSV and the database keep the codes; a person is shown the words. ``N_`` only marks a
text for the catalogues; the lookup happens when the text is shown, in the language of that
run.
"""

from __future__ import annotations

from .messages import N_, _

# coded value -> how a person reads it
CODES: dict[str, str] = {
    # risk levels, and the compliance rule set's levels
    "low": N_("low"),
    "moderate": N_("moderate"),
    "high": N_("high"),
    "very_high": N_("very high"),
    "compliant": N_("compliant"),
    "warning": N_("warning"),
    "breach_suggested": N_("breach suggested"),
    "completed": N_("completed"),
    # programme intensities (research backtest: what providers would be asked for)
    "none": N_("none"),
    "intensive": N_("intensive"),
    "referrals": N_("referrals"),
    "intensity": N_("intensity"),
    # a release of a plan element to the subject's copy, or its withdrawal
    "release": N_("release"),
    "withdrawal": N_("withdrawal"),
    # case status
    "open": N_("open"),
    "closed": N_("closed"),
    # enrolment status
    "referred": N_("referred"),
    "on_programme": N_("on programme"),
    "suspended": N_("suspended"),
    "breached": N_("breached"),
    "withdrawn": N_("withdrawn"),
    # referral status
    "sent": N_("sent"),
    "accepted": N_("accepted"),
    "declined": N_("declined"),
    # incident types
    "physical": N_("physical"),
    "sexual": N_("sexual"),
    "psychological": N_("psychological"),
    "economic": N_("economic"),
    "threat": N_("threat"),
    "stalking": N_("stalking"),
    # instrument items: answer type, who the answer comes from, whether it can change
    "yes_no": N_("yes/no"),
    "count": N_("count"),
    "choice": N_("choice"),
    "date": N_("date"),
    "records": N_("records"),
    "perpetrator": N_("perpetrator"),
    "victim": N_("victim"),
    "collateral": N_("collateral"),
    "static": N_("static"),
    "dynamic": N_("dynamic"),
    "yes": N_("yes"),
    "no": N_("no"),
    # whether the day a legal rule took effect was confirmed in a source (rules legal)
    "confirmed": N_("confirmed"),
    "unconfirmed": N_("unconfirmed"),
    # programme session formats
    "group": N_("group"),
    "individual": N_("individual"),
    "mixed": N_("mixed"),
    # plan versions
    "initial": N_("initial"),
    "review": N_("review"),
    "closing": N_("closing"),
    # audit actions
    "insert": N_("insert"),
    "update": N_("update"),
    "delete": N_("delete"),
    "read": N_("read"),
    "reseal": N_("reseal"),
    # user roles
    "administrator": N_("administrator"),
    "psychologist": N_("psychologist"),
    "officer": N_("officer"),
    "researcher": N_("researcher"),
    # backtest: the row of every case, before the rows per district or mahalla
    "all": N_("all"),
    # a programme's needs
    "alcohol": N_("alcohol"),
    "drugs": N_("drugs"),
    "unemployment": N_("unemployment"),
    "mental_health": N_("mental health"),
    "parenting": N_("parenting"),
    "housing": N_("housing"),
    "young_age": N_("young age"),
    "attitudes": N_("attitudes"),
    "motivation": N_("motivation"),
    # the store's tables (db status, audit show); --table and JSON/CSV keep the names
    "subjects": N_("subjects"),
    "cases": N_("cases"),
    "subject_identities": N_("subject identities"),
    "assessments": N_("assessments"),
    "enrolments": N_("enrolments"),
    "enrolment_transitions": N_("enrolment transitions"),
    "incidents": N_("incidents"),
    "outcomes": N_("outcomes"),
    "plans": N_("plans"),
    "protection_orders": N_("protection orders"),
    "order_extensions": N_("order extensions"),
    "order_violations": N_("order violations"),
    "sessions": N_("sessions"),
    "session_corrections": N_("session corrections"),
    "users": N_("users"),
    "user_scopes": N_("user scopes"),
}


def code(value: str) -> str:
    """One coded value as a person reads it; an unknown code is shown as it is."""
    text = CODES.get(value)
    return _(text) if text is not None else value
