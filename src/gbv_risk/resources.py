"""The one place that knows where shipped rule sets, instruments and templates live.

In an installed wheel they are package data under ``gbv_risk/_data``; in a checkout they are
the top-level ``rules/`` and ``program_templates/`` folders. ``GBV_RISK_RULES_DIR`` and
``GBV_RISK_TEMPLATES_DIR`` let a researcher point at a working copy of their own.
"""

from __future__ import annotations

import os
from pathlib import Path

_PKG = Path(__file__).resolve().parent


def _shipped(name: str) -> Path:
    packaged = _PKG / "_data" / name
    if packaged.is_dir():
        return packaged
    return _PKG.parents[1] / name


def rules_dir() -> Path:
    return Path(os.environ.get("GBV_RISK_RULES_DIR") or _shipped("rules"))


def templates_dir() -> Path:
    return Path(os.environ.get("GBV_RISK_TEMPLATES_DIR") or _shipped("program_templates"))


def instruments_dir() -> Path:
    return rules_dir() / "instruments"


def rulesets_dir() -> Path:
    return rules_dir() / "rulesets"


def examples_dir() -> Path:
    return rules_dir() / "examples"
