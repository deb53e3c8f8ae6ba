"""The report formats: full, json, json-lines, github, sarif, and `-o/--output-file`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_cli import eagerlint

# Two findings: one with a safe fix, one with none (the list is used twice).
MODEL = """\
class M:
    def load_weights(self, weights):
        weights = [(name.upper(), w) for name, w in weights]
        return self.loader.load_weights(weights)


class N:
    def load_weights(self, weights):
        kept = list(weights)
        self.count = len(kept)
        for name, w in kept:
            self.params[name].copy_(w)
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "model.py").write_text(MODEL)
    return tmp_path


def test_full_output_has_the_fix_reason_and_the_rule_on_lines_of_their_own(project: Path) -> None:
    r = eagerlint("check", "--no-cache", cwd=project)
    assert r.returncode == 1, r.stderr
    out = r.stdout.splitlines()
    reported = [i for i, line in enumerate(out) if line.startswith("pkg/model.py:")]
    assert len(reported) == 2
    unfixed = next(i for i in reported if ": EL002 " in out[i])
    block = out[unfixed : unfixed + 8]
    assert "  = fix: none — the list is used 2 times" in block
    assert "  = see: eagerlint rule EL002" in block
    assert "used 2 times" not in out[unfixed], "the reason is not glued to the message"


def test_json_has_url_reason_and_fingerprint(project: Path) -> None:
    r = eagerlint("check", "--no-cache", "--output-format", "json", cwd=project)
    by_code = {d["code"]: d for d in json.loads(r.stdout)}
    assert set(by_code) == {"EL001", "EL002"}
    fixed, unfixed = by_code["EL001"], by_code["EL002"]
    assert fixed["url"] == "README.md#el001" and unfixed["url"] == "README.md#el002"
    assert (
        fixed["no_fix_reason"] is None
        and fixed["fix"]["reason"] == "consumed once by `self.loader.load_weights()`"
    )
    assert unfixed["fix"] is None and unfixed["no_fix_reason"] == "the list is used 2 times"
    assert unfixed["message"].endswith("once per tensor-parallel worker")
