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
            if os.environ.get("GBV_RISK_DEBUG"):
                raise
            click.echo(_("internal error (a bug in gbv-risk, please report it): {error}\n"
                         "set GBV_RISK_DEBUG=1 for details").format(
                error=f"{type(exc).__name__}: {exc}"), err=True)
            sys.exit(1)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gbv-risk", prog_name="gbv-risk")
@click.option("--db", metavar="FILE|URL", envvar="GBV_RISK_DATABASE_URL",
              help="Case store: an SQLite file or an SQLAlchemy URL (PostgreSQL for the shared "
                   "database). Default: GBV_RISK_DATABASE_URL, else "
                   "~/.local/share/gbv-risk/gbv-risk.sqlite.")
@click.option("--lang", type=click.Choice(["en", "ru", "uz", "kaa"]), is_eager=True,
              expose_value=False, callback=lambda _ctx, _p, v: set_language(v),
              help="Language of messages and texts: en, ru, uz (Uzbek), kaa (Karakalpak). "
                   "Default: GBV_RISK_LANG, then the locale, then en.")
@click.pass_context
def main(ctx: click.Context, db: str | None) -> None:
    """Score intake assessments against declarative recurrence-risk rules and produce each
    case's next-step plan.

    Exit codes: 0 ok, 2 usage, 3 unreadable file, 4 invalid assessment, 5 invalid rule set or
    instrument, 6 rule-set tests failed, 7 engine failure, 8 not found, 9 record refused
    (nothing written), 10 key file missing or wrong (see `gbv-risk keys`), 11 backup or
    restore refused, 12 audit chain broken or outside your role or scope.
    """
    ctx.obj = {"db": db}


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
