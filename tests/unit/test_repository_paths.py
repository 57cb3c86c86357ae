"""No file of the repository points at one machine's folders: every path is resolved from
the repository root (../shared beside it, .run and .cache inside it)."""

from __future__ import annotations

import re
import subprocess

from contractflow.config import REPO_ROOT

MACHINE_PATH = re.compile(r"(?<![\w.])/(?:work|home|root|Users|tmp/cf-run)/[\w.-]+")
TEXT = (".py", ".md", ".sh", ".yaml", ".yml", ".toml", ".cfg", ".ini", ".txt", ".bpmn", ".dmn")


def test_no_tracked_file_names_a_machine_specific_absolute_path() -> None:
    files = subprocess.run(
        ["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    found = []
    for name in files:
        if not name.endswith(TEXT) or name == "constraints.txt":
            continue
        path = REPO_ROOT / name
        if not path.is_file():
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if MACHINE_PATH.search(line):
                found.append(f"{name}:{number}: {line.strip()}")
    assert found == []
