"""eagerlint.probe on torch-free fakes: counting, passes, reuse, verdicts, and the pytest plugin.

The same behaviour on torch tensors and vLLM's real classes: tests/real_vllm/test_probe_vllm.py.
"""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Iterator
from importlib.metadata import entry_points
from itertools import groupby

import pytest

from eagerlint.probe import ProbedStream, format_bytes, probe

pytest_plugins = ["pytester"]

SIZE = 4 * 8  # bytes of one FakeTensor from weights()


class Mask(list[bool]):
    def any(self) -> bool:
        return any(self)


class FakeTensor:
    """What the probe needs of a tensor: bytes, clone, fill_, isnan; a view keeps its base alive."""

    def __init__(self, values: list[float], base: FakeTensor | None = None) -> None:
        self.values = values
        self.base = base

    @property
    def nbytes(self) -> int:
        return 4 * len(self.values)

    def clone(self) -> FakeTensor:
        return FakeTensor(list(self.values))

    def view(self) -> FakeTensor:
        return FakeTensor(self.values, base=self)

    def fill_(self, value: float) -> None:
        self.values[:] = [value] * len(self.values)

    def isnan(self) -> Mask:
        return Mask(math.isnan(v) for v in self.values)


def weights(n: int = 8) -> Iterator[tuple[str, FakeTensor]]:
    for i in range(n):
        yield f"layers.{i}.weight", FakeTensor([float(i)] * 8)


def load(stream: ProbedStream[FakeTensor]) -> dict[str, list[float]]:
    """A streaming consumer: copies each tensor's values and lets it go."""
    return {name: list(t.values) for name, t in stream}


def test_a_materializing_consumer_keeps_every_tensor() -> None:
    stream = probe(weights())
    kept = [(name, t) for name, t in stream]
    report = stream.report()
    assert (report.peak_count, report.peak_bytes, report.peak_at) == (8, 8 * SIZE, 8)
    assert report.materialized and report.exhausted
    assert report.verdict == (
        "kept up to 8 of 8 tensors (256 B) alive at once - the stream was materialized"
        " (peak at element 8, `layers.7.weight`)"
    )
    assert report.problems() == ("the stream was materialized (8 of 8 tensors alive)",)
    assert len(kept) == 8


def test_a_streaming_consumer_keeps_the_current_and_the_previous() -> None:
    stream = probe(weights())
    assert load(stream)["layers.3.weight"] == [3.0] * 8
    report = stream.report()
    assert report.peak_count == 2 and not report.materialized
    assert report.verdict.startswith("kept up to 2 of 8 tensors (64 B) alive at once - streamed")
    assert report.problems() == () and report.kept_at_end == ()


def test_the_peak_is_where_it_was_first_reached() -> None:
    stream = probe(weights())
    it = iter(stream)
    first = next(it)
    next(it)  # dropped at once
    second, third = next(it), next(it)
    report = stream.report()
    assert (report.peak_count, report.peak_at, report.peak_name) == (3, 4, "layers.3.weight")
    assert report.peak_bytes == 3 * SIZE
    assert "the stream was not read to its end" in report.verdict
    assert first and second and third


def test_a_kept_view_keeps_its_tensor_alive() -> None:
    stream = probe(weights())
    views = [t.view() for _, t in stream]
    assert stream.report().peak_count == 8 and len(views) == 8


def test_max_live_replaces_the_materialized_test() -> None:
    stream = probe(weights())
    kept = [t for _, t in stream]
    assert stream.report().problems(max_live=8) == ()
    assert stream.report().problems(max_live=3) == ("kept 8 tensors alive at once, more than max_live=3",)
    assert kept


def test_a_small_side_buffer_is_kept_past_the_end() -> None:
    stream = probe(weights(12))
    side = [(n, t) for n, t in stream if n.startswith(("layers.1.", "layers.2."))]
    report = stream.report()
    assert report.kept_at_end == ("layers.1.weight", "layers.2.weight")
    assert not report.materialized and report.problems() == ()  # count mode: memory is bounded
    assert (
        "2 earlier tensor(s) were still referenced when the stream ended (first `layers.1.weight`)"
        in report.verdict
    )
    assert side


def test_a_second_pass_after_the_end_reads_nothing() -> None:
    stream = probe(weights())
    assert len(load(stream)) == 8
    assert load(stream) == {}
    report = stream.report()
    assert report.multi_pass and len(report.passes) == 2
    assert report.passes[1].after_exhaustion and report.passes[1].reads == 0
    assert "iterated 2 times: pass 2 started after the stream was exhausted and read nothing" in (
        report.problems()
    )


