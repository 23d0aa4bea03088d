"""The README's console demo is real: its script, piped to the console, prints its output."""

from __future__ import annotations

import re
from pathlib import Path

from tests.test_cli import run

ROOT = Path(__file__).resolve().parents[1]


def block_after(marker: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(re.escape(marker) + r"\s*```text\n(.*?)```", text, re.DOTALL)
    assert match, f"README block {marker} not found"
    return match.group(1)


def test_readme_demo_script_prints_the_readme_output(tmp_path):
    result = run("console", cwd=tmp_path, stdin=block_after("<!-- demo-script -->"))
    assert result.returncode == 0, result.stderr
    assert result.stdout == block_after("<!-- demo-output -->")


def test_readme_commands_are_the_ci_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "pip install -e '.[dev]'" in readme and "pip install --quiet -e '.[dev]'" in ci
    assert ".venv/bin/python -m pytest" in readme and ".venv/bin/python -m pytest" in ci
