"""Regression: eagerlint's findings on whole engine releases (vLLM 0.33.0,
SGLang 0.5.23, LMDeploy 0.18.0) are the committed, reviewed lists (bench/findings/
<project>-<version>.expected.json; verdicts in <project>-<version>.md).  A
change in what is reported on real code fails here."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench" / "findings"))
import findings  # noqa: E402

# (project, version, rules listed on their own: None for the default ones)
RELEASES = [
    ("vllm", "0.33.0", None),
    ("sglang", "0.5.23", None),
    ("lmdeploy", "0.18.0", None),
    ("vllm", "0.33.0", "EL010"),
    ("sglang", "0.5.23", "EL010"),
]


@pytest.mark.parametrize(("project", "version", "select"), RELEASES)
def test_findings_match_the_reviewed_list(project: str, version: str, select: str | None) -> None:
    current = findings.entries(findings.findings(version, project, select))
    expected = [tuple(e) for e in json.loads(findings.expected_path(version, project, select).read_text())]
    assert current == expected


@pytest.mark.parametrize(("project", "version", "select"), RELEASES)
def test_every_expected_finding_has_a_verdict(project: str, version: str, select: str | None) -> None:
    review = (ROOT / "bench" / "findings" / f"{findings.list_name(version, project, select)}.md").read_text()
    for code, path, scope in json.loads(findings.expected_path(version, project, select).read_text()):
        rows = [line for line in review.splitlines() if f"`{path}:" in line and scope in line]
        assert any(f"| {code}" in row for row in rows), (code, path, scope)
