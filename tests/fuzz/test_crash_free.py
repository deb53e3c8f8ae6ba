"""Crash-freedom on programs hypothesmith generates: eagerlint returns a
FileResult with no internal error, in check and in both fix modes, and every
fix it applies compiles.

Generated code rarely mentions a weight stream, and a file without one never
gets past the byte prefilter, so each program is placed where eagerlint has to
read it: beside a class with `load_weights`, or inside `load_weights` itself,
between a list comprehension over the stream and its consumer.
"""

from __future__ import annotations

import os
import warnings

import hypothesmith
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from eagerlint.model import ErrorKind
from eagerlint.pipeline import FixMode, check_bytes
from tests.fuzz.generator import indent
from tests.fuzz.harness import SETTINGS

# make test: a fixed, bounded sample; make fuzz: many more, drawn afresh each run.
# hypothesmith compiles what it generates; its own SyntaxWarnings are noise here.
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")

EXAMPLES = int(os.environ.get("EAGERLINT_HYPOTHESMITH_EXAMPLES", "100"))
BOUNDED = settings(
    max_examples=EXAMPLES,
    derandomize=os.environ.get("EAGERLINT_HYPOTHESMITH_RANDOM") != "1",
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)

LOADER = """
class Model:
    def load_weights(self, weights):
        ws = [self.permute(n, w) for n, w in weights]
        return self.loader.load_weights(ws)
"""

INSIDE = """
class Model:
    def load_weights(self, weights):
        ws = [self.permute(n, w) for n, w in weights]
{code}
        for n, w in ws:
            self.sink(n, w)
        return list(weights)
"""


def compiles(source: str) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compile(source, "<generated>", "exec")
        except (SyntaxError, ValueError):
            return False
    return True


def crash_free(source: str) -> None:
    assume(compiles(source))
    for mode in FixMode:
        result = check_bytes(source.encode(), "t.py", SETTINGS, mode)
        assert result.error is None or result.error.kind is not ErrorKind.INTERNAL, result.error
        if result.fixed_source is not None:
            assert compiles(result.fixed_source), result.fixed_source


@BOUNDED
@given(code=hypothesmith.from_grammar())
def test_module_beside_a_loader(code: str) -> None:
    crash_free(code + "\n" + LOADER)


@BOUNDED
@given(code=hypothesmith.from_grammar(), at_module_level_too=st.booleans())
def test_statements_inside_load_weights(code: str, at_module_level_too: bool) -> None:
    inside = INSIDE.format(code=indent(code.replace("\t", "    "), 8))
    crash_free(inside + "\n" + code if at_module_level_too else inside)


@settings(BOUNDED, max_examples=max(1, EXAMPLES // 4))
@given(code=hypothesmith.from_node())
def test_libcst_module_beside_a_loader(code: str) -> None:
    crash_free(LOADER + "\n" + code)
