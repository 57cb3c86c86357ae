"""One flat JSON object of named figures, merged by every benchmark of a `make bench` run."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"


def merge_results(figures: dict[str, float | int | str]) -> dict[str, object]:
    """Add `figures` to latest.json, keeping what other benchmarks of this run wrote."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    current: dict[str, object] = {}
    if RESULTS.exists():
        current = json.loads(RESULTS.read_text())
    current.update(figures)
    current["machine"] = (
        f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    tmp = RESULTS.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    tmp.replace(RESULTS)
    return current


def quick() -> bool:
    return os.environ.get("QUICK", "") not in ("", "0")