def test_two_passes_at_once_are_reported() -> None:
    stream = probe(weights())
    pairs = [(a, b) for (a, _), (b, _) in zip(stream, stream, strict=False)]
    report = stream.report()
    assert pairs[0] == ("layers.0.weight", "layers.1.weight")  # what a one-shot stream does
    assert "pass 2 started at element 1, before the stream was exhausted" in report.verdict


def test_a_loop_over_the_exhausted_iterator_is_reported() -> None:
    stream = probe(weights())
    it = iter(stream)
    names = [n for n, _ in it]
    again = [n for n, _ in it]
    report = stream.report()
    assert (len(names), again, report.late_loops) == (8, [], 1)
    assert "1 loop(s) started over the exhausted stream and read nothing" in report.verdict


def test_itertools_asking_again_after_the_end_is_one_pass() -> None:
    stream = probe(weights())
    groups = {k: len(list(g)) for k, g in groupby(stream, key=lambda item: item[0].split(".")[1])}
    report = stream.report()
    assert len(groups) == 8 and not report.multi_pass and report.problems() == ()


def test_reuse_overwrites_the_previous_tensor_when_the_next_is_asked_for() -> None:
    it = iter(probe(weights(), mode="reuse"))
    _, first = next(it)
    assert first.values == [0.0] * 8
    _, last = next(it)
    assert all(math.isnan(v) for v in first.values) and last.values == [1.0] * 8


def test_reuse_catches_a_side_buffer_of_views() -> None:
    stream = probe(weights(), mode="reuse")
    params: dict[str, FakeTensor] = {}
    side: list[tuple[str, FakeTensor]] = []
    for name, t in stream:
        if name.startswith("layers.2."):
            side.append((name, t.view()))
            continue
        params[name] = t.clone()
    params.update((name, t.clone()) for name, t in side)
    report = stream.report(loaded=params.items())
    assert report.kept_at_end == ("layers.2.weight",) and report.corrupted == ("layers.2.weight",)
    assert report.overwritten == 8
    assert report.problems() == ("1 loaded tensor(s) hold overwritten data (first `layers.2.weight`)",)
    assert "first `layers.2.weight`), already overwritten: what reads them now reads NaN" in report.verdict


def test_reuse_passes_a_consumer_parked_behind_a_partition() -> None:
    stream = probe(weights(), mode="reuse")
    side: list[tuple[str, FakeTensor]] = []

    def main_part() -> Iterator[tuple[str, FakeTensor]]:
        for name, t in stream:
            if name >= "layers.5":
                side.append((name, t.clone()))
                continue
            yield name, t

    # The comprehension still holds layers.4 while main_part drains the rest into `side`.
    params = {name: t.clone() for name, t in main_part()}
    report = stream.report(loaded=[*params.items(), *side])
    assert report.kept_at_end == ("layers.4.weight",) and report.problems() == ()


def test_reuse_passes_a_side_buffer_of_clones() -> None:
    stream = probe(weights(), mode="reuse")
    params: dict[str, FakeTensor] = {}
    side = []
    for name, t in stream:
        if name.startswith("layers.2."):
            side.append((name, t.clone()))
            continue
        params[name] = t.clone()
    params.update(side)
    report = stream.report(loaded=params.items())
    assert report.problems() == () and params["layers.2.weight"].values == [2.0] * 8


def test_loaded_tensors_are_only_scanned_in_reuse_mode() -> None:
    nan = FakeTensor([math.nan])
    assert probe(weights()).report(loaded=[("x", nan)]).corrupted == ()
    assert probe(weights(), mode="reuse").report(loaded=[("x", nan), ("y", 1.0)]).corrupted == ("x",)


def test_reuse_needs_something_it_can_overwrite() -> None:
    with pytest.raises(TypeError, match="reuse mode cannot overwrite `a`"):
        list(probe([("a", b"bytes")], mode="reuse"))


def test_what_cannot_be_weakly_referenced_is_not_counted() -> None:
    stream = probe([("a", 1), ("b", 2)])
    assert list(stream) == [("a", 1), ("b", 2)]
    assert stream.report().peak_count == 0


def test_an_unread_stream_and_a_bad_mode() -> None:
    assert probe(weights()).verdict == "kept up to 0 of 0 tensors (0 B) alive at once - nothing was read"
    with pytest.raises(ValueError, match="mode must be one of"):
        probe(weights(), mode="copy")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("n", "text"),
    [(512, "512 B"), (1536, "1.5 KiB"), (64 << 20, "64.0 MiB"), (2 << 30, "2.0 GiB")],
)
def test_format_bytes(n: int, text: str) -> None:
    assert format_bytes(n) == text


