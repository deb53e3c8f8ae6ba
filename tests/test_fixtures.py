"""Each rule's fixture carries its own expectations (see tests/fixtures)."""

from __future__ import annotations

import ast
import json
import os
import re
from pathlib import Path

import pytest

from eagerlint.pipeline import FixMode
from eagerlint.rules import RULES
from tests.helpers import expected_markers, fixed_text, reported, run

FIXTURES = Path(__file__).parent / "fixtures"
SNAPSHOTS = FIXTURES / "snapshots"
CODES = [r.code for r in RULES]


def snapshot(source: str) -> list[dict[str, object]]:
    """What each finding of a fixture says: message, fix level and title, and the reason."""
    return [
        {
            "row": f.location.row,
            "code": f.code,
            "message": f.message,
            "fix": None if f.fix is None else f"{f.fix.applicability.value}: {f.fix.message}",
            "reason": f.fix_reason,
        }
        for f in run(source).findings
    ]


@pytest.mark.parametrize("code", CODES)
def test_snapshot_pins_message_fix_level_and_reason(code: str) -> None:
    """`EAGERLINT_UPDATE_SNAPSHOTS=1 pytest tests/test_fixtures.py` rewrites them (review the diff)."""
    current = snapshot((FIXTURES / f"{code}.py").read_text())
    path = SNAPSHOTS / f"{code}.json"
    if os.environ.get("EAGERLINT_UPDATE_SNAPSHOTS") == "1":
        path.write_text(json.dumps(current, indent=1) + "\n")
    assert current, "a fixture without findings pins nothing"
    assert current == json.loads(path.read_text())


@pytest.mark.parametrize("code", CODES)
def test_markers_match_findings(code: str) -> None:
    source = (FIXTURES / f"{code}.py").read_text()
    expected = expected_markers(source)
    assert expected, "a fixture without markers tests nothing"
    found = {(row, c) for row, c in reported(run(source)) if c == code}
    assert found == {(row, c) for row, c in expected if c == code}


@pytest.mark.parametrize("code", CODES)
def test_no_other_rule_fires_on_fixture(code: str) -> None:
    source = (FIXTURES / f"{code}.py").read_text()
    assert reported(run(source)) == expected_markers(source)


@pytest.mark.parametrize("code", CODES)
def test_fix_matches_twin(code: str) -> None:
    source = (FIXTURES / f"{code}.py").read_text()
    twin = FIXTURES / f"{code}.fixed.py"
    fixed = fixed_text(source)
    expected = twin.read_text() if twin.exists() else source
    assert fixed == expected
    ast.parse(fixed)


@pytest.mark.parametrize("code", CODES)
def test_unsafe_fix_matches_twin(code: str) -> None:
    source = (FIXTURES / f"{code}.py").read_text()
    twin = FIXTURES / f"{code}.unsafe.fixed.py"
    safe_twin = FIXTURES / f"{code}.fixed.py"
    expected = (
        twin if twin.exists() else safe_twin if safe_twin.exists() else FIXTURES / f"{code}.py"
    ).read_text()
    assert fixed_text(source, FixMode.UNSAFE) == expected


@pytest.mark.parametrize("code", CODES)
def test_fix_is_idempotent(code: str) -> None:
    source = (FIXTURES / f"{code}.py").read_text()
    once = fixed_text(source, FixMode.UNSAFE)
    assert fixed_text(once, FixMode.UNSAFE) == once
    ast.parse(once)


def test_every_rule_module_is_registered() -> None:
    import importlib

    import eagerlint.rules as pkg

    modules = sorted(p.stem for p in Path(pkg.__file__).parent.glob("el[0-9]*.py"))
    assert [importlib.import_module(f"eagerlint.rules.{m}").RULE for m in modules] == list(RULES)


def test_every_rule_has_a_fixture() -> None:
    assert {p.stem for p in FIXTURES.glob("EL[0-9][0-9][0-9].py")} == set(CODES)
    # Twins belong to a fixture.
    for twin in FIXTURES.glob("*.fixed.py"):
        assert (FIXTURES / f"{twin.name.split('.')[0]}.py").exists()


def test_code_table_matches_registry() -> None:
    from eagerlint.codes import CODES

    assert CODES == {r.code: r.name for r in RULES}


def test_multi_pass_messages_say_what_goes_wrong() -> None:
    source = (FIXTURES / "EL008.py").read_text()
    lines = source.splitlines()
    messages = {lines[f.location.row - 1].strip(): f.message for f in run(source).findings}
    inner = next(m for line, m in messages.items() if line.startswith("k_name, k = next(filter("))
    assert "inside the loop over it" in inner and "advances the loop's own iterator" in inner
    again = next(m for line, m in messages.items() if line.startswith("loaded = self.loader.load_weights("))
    assert "a second time" in again and "the second pass loads nothing" in again


@pytest.mark.parametrize("code", CODES)
def test_messages_are_stable_and_say_what_it_costs(code: str) -> None:
    """No line number or path in a message (the flow has them); each ends with what it costs,
    and the reason for a missing fix is not glued to it."""
    rule = next(r for r in RULES if r.code == code)
    for f in run((FIXTURES / f"{code}.py").read_text()).findings:
        if f.code != code:
            continue
        assert not re.search(r"\bline \d|\blines \d|\d+:\d+|/", f.message), f.message
        assert f.message.endswith(rule.cost) or (f.code == "EL008" and "own iterator" in f.message)
        if f.fix_reason:
            assert f.fix_reason not in f.message


def test_a_message_does_not_follow_the_line_numbers(tmp_path: Path) -> None:
    source = (FIXTURES / "EL008.py").read_text()
    before = sorted((f.code, f.scope, f.message) for f in run(source).findings)
    after = sorted((f.code, f.scope, f.message) for f in run("# one\n# two\n\n" + source).findings)
    assert before == after
