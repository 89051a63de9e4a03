"""Model programmes: one file each under ``program_templates/programmes``, validated on load
like rule sets. A programme says who delivers it, to whom (risk levels, needs), how much
(sessions, frequency, length), and its compliance policy, which the compliance check reads."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .. import resources
from ..errors import DefinitionError, NotFoundError, Problem
from ..i18n import Text
from ..messages import _
from ..validation import parse_model
from ..yamlio import load_data

ID = r"^[a-z][a-z0-9_]*$"
LEVELS = ("low", "moderate", "high", "very_high")
PROVIDER_TYPES = (
    "prevention_inspector", "family_doctor", "district_psychiatrist", "forensic_expert",
    "narcologist", "rehab_psychologist", "school_psychologist", "ngo_psychologist",
    "inson_centre", "employment_centre", "mahalla_womens_chair", "youth_agency",
)
NEEDS = ("alcohol", "drugs", "unemployment", "mental_health", "parenting", "housing",
         "young_age", "attitudes", "motivation")
EVENTS = ("new_incident", "order_violation", "unacceptable_absence", "failed_to_comply")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Module(Strict):
    id: str = Field(pattern=ID)
    title: Text
    sessions: int = Field(ge=1, le=60)


class Schedule(Strict):
    sessions: int = Field(ge=1, le=100)
    every_days: int = Field(ge=1, le=90, description="days between sessions")
    minutes: int = Field(ge=10, le=480)
    format: Literal["individual", "group", "mixed"]


class CompliancePolicy(Strict):
    """Failures are unacceptable absences and sessions attended without complying."""

    window_days: int = Field(ge=7, le=365)
    warn_after_failures: int = Field(ge=1)
    breach_after_failures: int = Field(ge=1)
    consecutive_absences_breach: int | None = Field(default=None, ge=1)
    minimum_attendance_percent: int = Field(ge=0, le=100)
    evidence_deadline_days: int = Field(ge=1, le=60)
    breach_events: tuple[Literal["new_incident", "order_violation"], ...] = ()

    @model_validator(mode="after")
    def _ordered(self):
        if self.breach_after_failures < self.warn_after_failures:
            raise ValueError(_("breach_after_failures must be at least warn_after_failures"))
        return self


class Programme(Strict):
    programme: str = Field(pattern=ID)
    version: str
    provider_type: Literal[PROVIDER_TYPES]  # type: ignore[valid-type]
    title: Text
    description: Text
    source: str = Field(min_length=3)
    risk_levels: tuple[Literal[LEVELS], ...] = Field(min_length=1)  # type: ignore[valid-type]
    intensities: tuple[Literal["low", "moderate", "high", "intensive"], ...] = Field(min_length=1)
    needs: tuple[Literal[NEEDS], ...] = ()  # type: ignore[valid-type]
    delivered_with: tuple[Literal[PROVIDER_TYPES], ...] = ()  # type: ignore[valid-type]
    start_within_days: int = Field(ge=0, le=90)
    schedule: Schedule
    modules: tuple[Module, ...] = Field(min_length=1)
    goals: tuple[Text, ...] = Field(min_length=1)
    compliance: CompliancePolicy
    reassess_every_days: int = Field(ge=7, le=365)
    partner_safety_contact: bool = False
    contraindications: tuple[Text, ...] = ()
    # when it is recommended beyond its levels and needs (programmes/assign.py):
    brought_in_at: tuple[Literal[LEVELS], ...] = Field(  # type: ignore[valid-type]
        default=(), description="levels at which it joins the core programme: the "
                                "multi-agency response")
    follows_steps: tuple[str, ...] = Field(
        default=(), description="rule-set steps that call for it (e.g. the correction plan "
                                "that follows a protection order)")
    requires_order: bool = Field(
        default=False, description="only while the case has a protection order in force")

    @model_validator(mode="after")
    def _modules_fit(self):
        total = sum(m.sessions for m in self.modules)
        if total != self.schedule.sessions:
            raise ValueError(_("modules add up to {total} sessions but schedule.sessions is "
                               "{sessions}").format(total=total, sessions=self.schedule.sessions))
        ids = [m.id for m in self.modules]
        if len(ids) != len(set(ids)):
            raise ValueError(_("module ids must be unique"))
        return self

    @property
    def weeks(self) -> float:
        return round(self.schedule.sessions * self.schedule.every_days / 7, 1)


def load_programme_file(path: Path | str) -> Programme:
    data, name = load_data(path)
    if not isinstance(data, dict):
        raise DefinitionError(_("{file}: a programme file must be a mapping").format(file=name),
                              [Problem(name, "", _("expected keys programme, version, ..."))])
    return parse_model(Programme, data, name, "programme")


def programmes_dir() -> Path:
    return resources.templates_dir() / "programmes"


@lru_cache(maxsize=4)
def _load_all(directory: str) -> dict[str, Programme]:
    out: dict[str, Programme] = {}
    problems: list[Problem] = []
    for path in sorted(Path(directory).glob("*.y*ml")):
        try:
            p = load_programme_file(path)
        except DefinitionError as exc:
            problems += exc.problems or [Problem(str(path), "", exc.message)]
            continue
        if p.programme in out:
            problems.append(Problem(str(path), "programme", _("duplicate id {programme}").format(
                programme=repr(p.programme))))
        out[p.programme] = p
    if problems:
        raise DefinitionError(_("{directory}: invalid programme catalogue").format(
            directory=directory), problems)
    return out


def catalogue() -> dict[str, Programme]:
    return dict(_load_all(str(programmes_dir())))


def get_programme(pid: str) -> Programme:
    cat = catalogue()
    if pid not in cat:
        raise NotFoundError(_("unknown programme {programme}; available: {known}").format(
            programme=repr(pid), known=", ".join(sorted(cat))))
    return cat[pid]
