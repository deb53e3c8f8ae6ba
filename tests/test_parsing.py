"""`parsing.parse_module` builds libcst's trees without re-validating each node, and
only while it parses: the trees equal libcst's own, and every node built outside a
parse is checked as libcst checks it."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from eagerlint import parsing
from tests.helpers import all_subclasses

FIXTURES = sorted((Path(__file__).parent / "fixtures").glob("EL0*.py"))


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_trees_equal_libcsts_own(path: Path) -> None:
    text = path.read_text()
    ours = parsing.parse_module(text)
    assert ours.deep_equals(cst.parse_module(text))
    assert ours.code == text


def test_nodes_built_after_a_parse_are_validated() -> None:
    parsing.parse_module("x = 1\n")
    with pytest.raises(cst.CSTValidationError):
        cst.Name("")


def test_nodes_built_after_a_failed_parse_are_validated() -> None:
    with pytest.raises(cst.ParserSyntaxError):
        parsing.parse_module("def broken(:\n")
    with pytest.raises(cst.CSTValidationError):
        cst.Name("")


def test_the_switch_covers_every_node_class() -> None:
    # Only `CSTNode.__post_init__` is switched off: a node class with its own would
    # keep validating (slow, still right); this says when that starts.
    own = [c.__name__ for c in all_subclasses(cst.CSTNode) if "__post_init__" in vars(c)]
    assert own == []


def test_an_answer_left_by_an_interrupted_caller_is_dropped() -> None:
    worker = parsing._Worker()
    worker._jobs.put((-1, str.upper, "left over"))  # as if its caller had been interrupted
    assert worker.run(str.lower, "ABC") == "abc"
    assert worker.run(str.title, "next one") == "Next One"


def test_an_error_in_the_worker_is_raised_in_the_caller() -> None:
    with pytest.raises(ValueError, match="invalid literal"):
        parsing._Worker().run(int, "not a number")
