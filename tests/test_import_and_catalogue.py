"""Bulk import is all or nothing and safe to re-run; the programme catalogue is validated on
load like rule sets."""

from __future__ import annotations

import json
import shutil

import yaml
from conftest import DATA, EXAMPLES, ROOT, run_cli
from sqlalchemy import func, select

from gbv_risk.store.db import engine_for
from gbv_risk.store.models import AssessmentRecord


def rows_for(case: str, n: int) -> list[dict]:
    names = ["low_risk", "moderate_risk", "high_risk", "very_high_risk"]
    out = []
    for i in range(n):
        d = yaml.safe_load((EXAMPLES / f"{names[i % 4]}.yaml").read_text())
        d = json.loads(json.dumps(d, default=str))
        d.update(case=case, key=f"row-{i}")
        out.append(d)
    return out


def count(url: str) -> int:
    with engine_for(url).connect() as c:
        return c.execute(select(func.count()).select_from(AssessmentRecord)).scalar_one()


def write(path, rows, extra: str = "") -> None:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n" + extra)


def test_import_all_or_nothing_then_idempotent(store_db, tmp_path):
    out = run_cli("--db", store_db, "case", "add", "C-1", "--subject", "S-1", "--district", "d",
                  "--mahalla", "m", "--officer", "o", "--opened", "2025-01-01")
    assert out.returncode == 0, out.stderr
    rows = rows_for("C-1", 8)
    bad = [dict(r) for r in rows]
    bad[2]["case"] = "C-404"
    bad[5]["responses"] = dict(bad[5]["responses"], prior_custody="perhaps")
    path = tmp_path / "bad.jsonl"
    write(path, bad, "{not json\n")
    out = run_cli("--db", store_db, "assess", "import", str(path))
    assert out.returncode == 9
    for words in ("line 3", "C-404", "line 6", "prior_custody", "line 9", "not valid JSON",
                  "nothing was imported"):
        assert words in out.stderr, (words, out.stderr)
    assert count(store_db) == 0

    good = tmp_path / "good.jsonl"
    write(good, rows[:5])                  # as if interrupted after five rows were prepared
    assert run_cli("--db", store_db, "assess", "import", str(good)).returncode == 0
    assert count(store_db) == 5
    write(good, rows)                      # the whole file, run again
    out = run_cli("--db", store_db, "assess", "import", str(good))
    assert out.returncode == 0 and "3 assessment(s) imported, 5 already present" in out.stdout
    assert count(store_db) == 8
    out = run_cli("--db", store_db, "assess", "import", str(good))
    assert "0 assessment(s) imported, 8 already present" in out.stdout
    assert count(store_db) == 8


def test_duplicate_keys_in_one_file_are_refused(store_db, tmp_path):
    run_cli("--db", store_db, "case", "add", "C-1", "--subject", "S-1", "--district", "d",
            "--mahalla", "m", "--officer", "o", "--opened", "2025-01-01")
    rows = rows_for("C-1", 2)
    rows[1]["key"] = rows[0]["key"]
    path = tmp_path / "dup.jsonl"
    write(path, rows)
    out = run_cli("--db", store_db, "assess", "import", str(path))
    assert out.returncode == 9 and "appears twice" in out.stderr
    assert count(store_db) == 0


def test_broken_programme_is_reported_with_file_field_and_reason(tmp_path):
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "program_templates", templates)
    for name in ("broken_programme.yaml", "modules_do_not_add_up.yaml"):
        shutil.copy(DATA / "invalid" / "programmes" / name, templates / "programmes")
    out = run_cli("program", "list", env={"GBV_RISK_TEMPLATES_DIR": str(templates)})
    assert out.returncode == 5 and "Traceback" not in out.stderr
    for words in ("broken_programme.yaml", "provider_type", "compliance.breach_after_failures",
                  "modules_do_not_add_up.yaml", "modules add up to"):
        assert words in out.stderr, (words, out.stderr)


def test_catalogue_covers_every_provider_type():
    out = run_cli("program", "list", "--format", "json")
    assert out.returncode == 0, out.stderr
    progs = json.loads(out.stdout)
    providers = {p["provider"] for p in progs}
    assert {"prevention_inspector", "family_doctor", "district_psychiatrist", "forensic_expert",
            "rehab_psychologist", "inson_centre", "employment_centre", "mahalla_womens_chair",
            "youth_agency"} <= providers
    assert providers & {"school_psychologist", "ngo_psychologist"}
    ids = {p["id"]: p for p in progs}
    icp, group = ids["individual_correction_plan"], ids["behaviour_change_group"]
    assert icp["weeks"] <= 4.5 and 22 <= group["sessions"] <= 27
    out = run_cli("program", "show", "behaviour_change_group", "--format", "json")
    assert json.loads(out.stdout)["partner_safety_contact"] is True
