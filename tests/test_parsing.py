"""`parsing.parse_module` builds libcst's trees without re-validating each node, and
only while it parses: the trees equal libcst's own, and every node built outside a
parse is checked as libcst checks it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from queue import SimpleQueue
from typing import Any

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


# -- a file's analysis on the worker's thread -------------------------------------------


class _Recording:
    """The worker's job queue, noting the function of every job put on it."""

    def __init__(self, queue: SimpleQueue[tuple[int, Callable[[Any], object], object]]) -> None:
        self.queue, self.jobs = queue, list[object]()

    def put(self, job: tuple[int, Callable[[Any], object], object]) -> None:
        self.jobs.append(job[1])
        self.queue.put(job)

    def get(self) -> tuple[int, Callable[[Any], object], object]:
        return self.queue.get()


def _handed_over(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The jobs handed to a new worker from now on."""
    monkeypatch.setattr(parsing, "_WORKER", None)
    worker = parsing._worker()  # its thread waits on the queue it was given
    recording = _Recording(worker._jobs)
    monkeypatch.setattr(worker, "_jobs", recording)
    return recording.jobs


def test_parses_asked_on_the_worker_run_there_with_no_hand_over(monkeypatch: pytest.MonkeyPatch) -> None:
    jobs = _handed_over(monkeypatch)

    def analysis() -> tuple[str, list[str]]:
        trees = [parsing.parse_module(f"x = {i}\n").code for i in range(3)]
        return threading.current_thread().name, trees

    name, trees = parsing.on_large_stack(analysis)
    assert name == "eagerlint-libcst" and trees == ["x = 0\n", "x = 1\n", "x = 2\n"]
    assert jobs == [parsing._call]  # one hand-over for the whole analysis, none per parse


def test_a_file_is_checked_with_one_hand_over(monkeypatch: pytest.MonkeyPatch) -> None:
    from eagerlint.config import Settings
    from eagerlint.pipeline import check_bytes

    jobs = _handed_over(monkeypatch)
    source = (Path(__file__).parent / "fixtures" / "EL001.py").read_bytes()
    result = check_bytes(source, "EL001.py", Settings())
    assert result.findings and result.error is None
    assert jobs == [parsing._call]


def test_on_the_worker_a_text_beyond_what_its_stack_has_left_gets_a_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The analysis holds up to ANALYSIS_STACK of the worker's stack: a text needing
    # more than the rest must not be parsed there.
    text = "x = " + " and ".join(["a"] * 100) + "\n"
    monkeypatch.setattr(parsing, "WORKER_STACK", parsing.stack_needed(text) + parsing.ANALYSIS_STACK - 1)
    own: list[int] = []
    real = parsing._run_on_own_thread

    def spy(stack: int, fn: Callable[[str], cst.Module], arg: str) -> cst.Module:
        own.append(stack)
        return real(stack, fn, arg)

    monkeypatch.setattr(parsing, "_run_on_own_thread", spy)
    assert parsing.parse_module(text).code == text  # from the caller's thread: the worker fits it
    assert own == []
    assert parsing.on_large_stack(lambda: parsing.parse_module(text).code) == text
    assert own == [parsing.stack_needed(text)]


def test_a_job_of_the_worker_asking_the_worker_again_does_not_wait_for_itself() -> None:
    answers: list[int] = []
    # On a thread of its own, so that waiting for itself fails the test instead of hanging it.
    caller = threading.Thread(
        target=lambda: answers.append(parsing.on_large_stack(lambda: parsing.on_large_stack(lambda: 41) + 1)),
        daemon=True,
    )
    caller.start()
    caller.join(timeout=60)
    assert answers == [42]
