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
    decisive_unanswered: list[str] = []
    scores: dict[str, int]
    total: int
    fired: list[FiredRule]
    derived: list[str]
    flags: list[str]
    actions: Actions
    contributions: list[Contribution] = []
    level_changes: list[LevelChange] = []
