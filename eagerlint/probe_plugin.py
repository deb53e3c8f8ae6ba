"""The pytest side of ``eagerlint.probe``: the ``weights_probe`` fixture and marker.

Registered by ``eagerlint.probe`` when pytest loads it as a plugin (``pytest -p eagerlint.probe``,
or automatically through the ``pytest11`` entry point once eagerlint is installed)::

    @pytest.mark.weights_probe(mode="reuse", max_live=4)
    def test_load_streams(weights_probe, model, checkpoint_files):
        weights = safetensors_weights_iterator(checkpoint_files)
        model.load_weights(weights_probe(weights, model=model))

After the test body has passed, every stream the fixture made is judged: the test fails if one
kept more than ``max_live`` tensors alive at once (without ``max_live``: if it was materialized),
was iterated twice or after its end, or, in reuse mode, if ``model.state_dict()`` holds NaN
(overwritten data that was loaded). The verdicts are shown in a "weights probe" section of the
terminal summary.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import pytest

from eagerlint.probe import MODES, Mode, ProbedStream, ProbeReport, probe

MARKER = "weights_probe"
T = TypeVar("T")


@dataclass
class WeightsProbe:
    """The fixture's value: call it on a weight stream to get the probed stream to load from."""

    mode: Mode = "count"
    max_live: int | None = None
    streams: list[tuple[ProbedStream[Any], Any]] = field(default_factory=list)

    def __call__(
        self, weights: Iterable[tuple[str, T]], mode: Mode | None = None, model: Any = None
    ) -> ProbedStream[T]:
        """``model``: anything with ``state_dict()``, scanned for overwritten data after the test."""
        stream = probe(weights, mode or self.mode)
        self.streams.append((stream, model))
        return stream

    def reports(self) -> list[ProbeReport]:
        return [s.report(None if m is None else m.state_dict().items()) for s, m in self.streams]


def verdict_lines(reports: list[ProbeReport]) -> list[str]:
    return [f"stream {i} ({r.mode}): {r.verdict}" for i, r in enumerate(reports, 1)]


def problem_lines(reports: list[ProbeReport], max_live: int | None) -> list[str]:
    return [
        f"weights probe, stream {i}: {problem}"
        for i, report in enumerate(reports, 1)
        for problem in report.problems(max_live)
    ]


PROBES = pytest.StashKey[WeightsProbe]()
VERDICTS = pytest.StashKey[list[tuple[str, str]]]()


def from_marker(marker: pytest.Mark | None) -> WeightsProbe:
    if marker is None:
        return WeightsProbe()
    if marker.args:
        raise pytest.UsageError(f"@pytest.mark.{MARKER} takes keyword arguments only (mode=, max_live=)")
    unknown = set(marker.kwargs) - {"mode", "max_live"}
    if unknown:
        raise pytest.UsageError(f"@pytest.mark.{MARKER}: unknown argument(s) {sorted(unknown)}")
    mode = marker.kwargs.get("mode", "count")
    if mode not in MODES:
        raise pytest.UsageError(f"@pytest.mark.{MARKER}: mode must be one of {MODES}, not {mode!r}")
    return WeightsProbe(cast(Mode, mode), marker.kwargs.get("max_live"))


@pytest.fixture
def weights_probe(request: pytest.FixtureRequest) -> WeightsProbe:
    """Wrap weight streams with ``eagerlint.probe``; the test fails on what they saw (see the marker)."""
    found = from_marker(request.node.get_closest_marker(MARKER))
    request.node.stash[PROBES] = found
    return found


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(mode='count', max_live=None): how the weights_probe fixture probes its streams "
        "('count' or 'reuse') and how many tensors they may keep alive at once",
    )
    config.stash[VERDICTS] = []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    result = yield  # the test body raised: that failure stands, and is reported as it is
    found = item.stash.get(PROBES, None)
    if found is not None and found.streams:
        reports = found.reports()  # once: with a model, each report scans its state
        item.config.stash[VERDICTS].extend((item.nodeid, v) for v in verdict_lines(reports))
        problems = problem_lines(reports, found.max_live)
        if problems:
            pytest.fail("\n".join(problems), pytrace=False)
    return result


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    verdicts = config.stash.get(VERDICTS, [])
    if verdicts:
        terminalreporter.section("weights probe")
        for nodeid, verdict in verdicts:
            terminalreporter.write_line(f"{nodeid}: {verdict}")
