from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
MINI_RULES = DATA / "rules"
EXAMPLES = ROOT / "rules" / "examples"


@pytest.fixture
def mini_rules(monkeypatch):
    """Point the library at the small test instrument and rule set."""
    monkeypatch.setenv("GBV_RISK_RULES_DIR", str(MINI_RULES))
    return MINI_RULES


def run_cli(*args: str, stdin: str | None = None, env: dict | None = None,
            cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The CLI as a user runs it: a separate process, real exit code, real stderr."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("GBV_RISK_DEBUG", None)
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], input=stdin,
                          capture_output=True, text=True, env=full_env, cwd=cwd or ROOT,
                          timeout=120)
