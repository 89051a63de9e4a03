"""The ``gbv-risk`` command: a thin layer over ``gbv_risk.api``.

Only domain errors (``GbvRiskError``) are expected here; each becomes one clear message on
stderr and its documented exit code. Anything else is a bug and says so, without a traceback
unless GBV_RISK_DEBUG is set.
"""

from __future__ import annotations

import os
import sys

import click

from ..errors import GbvRiskError
from ..messages import gettext as _
from ..messages import set_language


class Group(click.Group):
    def main(self, args=None, *rest, **options):
        """Arguments and GBV_RISK_ settings that are not UTF-8 text are refused before
        anything runs (``encoding.py``)."""
        from .encoding import not_text

        problem = not_text(sys.argv[1:] if args is None else args)
        if problem is not None:
            click.echo(_("error: {message}").format(message=problem), err=True)
            sys.exit(2)
        return super().main(args, *rest, **options)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except GbvRiskError as exc:
            click.echo(_("error: {message}").format(message=exc), err=True)
            sys.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo(_("interrupted"), err=True)
            sys.exit(130)
        except BrokenPipeError:
            # the reader stopped reading (`| head`): nothing is wrong, and nothing more to say
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(0)
        except Exception as exc:
            from ..faults import disk_error

            full = disk_error(exc)
            if full is not None:            # a full disk is no bug: name it, exit cleanly
                click.echo(_("error: {message}").format(message=full), err=True)
                sys.exit(full.exit_code)
            if os.environ.get("GBV_RISK_DEBUG"):
                raise
            click.echo(_("internal error (a bug in gbv-risk, please report it): {error}\n"
                         "set GBV_RISK_DEBUG=1 for details").format(error=_described(exc)),
                       err=True)
            sys.exit(1)


def _described(exc: Exception) -> str:
    """What went wrong, without what it was working on: a failed statement is named by the
    database's own first line, never by the statement or its values."""
    from sqlalchemy.exc import StatementError

    if isinstance(exc, StatementError) and exc.orig is not None:
        reason = (str(exc.orig).splitlines() or [""])[0]
        return f"{type(exc).__name__} ({type(exc.orig).__name__}): {reason}"
    return f"{type(exc).__name__}: {exc}"


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gbv-risk", prog_name="gbv-risk")
@click.option("--db", metavar="FILE|URL", envvar="GBV_RISK_DATABASE_URL",
              help="Case store: an SQLite file or an SQLAlchemy URL (PostgreSQL for the shared "
                   "database). Default: GBV_RISK_DATABASE_URL, else "
                   "~/.local/share/gbv-risk/gbv-risk.sqlite.")
@click.option("--busy-wait", metavar="SECONDS", type=click.FloatRange(0, 3600),
              default=30, envvar="GBV_RISK_BUSY_WAIT", show_default=True,  # uow.DEFAULT_WAIT
              help="How long a command waits for other users' changes to the database to "
                   "finish before it gives up and says the database is busy.")
@click.option("--lang", type=click.Choice(["en", "ru", "uz", "kaa"]), is_eager=True,
              expose_value=False, callback=lambda _ctx, _p, v: set_language(v),
              help="Language of messages and texts: en, ru, uz (Uzbek), kaa (Karakalpak). "
                   "Default: GBV_RISK_LANG, then the locale, then en.")
@click.pass_context
def main(ctx: click.Context, db: str | None, busy_wait: float) -> None:
    """Score intake assessments against declarative recurrence-risk rules and produce each
    case's next-step plan.

    Exit codes: 0 ok, 2 usage, 3 unreadable file, 4 invalid assessment, 5 invalid rule set or
    instrument, 6 rule-set tests failed, 7 engine failure, 8 not found, 9 record refused
    (nothing written), 10 key file missing or wrong (see `gbv-risk keys`), 11 backup or
    restore refused, 12 audit chain broken or outside your role or scope, 13 the disk is full
    or would not take a write (nothing written).
    """
    ctx.obj = {"db": db, "busy_wait": busy_wait}


from . import (  # noqa: E402
    assess,
    cases,
    compliance,
    db,
    demo,
    instruments,
    keys,
    plans,
    programmes,
    research,
    rules,
    score,
    sessions,
)

for command in (score.score, instruments.instruments, rules.rules, plans.plan, db.db,
                cases.case, cases.incident, cases.order, cases.referral, assess.assess,
                programmes.program, sessions.session, compliance.compliance, demo.demo_data,
                research.research, keys.keys):
    main.add_command(command)

from . import audit, users  # noqa: E402

main.add_command(audit.audit)
main.add_command(users.user)

from .agenda import agenda as _agenda  # noqa: E402

main.add_command(_agenda)

# last: every command above must be registered before its help is made translatable
from .localise import localise, localise_click  # noqa: E402

localise(main)
localise_click()