def test_the_probe_imports_no_libcst_torch_or_pytest() -> None:
    code = "import sys, eagerlint.probe; print(sorted({'libcst', 'torch', 'pytest'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_plugin_is_an_installed_pytest11_entry_point() -> None:
    found = [ep for ep in entry_points(group="pytest11") if ep.name == "eagerlint.probe"]
    assert [ep.value for ep in found] == ["eagerlint.probe"]


PLUGIN_TESTS = """
import pytest

class Mask:
    def __init__(self, nan): self.nan = nan
    def any(self): return self.nan

class T:
    nbytes = 4
    def __init__(self, v): self.v = v
    def clone(self): return T(self.v)
    def fill_(self, x): self.v = x
    def isnan(self): return Mask(self.v != self.v)

class Model:
    def __init__(self): self.params = {}
    def state_dict(self): return self.params

def weights(n=8):
    for i in range(n):
        yield f"w{i}", T(i)

def test_streams(weights_probe):
    assert [n for n, _ in weights_probe(weights())][-1] == "w7"

def test_materializes(weights_probe):
    kept = list(weights_probe(weights()))

@pytest.mark.weights_probe(max_live=4)
def test_keeps_five(weights_probe):
    kept = [t for n, t in weights_probe(weights()) if n < "w5"]

@pytest.mark.weights_probe(mode="reuse", max_live=8)
def test_side_buffer(weights_probe):
    model, side = Model(), []
    for n, t in weights_probe(weights(), model=model):
        if n == "w3":
            side.append((n, t))
            continue
        model.params[n] = t.clone()
    model.params.update((n, t.clone()) for n, t in side)

@pytest.mark.weights_probe(mode="reuse")
def test_cloned_side_buffer(weights_probe):
    model, side = Model(), []
    for n, t in weights_probe(weights(), model=model):
        if n == "w3":
            side.append((n, t.clone()))
            continue
        model.params[n] = t.clone()
    model.params.update(side)

def test_reads_twice(weights_probe):
    stream = weights_probe(weights())
    for _ in stream: pass
    for _ in stream: pass

def test_own_failure_stands(weights_probe):
    kept = list(weights_probe(weights()))
    assert False, "the test's own assertion"
"""


def outcomes(result: pytest.RunResult) -> dict[str, str]:
    return {
        line.split("::")[1].split()[0]: line.split()[0]
        for line in result.outlines
        if line.startswith(("PASSED", "FAILED")) and "::" in line
    }


def test_the_plugin_fails_the_tests_whose_streams_misbehave(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_models=PLUGIN_TESTS)
    result = pytester.runpytest("-rA")
    assert outcomes(result) == {
        "test_streams": "PASSED",
        "test_materializes": "FAILED",
        "test_keeps_five": "FAILED",
        "test_side_buffer": "FAILED",
        "test_cloned_side_buffer": "PASSED",
        "test_reads_twice": "FAILED",
        "test_own_failure_stands": "FAILED",
    }
    text = result.stdout.str()
    assert "weights probe, stream 1: the stream was materialized (8 of 8 tensors alive)" in text
    assert "kept 7 tensors alive at once, more than max_live=4" in text
    assert "weights probe, stream 1: 1 loaded tensor(s) hold overwritten data (first `w3`)" in text
    assert "pass 2 started after the stream was exhausted and read nothing" in text
    assert "AssertionError: the test's own assertion" in text
    summary = [r"=+ weights probe =+", r"test_models.py::test_streams: stream 1 \(count\): kept up to 2 of 8"]
    result.stdout.re_match_lines(summary)


def test_the_marker_is_checked(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.weights_probe(mode="copy")
        def test_bad(weights_probe):
            pass
        """
    )
    result = pytester.runpytest()
    result.stdout.fnmatch_lines(["*mode must be one of ('count', 'reuse'), not 'copy'*"])
    assert result.ret != 0


def test_dash_p_loads_it_without_the_entry_point(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makepyfile(test_models=PLUGIN_TESTS)
    assert "fixture 'weights_probe' not found" in pytester.runpytest("-k", "test_streams").stdout.str()
    result = pytester.runpytest("-p", "eagerlint.probe", "-k", "test_streams or test_materializes")
    result.assert_outcomes(passed=1, failed=1)


def test_dash_p_beside_the_entry_point_registers_it_once(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_models=PLUGIN_TESTS)
    pytester.runpytest("-p", "eagerlint.probe", "-k", "test_streams").assert_outcomes(passed=1)
