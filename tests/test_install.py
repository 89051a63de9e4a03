"""A non-editable install into a clean virtual environment finds the shipped rules and
templates from any directory."""

from __future__ import annotations

import subprocess
import sys
import venv

from conftest import EXAMPLES, ROOT


def test_wheel_install_works_from_anywhere(tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", str(ROOT)], check=True,
                   timeout=900)
    exe = env_dir / "bin" / "gbv-risk"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    example = elsewhere / "case.yaml"
    example.write_text((EXAMPLES / "high_risk.yaml").read_text())

    def run(*args):
        return subprocess.run([str(exe), *args], cwd=elsewhere, capture_output=True, text=True,
                              timeout=300)

    out = run("rules", "test")
    assert out.returncode == 0, out.stdout + out.stderr
    assert " 0 failed" in out.stdout
    out = run("score", "case.yaml")
    assert out.returncode == 0, out.stderr
    assert "Risk level:" in out.stdout
    out = run("plan", "--assessment", "case.yaml", "--format", "html")
    assert out.returncode == 0 and "<html" in out.stdout
    # the installed package, not the checkout, answered
    where = subprocess.run([str(py), "-c", "import gbv_risk, sys; print(gbv_risk.__file__)"],
                           cwd=elsewhere, capture_output=True, text=True, check=True).stdout
    assert str(env_dir) in where and sys.prefix not in where
