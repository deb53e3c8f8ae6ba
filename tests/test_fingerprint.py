"""Fingerprints: the same finding keeps its fingerprint while the code around it moves."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from eagerlint.fingerprint import normalized, relative_path
from tests.test_cli import eagerlint

FIXTURES = Path(__file__).parent / "fixtures"


def prints(where: Path, *paths: str, cwd: Path | None = None) -> dict[str, tuple[str, str, str]]:
    """fingerprint -> (code, filename, scope) of every finding under `where`."""
    r = eagerlint("check", "--no-cache", "--exit-zero", "--output-format", "json", *paths, cwd=cwd or where)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    found = {d["fingerprint"]: (d["code"], d["filename"], d["scope"]) for d in data}
    assert len(found) == len(data), "two findings share a fingerprint"
    assert all(re.fullmatch(r"[0-9a-f]{16}", p) for p in found)
    return found


def rewrite_every_file(root: Path, change: Callable[[str], str]) -> None:
    for path in root.rglob("*.py"):
        path.write_text(change(path.read_text()))


def test_normalized_ignores_layout_only() -> None:
    one = "x = load(\n    [w for w in weights],  # all of them\n)"
    assert normalized(one) == normalized("x = load([w for w in weights])")
    assert normalized(one) == normalized("x  =  load( [ w  for w in weights ] ,)")
    assert normalized(one) != normalized("x = load([w for w in other])")
    assert normalized("s = 'a  b'") != normalized("s = 'a b'"), "a string's own spaces count"


def test_relative_path_is_never_absolute(tmp_path: Path) -> None:
    (tmp_path / "proj" / "pkg").mkdir(parents=True)
    (tmp_path / "proj" / "pyproject.toml").write_text("")
    file = tmp_path / "proj" / "pkg" / "m.py"
    assert relative_path(str(file), tmp_path / "proj") == "pkg/m.py"
    # Outside the root given: relative to the folder that marks the project.
    assert relative_path(str(file), tmp_path / "elsewhere") == "pkg/m.py"
    lone = tmp_path / "lone" / "m.py"
    assert not Path(relative_path(str(lone), tmp_path / "elsewhere")).is_absolute()


def test_identical_statements_in_one_scope_differ(tmp_path: Path) -> None:
    twice = "        a = [w for w in weights]\n"
    (tmp_path / "m.py").write_text(
        f"class M:\n    def load_weights(self, weights):\n{twice * 2}    return a\n"
    )
    found = prints(tmp_path)
    assert [c for c, _, _ in found.values()].count("EL001") == 2


def reformat(text: str) -> str:
    out: list[str] = []
    for line in text.splitlines(keepends=True):
        if re.match(r"\s*(def|class) ", line) and not (out and out[-1].lstrip().startswith("@")):
            out.append("\n")
        out.append(re.sub(r"^(\s*)(\w+) = (\w+)\n", r"\1\2  =  \3\n", line))
    return "".join(out)


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    where = tmp_path / "a" / "fixtures"
    shutil.copytree(FIXTURES, where)
    return where


def test_stable_across_inserted_lines_reformatting_and_a_move(copy: Path, tmp_path: Path) -> None:
    before = prints(copy)
    assert len(before) > 50, "the fixtures hold findings of every rule"

    # Lines inserted at the top of every file: every row moves.
    rewrite_every_file(copy, lambda text: "# inserted\n# lines\n\n" + text)
    assert prints(copy) == before

    # Other code reformatted: a blank line before every undecorated `def` and `class`,
    # and the spaces of every `x = y` line doubled; every row below moves again.
    rewrite_every_file(copy, reformat)
    assert prints(copy) == before

    # The checkout moved: run from its new place, and from a folder beside it by
    # absolute path (then the root is the folder holding its `pyproject.toml`).
    moved = tmp_path / "b" / "elsewhere" / "fixtures"
    moved.parent.parent.mkdir()
    shutil.move(copy.parent, moved.parent)
    assert prints(moved) == before
    (moved / "pyproject.toml").write_text("")
    (tmp_path / "c").mkdir()
    assert set(prints(moved, str(moved), cwd=tmp_path / "c")) == set(before)


def test_a_changed_statement_changes_its_fingerprint(copy: Path) -> None:
    before = prints(copy)
    target = copy / "EL001.py"
    text = target.read_text()
    changed = text.replace("for n, w in weights]  # EL001", "for n, w in weights if n]  # EL001", 1)
    assert "EL001" in changed.split("if n]", 1)[1].split("\n", 1)[0]
    assert changed != text
    target.write_text(changed)
    after = prints(copy)
    gone = set(before) - set(after)
    assert len(gone) == 1 and before[gone.pop()][0] == "EL001"
