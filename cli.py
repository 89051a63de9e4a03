"""Run gbv-risk from a checkout: `python cli.py ...` works without installing."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))

from gbv_risk.cli import main

if __name__ == "__main__":
    main()
