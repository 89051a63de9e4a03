"""``gbv-risk session``: schedule, record and correct programme sessions."""

from __future__ import annotations

import click

from ..messages import _
from .context import DATE, in_store

OUTCOMES = ["attended_complied", "attended_failed_to_comply", "acceptable_absence",
            "unacceptable_absence", "awaiting_evidence"]
REASONS = ["medical", "court", "work", "childcare", "bereavement", "transport",
           "religious_observance", "other_accepted"]


@click.group()
def session() -> None:
    """Programme sessions and their outcomes."""


@session.command("schedule")
@click.argument("enrolment_id", type=int)
@click.option("--on", "on", type=DATE, required=True)
@click.option("--kind", type=click.Choice(["catch_up", "scheduled"]), default="catch_up",
              show_default=True)
@click.pass_context
def schedule(ctx, enrolment_id, on, kind) -> None:
    """Add a session (a catch-up by default)."""
    from ..store.records import schedule_session

    rec = in_store(ctx, lambda s: schedule_session(s, enrolment_id, on, kind))
    click.echo(_("session #{id} ({kind}) on {date} for enrolment #{enrolment}").format(
        id=rec.id, kind=kind, date=on, enrolment=enrolment_id))


@session.command("record")
@click.argument("enrolment_id", type=int)
@click.option("--on", "on", type=DATE, required=True)
@click.option("--outcome", type=click.Choice(OUTCOMES), required=True)
@click.option("--reason", type=click.Choice(REASONS), help="For an acceptable absence.")
@click.option("--evidence-due", type=DATE, help="For awaiting evidence: the deadline after "
              "which it counts as unacceptable.")
@click.option("--by", help="Who recorded it.")
@click.pass_context
def record(ctx, enrolment_id, on, outcome, reason, evidence_due, by) -> None:
    """Record the outcome of a session."""
    from ..store.records import record_session

    rec = in_store(ctx, lambda s: record_session(s, enrolment_id, on, outcome, reason,
                                                 evidence_due, by))
    click.echo(_("session #{id} on {date}: {outcome}").format(id=rec.id, date=on,
                                                               outcome=outcome))


@session.command("correct")
@click.argument("session_id", type=int)
@click.option("--outcome", type=click.Choice(OUTCOMES), required=True)
@click.option("--reason", "why", required=True, help="Why the record is corrected.")
@click.option("--absence-reason", type=click.Choice(REASONS))
@click.option("--evidence-due", type=DATE)
@click.option("--by")
@click.pass_context
def correct(ctx, session_id, outcome, why, absence_reason, evidence_due, by) -> None:
    """Correct a recorded outcome, with a reason; the old one is kept in the history."""
    from ..store.records import correct_session

    in_store(ctx, lambda s: correct_session(s, session_id, outcome, why, absence_reason,
                                            evidence_due, by))
    click.echo(_("session #{id} corrected to {outcome}").format(id=session_id, outcome=outcome))
