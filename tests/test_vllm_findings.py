"""Regression: eagerlint's findings on the whole vLLM 0.33.0 package are the
committed, reviewed list (bench/findings/vllm-0.33.0.expected.json; verdicts in
vllm-0.33.0.md).  A change in what is reported on real code fails here."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench" / "findings"))
import findings  # noqa: E402


def test_vllm_0_33_findings_match_the_reviewed_list() -> None:
    current = findings.entries(findings.findings("0.33.0"))
    expected = [tuple(e) for e in json.loads(findings.expected_path("0.33.0").read_text())]
    assert current == expected


def test_every_expected_finding_has_a_verdict() -> None:
    review = (ROOT / "bench" / "findings" / "vllm-0.33.0.md").read_text()
    for code, path, scope in json.loads(findings.expected_path("0.33.0").read_text()):
        rows = [line for line in review.splitlines() if f"`{path}:" in line and scope in line]
        assert any(f"| {code}" in row for row in rows), (code, path, scope)
