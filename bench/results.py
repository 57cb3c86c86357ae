"""One flat JSON object of named figures, merged by every benchmark of a `make bench` run."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

DEFAULT_RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"


def results_path() -> Path:
    """latest.json, or BENCH_RESULTS: a trial run (one bench, while changing code) writes
    its figures there instead of into the run of record."""
    return Path(os.environ.get("BENCH_RESULTS") or DEFAULT_RESULTS)


def merge_results(figures: dict[str, float | int | str]) -> dict[str, object]:
    """Add `figures` to latest.json, keeping what other benchmarks of this run wrote."""
    path = results_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    current: dict[str, object] = {}
    if path.exists():
        current = json.loads(path.read_text())
    current.update(figures)
    current["machine"] = (
        f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)
    return current


def quick() -> bool:
    return os.environ.get("QUICK", "") not in ("", "0")
