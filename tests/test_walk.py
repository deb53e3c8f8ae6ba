"""The `type(node) in ...` tests of the hot loops equal `isinstance` only for node
classes no other class derives from: this holds it for each set, so a libcst that
grows a subclass fails here and not silently in the analysis."""

from __future__ import annotations

import libcst as cst
import pytest

import eagerlint.engine  # noqa: F401  (imports every analysis module, and whatever it subclasses)
from eagerlint.analysis import consume, keeps, walk
from tests.helpers import all_subclasses


@pytest.mark.parametrize(
    "kinds",
    [
        walk.SCOPE_TYPES,
        consume._OWN_LOOP_STOPS,
        keeps._FACT_TYPES,
        frozenset((cst.Name, cst.GeneratorExp, cst.ListComp, cst.SetComp, cst.DictComp, cst.Call, cst.IfExp)),
        frozenset((cst.Name, cst.Attribute, cst.Call, cst.Subscript)),
        frozenset((cst.Await, cst.Assign)),
    ],
    ids=[
        "walk.SCOPE_TYPES",
        "consume._OWN_LOOP_STOPS",
        "keeps._FACT_TYPES",
        "flow.FunctionWalker.value_of",
        "cst_util.names_in and _render",
        "futures and keeps._derive",
    ],
)
def test_type_sets_hold_only_concrete_classes(kinds: frozenset[type]) -> None:
    assert kinds, "an empty set would test nothing"
    for kind in kinds:
        assert issubclass(kind, cst.CSTNode)
        assert all_subclasses(kind) == [], f"{kind.__name__} has subclasses: `type() in` would miss them"


def test_a_subclass_would_be_caught() -> None:
    # The check itself can fail: a class with a subclass is reported.
    assert all_subclasses(cst.BaseExpression)


def test_children_are_remembered_until_the_file_is_done() -> None:
    from eagerlint.config import Settings
    from eagerlint.pipeline import check_bytes

    call = cst.parse_expression("f(a, b=c)")
    assert walk.children(call) is walk.children(call)  # asked again: the same answer, not recomputed
    assert [type(c).__name__ for c in walk.children(call)] == ["Name", "Arg", "Arg"]
    source = b"def load_weights(self, weights):\n    return [w for w in weights]\n"
    result = check_bytes(source, "m.py", Settings())
    assert [f.code for f in result.findings] == ["EL001"]
    # Nothing of the analysed file (or of `call`) is kept alive once it is checked.
    assert walk._BELOW == {}


class _Recorder(walk.StackVisitor):
    def __init__(self) -> None:
        self.stack = []
        self.events: list[tuple[str, str, int]] = []

    def visit_Call(self, node: cst.Call) -> bool:
        self.events.append(("visit", type(node).__name__, len(self.stack)))
        return not (isinstance(node.func, cst.Name) and node.func.value == "skip")

    def leave_Call(self, node: cst.Call) -> None:
        self.events.append(("leave", type(node).__name__, len(self.stack)))

    def visit_Name(self, node: cst.Name) -> None:
        self.events.append(("visit", node.value, len(self.stack)))


def test_the_inline_walk_visits_as_on_visit_and_on_leave_do() -> None:
    tree = cst.parse_module("f(g(a), skip(h(b)), [c for c in d])\n")
    fast, slow = _Recorder(), _Recorder()
    assert fast._plain
    slow._plain = False  # through on_visit/on_leave, as a class that overrides them
    fast.walk(tree)
    slow.walk(tree)
    assert fast.events == slow.events
    # A visit that returns False skips the children: `skip`, `h(b)` are not entered.
    assert not {"skip", "h", "b"} & {name for _, name, _ in fast.events}
    assert len(fast.events) == 12
