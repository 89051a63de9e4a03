"""What a schema revision defines is what a fresh migration to it makes, and migrations 0004
on build their protections from the code of the version that runs them. So a change to
that code without a new revision would silently redefine a revision already released, and
every backup made at it would be refused by `db restore` as tampered. This test pins a
digest of each revision's protections (policies, grants, triggers, functions, views, as
``catalogue`` sees them); a change needs a new migration, and a new pin for it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from conftest import fresh_database
from sqlalchemy.engine import make_url

from gbv_risk.store import catalogue
from gbv_risk.store.access import ROLES, group_name
from gbv_risk.store.db import engine_for
from gbv_risk.store.migrate import upgrade

PINNED = {
    "0006": "bce335c359f87c25ab58c033ddb060b903abe89b313455b6555716695f5c88e9",
    "0007": "584dd0e40394bc5e1f5e826d24da279fd940f704ab707d6b30c9f75176776a5d",
}


def digest(url: str) -> str:
    name = make_url(url).database
    with engine_for(url).begin() as conn:
        snapshot = catalogue.take(conn, {r: group_name(name, r) for r in ROLES})
    return hashlib.sha256(json.dumps(snapshot, sort_keys=True).encode()).hexdigest()


@pytest.mark.parametrize("revision", sorted(PINNED))
def test_a_released_revision_keeps_its_protections(revision):
    with fresh_database("postgresql", Path()) as url:
        upgrade(url, revision)
        assert digest(url) == PINNED[revision], (
            f"the protections schema {revision} defines have changed: put the change in a new "
            f"migration instead (what a revision defines must not move, or its backups no "
            f"longer restore)")
