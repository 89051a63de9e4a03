"""The typed result of scoring one assessment: a level with its reasons, never a bare number
presented as a probability (published instruments in this field predict only modestly)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict


class FiredRule(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str
    rationale: str      # English, whatever the language: shown via summary.rationale_text
    source: str
    kind: str = "rule"
    victim_informed: bool = False


class Contribution(BaseModel):
    model_config = ConfigDict(frozen=True)
    item: str
    domain: str
    answer: str
    points: int


class LevelChange(BaseModel):
    """A dynamic item whose change would move the level: what intervention could work on."""

    model_config = ConfigDict(frozen=True)
    item: str
    answer: str
    if_answered: str
    level: str


class Actions(BaseModel):
    model_config = ConfigDict(frozen=True)
    intensity: str | None = None
    referrals: list[str] = []
    safety_steps: list[str] = []
    steps: list[str] = []
    reassess_within_days: int | None = None
    reassess_by: dt.date | None = None
    reassess_on: list[str] = []
    needs: list[str] = []           # changeable needs the rules found (programme assignment)


class CouldAdd(BaseModel):
    """What answers to the unanswered items could add to the actions and flags: every value
    some way of answering them brings that the result lacks, the highest programme intensity
    and the shortest re-assessment interval they could bring. Not ``exact``: too many ways to
    try them all, so it may name something no answer brings, but misses nothing."""

    model_config = ConfigDict(frozen=True)
    intensity: str | None = None
    referrals: list[str] = []
    safety_steps: list[str] = []
    steps: list[str] = []
    flags: list[str] = []
    reassess_within_days: int | None = None
    reassess_on: list[str] = []
    needs: list[str] = []
    exact: bool = True

    @property
    def empty(self) -> bool:
        return not (self.intensity or self.referrals or self.safety_steps or self.steps
                    or self.flags or self.reassess_within_days or self.reassess_on
                    or self.needs)


class OverrideRecord(BaseModel):
    model_config = ConfigDict(frozen=True)
    level: str
    reason: str
    by: str | None = None


class RiskResult(BaseModel):
    model_config = ConfigDict(frozen=True)
    ruleset: str
    version: str
    content_hash: str
    instrument: str
    assessment_date: dt.date
    subject: str | None = None
    level: str
    computed_level: str
    override: OverrideRecord | None = None
    provisional: bool = False
    level_range: tuple[str, str]
    range_exact: bool = True
    unanswered: list[str] = []
    decisive_unanswered: list[str] = []     # every item of decisive_sets (older readers)
    decisive_sets: list[list[str]] = []     # smallest sets whose answers can move the level
    decisive_exact: bool = True             # false: there may be other such sets
    could_add: CouldAdd | None = None      # None: not worked out (a result stored before)
    scores: dict[str, int]
    total: int
    fired: list[FiredRule]
    derived: list[str]
    flags: list[str]
    actions: Actions
    contributions: list[Contribution] = []
    level_changes: list[LevelChange] = []
