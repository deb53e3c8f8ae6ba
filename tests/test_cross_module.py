"""Streams are followed into helpers of other modules of the analysed tree."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.helpers import expected_markers
from tests.test_cli import eagerlint

FIXTURE = Path(__file__).parent / "fixtures" / "cross"


def test_findings_through_other_modules(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE, tmp_path / "cross")
    root = tmp_path / "cross"
    r = eagerlint("check", ".", "--output-format", "json", cwd=root)
    found = json.loads(r.stdout)
    model = (root / "enginepkg" / "model.py").read_text()
    expected = {
        (f"enginepkg/{name}", row, code)
        for name in ("model.py", "loader_utils.py")
        for row, code in expected_markers((root / "enginepkg" / name).read_text())
    }
    # A helper that keeps the stream is reported at its own line, in its own file, too.
    assert {(f["filename"], f["location"]["row"], f["code"]) for f in found} == expected
    row = next(i for i, line in enumerate(model.splitlines(), 1) if "split_by_prefix(weights, " in line)
    split = next(f for f in found if f["location"]["row"] == row and f["filename"] == "enginepkg/model.py")
    files = [step["filename"] for step in split["flow"]]
    # From the stream in model.py into the helper's loop in loader_utils.py.
    assert files[0] == "enginepkg/model.py" and files[-1] == "enginepkg/loader_utils.py"
    assert split["flow"][-1]["row"] == 12 and "kept" in split["flow"][-1]["note"]


def test_futures_created_by_a_helper_of_another_module(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE, tmp_path / "cross")
    root = tmp_path / "cross"
    r = eagerlint("check", ".", "--select", "EL006,EL007", "--output-format", "json", cwd=root)
    found = {f["code"]: f for f in json.loads(r.stdout)}
    assert set(found) == {"EL006", "EL007"}
    for code, helper in (("EL006", "submit_lazily"), ("EL007", "submit_listed")):
        first = found[code]["flow"][0]
        assert first["filename"] == "enginepkg/loader_utils.py"
        assert first["note"] == f"futures created by {helper}()"


def test_without_the_other_module_nothing_is_resolved(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE, tmp_path / "cross")
    root = tmp_path / "cross"
    # Only model.py is analysed: imports of files outside the roots resolve to nothing.
    r = eagerlint("check", "enginepkg/model.py", "--output-format", "json", cwd=root)
    codes = {(f["location"]["row"], f["code"]) for f in json.loads(r.stdout)}
    assert codes == set()  # even `renamed(...)` is unknown, so it ends the stream


def test_multi_pass_through_a_helper_of_another_module(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE, tmp_path / "cross")
    root = tmp_path / "cross"
    r = eagerlint("check", ".", "--select", "EL008", "--output-format", "json", cwd=root)
    (found,) = json.loads(r.stdout)
    steps = [(step["filename"], step["note"]) for step in found["flow"]]
    assert steps[1] == ("enginepkg/model.py", "consumed here")
    # The read inside the helper, in the other file, is on the path.
    assert steps[2][0] == "enginepkg/loader_utils.py" and "read to the end by has_lora()" in steps[2][1]
    assert steps[-1] == ("enginepkg/model.py", "and consumed again")
