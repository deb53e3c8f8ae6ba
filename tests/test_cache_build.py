"""The result cache serves only results computed by the same eagerlint source."""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

from tests.test_cli import eagerlint

MODEL = "class M:\n    def load_weights(self, weights):\n        return self.load([w for w in weights])\n"


def doctor(tmp_path: Path, build: str | None) -> None:
    """Reword every cached finding's message to STALE (and set the build, if given)."""
    (path,) = (tmp_path / ".eagerlint_cache").rglob("*.pickle")
    state = pickle.loads(path.read_bytes())
    for entry in state["entries"].values():
        findings = tuple(dataclasses.replace(f, message="STALE") for f in entry.result.findings)
        object.__setattr__(entry, "result", dataclasses.replace(entry.result, findings=findings))
    if build is not None:
        state["build"] = build
    path.write_bytes(pickle.dumps(state))


def test_a_cache_of_another_build_is_not_used(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(MODEL)
    first = eagerlint("check", "--output-format", "concise", cwd=tmp_path)
    assert "EL001" in first.stdout

    doctor(tmp_path, build=None)
    assert "STALE" in eagerlint("check", "--output-format", "concise", cwd=tmp_path).stdout, (
        "the cache is used"
    )

    doctor(tmp_path, build="another eagerlint")
    again = eagerlint("check", "--output-format", "concise", cwd=tmp_path).stdout
    assert "STALE" not in again and again == first.stdout
