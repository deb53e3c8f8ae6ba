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


def many(n: int) -> str:
    """`n` classes, each with one finding."""
    one = "class M{i}:\n    def load_weights(self, weights):\n"
    one += "        return self.load([w for w in weights])\n\n\n"
    return "".join(one.format(i=i) for i in range(n))


def test_github_is_one_annotation_per_finding_then_how_many_more(tmp_path: Path) -> None:
    (tmp_path / "a,b.py").write_text(many(12))
    r = eagerlint("check", "--no-cache", "--output-format", "github", cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 13
    errors, (note,) = lines[:12], lines[12:]
    first = errors[0]
    assert first.startswith(
        "::error file=a%2Cb.py,line=3,col=26,endLine=3,endColumn=46,title=EL001::List comprehension"
    )
    assert [int(e.split(",line=")[1].split(",")[0]) for e in errors] == [3 + 5 * i for i in range(12)]
    assert note.startswith("::notice title=eagerlint::2 more findings past the 10 annotations")
    assert "--output-format sarif" in note


def test_github_without_overflow_has_no_note(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(many(10))
    r = eagerlint("check", "--no-cache", "--output-format", "github", cwd=tmp_path)
    assert len(r.stdout.splitlines()) == 10 and all(
        line.startswith("::error ") for line in r.stdout.splitlines()
    )


def test_github_escapes_what_would_end_a_command() -> None:
    from eagerlint.report import _command_data, _command_property

    assert _command_data("50%\nnext\r") == "50%25%0Anext%0D"
    assert _command_property("a:b,c%") == "a%3Ab%2Cc%25"


def test_json_lines_holds_the_json_objects_one_per_line(project: Path) -> None:
    whole = json.loads(eagerlint("check", "--no-cache", "--output-format", "json", cwd=project).stdout)
    r = eagerlint("check", "--no-cache", "--output-format", "json-lines", cwd=project)
    assert r.returncode == 1
    assert [json.loads(line) for line in r.stdout.splitlines()] == whole


@pytest.mark.parametrize("fmt", ["full", "concise", "json", "json-lines", "github", "sarif"])
def test_output_file_gets_the_report_and_stdout_nothing(project: Path, fmt: str) -> None:
    shown = eagerlint("check", "--no-cache", "--output-format", fmt, cwd=project)
    r = eagerlint("check", "--no-cache", "--output-format", fmt, "-o", "reports/out.txt", cwd=project)
    assert r.returncode == shown.returncode == 1
    assert r.stdout == ""
    assert (project / "reports" / "out.txt").read_text() == shown.stdout


def test_output_file_that_cannot_be_written_is_one_line_and_exit_2(project: Path) -> None:
    (project / "taken").write_text("a file, not a folder")
    r = eagerlint("check", "--no-cache", "--output-file", "taken/out.sarif", cwd=project)
    assert r.returncode == 2
    assert len(r.stderr.splitlines()) == 1 and r.stderr.startswith("eagerlint: error: ")
    assert "Traceback" not in r.stderr
