"""The README's GitHub Actions workflow: its eagerlint step, run as written on a small
tree, writes the SARIF file its upload step names."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import yaml

from tests.test_cli import LLAMA, eagerlint

README = Path(__file__).resolve().parents[1] / "README.md"


def workflow() -> dict[Any, Any]:
    section = README.read_text().split("### GitHub Actions with code scanning", 1)[1]
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    loaded: dict[Any, Any] = yaml.safe_load(block)
    return loaded


def test_the_workflow_uploads_what_its_eagerlint_step_writes(tmp_path: Path) -> None:
    flow = workflow()
    assert flow["permissions"]["security-events"] == "write"
    steps = flow["jobs"]["eagerlint"]["steps"]
    command = shlex.split(next(s["run"] for s in steps if s.get("name") == "eagerlint"))
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif"))
    assert upload["if"] == "always()"
    assert command[0] == "eagerlint"
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "llama.py").write_text(LLAMA)
    run = eagerlint(*command[1:], cwd=tmp_path)
    assert run.returncode == 1, run.stderr  # findings remain: the step fails, the upload still runs
    log = json.loads((tmp_path / upload["with"]["sarif_file"]).read_text())
    assert log["version"] == "2.1.0"
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["EL001"]
