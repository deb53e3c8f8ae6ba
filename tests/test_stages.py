"""Stage-level tests of the analysis layer on few-line snippets, each with a
hand-made oracle: what keeps the stream (materialize), what reads it to the end
(consume), which containers a loop keeps every element in (keeps), and how far
a rewrite may be trusted (safety).  No rule is involved."""

from __future__ import annotations

import difflib
import textwrap
from pathlib import Path

import libcst as cst
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eagerlint.analysis import consume, keeps, materialize, safety, streams
from eagerlint.analysis.flow import Event, FunctionWalker, ValueKind, WeightValue
from eagerlint.analysis.module import ModuleView
from eagerlint.analysis.source import ModuleSource
from eagerlint.engine import units
from eagerlint.model import AnalysisOptions, Applicability
from eagerlint.outline import Spliced, outline, reoutline, split_lines


def walked(code: str) -> tuple[ModuleView, list[Event]]:
    """Every event of every unit of `code`, walked as the engine walks it."""
    text = textwrap.dedent(code)
    view = ModuleView(ModuleSource(text, outline(text), "t.py"), AnalysisOptions())
    events: list[Event] = []
    for block, owner in units(view):
        func = view.source.function(block)
        assert func is not None
        seeds: dict[str, WeightValue | None] = {
            name: WeightValue(ValueKind.STREAM, (view.step(func, name),), (id(func), name))
            for name in streams.source_params(func, is_method=owner is not None)
        }
        events.extend(FunctionWalker(view, func, owner, seeds).run())
    return view, events


def row(view: ModuleView, node: cst.CSTNode) -> int:
    return view.position(node).row


# -- materialize: (row of the keeping node, shape) for each event that keeps -------------

MATERIALIZE = {
    "list comprehension": (
        """
        def load_weights(self, weights):
            ws = [(n, w) for n, w in weights]
            return self.loader.load_weights(ws)
        """,
        {(3, "comprehension")},
    ),
    "generator expression keeps nothing": (
        """
        def load_weights(self, weights):
            return self.loader.load_weights((n, w) for n, w in weights)
        """,
        set(),
    ),
    "list() and sorted()": (
        """
        def load_weights(self, weights):
            a = sorted(weights)
            return list(a)
        """,
        {(3, "collection")},  # list(a) copies a list: nothing new is kept
    ),
    "shadowed list": (
        """
        def load_weights(self, weights):
            list = self.factory
            return list(weights)
        """,
        set(),
    ),
    "starred target": (
        """
        def load_weights(self, weights):
            first, *rest = weights
            return rest
        """,
        {(3, "starred target")},
    ),
    "two stars concatenate": (
        """
        def load_weights(self, weights):
            return [*self.extra, *weights]
        """,
        set(),
    ),
    "a loop that keeps every element": (
        """
        def load_weights(self, weights):
            kept = []
            for name, w in weights:
                kept.append((name, w))
            return kept
        """,
        {(4, "loop")},
    ),
    "a loop that loads in place": (
        """
        def load_weights(self, weights):
            for name, w in weights:
                self.params[name].copy_(w)
        """,
        set(),
    ),
    "a same-module helper that keeps its parameter": (
        """
        def _split(items):
            return [x for x in items]

        def load_weights(self, weights):
            return _split(weights)
        """,
        {(6, "helper")},
    ),
    "a helper that streams": (
        """
        def _rename(items):
            for n, w in items:
                yield n.upper(), w

        def load_weights(self, weights):
            return self.loader.load_weights(_rename(weights))
        """,
        set(),
    ),
}


@pytest.mark.parametrize("name", sorted(MATERIALIZE))
def test_materialize(name: str) -> None:
    code, expected = MATERIALIZE[name]
    view, events = walked(code)
    found = {
        (row(view, m.node), m.shape.value)
        for e in events
        if (m := materialize.materialization(e, view)) is not None
    }
    assert found == expected


# -- consume: (row, reads to the end?) of each consumption of the stream -----------------

CONSUME = {
    "a loop reads to the end": (
        """
        def load_weights(self, weights):
            for n, w in weights:
                self.load(n, w)
        """,
        {3: True},
    ),
    "a loop that may break takes a prefix": (
        """
        def load_weights(self, weights):
            for n, w in weights:
                if n == "stop":
                    break
        """,
        {3: False},
    ),
    "next() peeks": (
        """
        def load_weights(self, weights):
            first = next(weights)
            return first
        """,
        {3: False},
    ),
    "any() then a loader: two passes": (
        """
        def load_weights(self, weights):
            seen = any(n == "x" for n, _ in weights)
            return self.loader.load_weights(weights), seen
        """,
        {3: True, 4: True},
    ),
}


@pytest.mark.parametrize("name", sorted(CONSUME))
def test_consume(name: str) -> None:
    code, expected = CONSUME[name]
    view, events = walked(code)
    reads = [e for e in events if consume.consumes(e, view)]
    # A call consumption is recorded for the call; a loop for the loop.
    found = {row(view, e.node): not consume.is_partial(e) and not consume._is_next(e) for e in reads}
    assert {r: v for r, v in found.items() if r in expected} == expected


def test_consume_full_consumption_of_a_helper() -> None:
    view, events = walked(
        """
        def count(items: Iterable[tuple[str, torch.Tensor]]) -> int:
            n = 0
            for _ in items:
                n += 1
            return n

        def peek(items: Iterable[tuple[str, torch.Tensor]]):
            for x in items:
                return x
        """
    )
    funcs = {e.function.name.value: e.function for e in events}
    seeds = {e.function.name.value: e.value.seed for e in events}
    assert consume.full_consumption(funcs["count"], events, seeds["count"], view) is not None
    assert consume.full_consumption(funcs["peek"], events, seeds["peek"], view) is None


def test_consume_two_passes_are_not_one_pass() -> None:
    view, events = walked(
        """
        def load_weights(self, weights):
            for n, w in weights:
                pass
            for n, w in weights:
                pass
        """
    )
    first, second = (e for e in events if consume.consumes(e, view))
    assert consume.origin(first) == consume.origin(second)
    assert not consume.same_pass(first, second) and not consume.exclusive(first, second)


# -- keeps: the containers a loop keeps every element in, or None -----------------------

KEEPS = {
    "append on the default path": ("for n, w in s:\n    kept.append((n, w))\n", ("kept",)),
    "keeps only names": ("for n, w in s:\n    names.add(n)\n", None),
    "subset under an if": ("for n, w in s:\n    if n.startswith('v.'):\n        vis.append(w)\n", None),
    "else keeps the rest": (
        "for n, w in s:\n    if n.startswith('v.'):\n        load(w)\n"
        "    else:\n        rest.append((n, w))\n",
        ("rest",),
    ),
    "emptied in the loop: bounded": (
        "for n, w in s:\n    buf.append(w)\n    if len(buf) > 4:\n        flush(buf)\n        buf.clear()\n",
        None,
    ),
    "a generator buffering": (
        "for n, w in s:\n    if n.endswith('.scale'):\n        sc[n] = w\n    yield n, w\n",
        None,
    ),
    "may break: a probe": ("for n, w in s:\n    kept.append(w)\n    if n == 'x':\n        break\n", None),
    "a subscript store": ("for n, w in s:\n    table[n] = w\n", ("table",)),
    "shape only": ("for n, w in s:\n    shapes[n] = w.shape\n", None),
}


@pytest.mark.parametrize("name", sorted(KEEPS))
def test_keeps(name: str) -> None:
    code, expected = KEEPS[name]
    loop = cst.parse_statement(code)
    assert isinstance(loop, cst.For)
    found = keeps.find_drain(loop)
    assert (None if found is None else found.containers) == expected


# -- safety: the applicability and reason of making a materialization lazy --------------

SAFETY = {
    "consumed once by a loop": (
        "def load_weights(self, weights):\n    ws = [x for x in weights]\n    for n, w in ws:\n"
        "        self.load(n, w)\n",
        Applicability.SAFE,
        "consumed once by a `for` loop",
    ),
    "consumed by a loader": (
        "def load_weights(self, weights):\n    return self.model.load_weights([x for x in weights])\n",
        Applicability.SAFE,
        "consumed once by `self.model.load_weights()`",
    ),
    "an unknown callee": (
        "def load_weights(self, weights):\n    self.custom([x for x in weights])\n",
        Applicability.UNSAFE,
        "passed to `self.custom()`, which eagerlint cannot follow (it may need a list)",
    ),
    "len() is taken": (
        "def load_weights(self, weights):\n    ws = [x for x in weights]\n    print(len(ws))\n",
        None,
        "`len()` is taken",
    ),
    "indexed": (
        "def load_weights(self, weights):\n    ws = [x for x in weights]\n    return ws[0]\n",
        None,
        "the list is indexed",
    ),
    "code in between": (
        "def load_weights(self, weights):\n    ws = [x for x in weights]\n    self.prepare()\n"
        "    self.loader.load_weights(ws)\n",
        Applicability.UNSAFE,
        "`self.prepare()` runs between the list and its consumer",
    ),
    "inert code in between": (
        "def load_weights(self, weights):\n    ws = [x for x in weights]\n    out = set()\n"
        "    params = dict(self.named_parameters())\n    logger.info('loading')\n"
        "    loader = AutoWeightsLoader(self)\n    return loader.load_weights(ws), out, params\n",
        Applicability.SAFE,
        "consumed once by `loader.load_weights()`",
    ),
    "(a) a closure over the element": (
        "def load_weights(self, weights):\n    ws = [(n, lambda: w) for n, w in weights]\n"
        "    for n, f in ws:\n        self.sink(n, f())\n",
        None,
        "each element holds a closure over `w`, which a generator would rebind",
    ),
    "(b) state written between production and consumption": (
        "def load_weights(self, weights):\n    ws = [(n, w * self.scale) for n, w in weights]\n"
        "    self.scale = 5\n    for n, w in ws:\n        self.sink(n, w)\n",
        None,
        "`self.scale` changes between the list and its consumer, and each element reads it",
    ),
    "(c) the consumer changes what each element reads": (
        "def load_weights(self, weights):\n    for n, w in [(n, w * self.scale) for n, w in weights]:\n"
        "        self.scale += 1\n",
        Applicability.UNSAFE,
        "the loop changes `self.scale`, which each element reads",
    ),
    "(d) the consumer pulls from the stream itself": (
        "def load_weights(self, weights):\n    ws = [(n, w) for n, w in weights]\n    for n, w in ws:\n"
        "        extra = next(weights, None)\n        self.sink(n, w, extra)\n",
        None,
        "the loop reads `weights` itself, which the list has already used up",
    ),
    "(e) a consumer that may stop, then the stream again": (
        "def load_weights(self, weights):\n    ws = [(n, w) for n, w in weights]\n    for n, w in ws:\n"
        "        if n == 'stop':\n            break\n        self.sink(n, w)\n    return list(weights)\n",
        None,
        "the loop may stop early, and `weights` is used after it",
    ),
    "a helper that reads its parameter once, to the end": (
        "def consume_all(items):\n    for n, w in items:\n        sink(n, w)\n\n\n"
        "def load_weights(self, weights):\n    consume_all([x for x in weights])\n",
        Applicability.SAFE,
        "consumed once by `consume_all()`",
    ),
    "a helper that also measures its parameter": (
        "def consume_all(items):\n    print(len(items))\n    for n, w in items:\n        sink(n, w)\n\n\n"
        "def load_weights(self, weights):\n    consume_all([x for x in weights])\n",
        Applicability.UNSAFE,
        "passed to `consume_all()`, which does not read it once from start to end",
    ),
    "a helper that may stop early": (
        "def first_two(items):\n    for n, w in items:\n        if n == 'x':\n            break\n\n\n"
        "def load_weights(self, weights):\n    first_two([x for x in weights])\n",
        Applicability.UNSAFE,
        "passed to `first_two()`, which does not read it once from start to end",
    ),
    "(f) each element calls a method that logs": (
        "class M:\n    def note(self, n, w):\n        logger.info(n)\n        return n, w\n\n"
        "    def load_weights(self, weights):\n"
        "        self.loader.load_weights([self.note(n, w) for n, w in weights])\n",
        Applicability.UNSAFE,
        "each element calls `self.note()`, whose effects would interleave with the consumer's",
    ),
    "(f) each element calls a pure method": (
        "class M:\n    def permute(self, n, w):\n        parts = n.split('.')\n"
        "        return n, w.view(2, -1).t()\n\n"
        "    def load_weights(self, weights):\n"
        "        self.loader.load_weights([self.permute(n, w) for n, w in weights])\n",
        Applicability.SAFE,
        "consumed once by `self.loader.load_weights()`",
    ),
    "(g) a helper annotated Iterable that reads its parameter twice": (
        "def twice(items: Iterable[tuple[str, int]]):\n    first = [n for n, _ in items]\n"
        "    for n, w in items:\n        sink(n, w)\n\n\n"
        "def load_weights(self, weights):\n    twice([x for x in weights])\n",
        Applicability.UNSAFE,
        "passed to `twice()`, which does not read it once from start to end",
    ),
    "(h) each element assigns a name the consumer reads": (
        "def load_weights(self, weights):\n    last = None\n"
        "    for n, w in [(n, (last := w)) for n, w in weights]:\n        self.note(last)\n",
        None,
        "each element assigns `last` (`:=`), which a generator would assign later",
    ),
    "a lazy view of the stream, its receiver read in the loop": (
        "def load_weights(self, weights):\n    ws = [(n, w) for n, w in self.mapper.apply(weights)]\n"
        "    for n, w in ws:\n        self.params[n].copy_(w)\n",
        Applicability.SAFE,
        "consumed once by a `for` loop",
    ),
    "the loop body writes what the element reads": (
        "def load_weights(self, weights):\n"
        "    for n, w in [(n, w * k) for n, w in weights]:\n        k = 2\n",
        Applicability.UNSAFE,
        "the loop changes `k`, which each element reads",
    ),
    "(b) a producer generator reads state, through an alias": (
        "def _scaled(model, weights):\n    for n, w in weights:\n        yield n, w * model.scale\n\n\n"
        "def load_weights(self, weights):\n    stream = _scaled(self, weights)\n"
        "    ws = [(n, w) for n, w in stream]\n    self.scale = 5\n"
        "    for n, w in ws:\n        self.sink(n, w)\n",
        None,
        "`self.scale` changes between the list and its consumer, and each element reads it",
    ),
    "(c) the loop calls an unknown method of what each element reads": (
        "def load_weights(self, weights):\n    for n, w in [(n, w + len(self.seen)) for n, w in weights]:\n"
        "        self.sink(n, w)\n",
        Applicability.UNSAFE,
        "the loop changes `self`, which each element reads",
    ),
    "(c) a helper of the tree changes what each element reads": (
        "def _consume(model, ws: Iterable[tuple[str, Any]]) -> None:\n    for n, w in ws:\n"
        "        model.scale += 1\n        model.params[n].copy_(w)\n\n\n"
        "def load_weights(self, weights):\n    _consume(self, [(n, w * self.scale) for n, w in weights])\n",
        Applicability.UNSAFE,
        "`_consume()` changes `self.scale`, which each element reads",
    ),
    "(f) a producer generator with an effect of its own": (
        "def _counting(model, weights):\n    for n, w in weights:\n        model.pulled += 1\n"
        "        yield n, w\n\n\n"
        "def load_weights(self, weights):\n    for n, w in [(n, w) for n, w in _counting(self, weights)]:\n"
        "        self.params[n].copy_(w)\n",
        Applicability.UNSAFE,
        "each element calls `_counting()`, whose effects would interleave with the consumer's",
    ),
    "a nested generator function with no effect of its own": (
        "def load_weights(self, weights):\n    def llm():\n        for n, w in weights:\n"
        "            if not n.startswith('audio.'):\n                yield n, w\n\n"
        "    for n, w in [(n, w) for n, w in llm()]:\n        self.params[n].copy_(w)\n",
        Applicability.SAFE,
        "consumed once by a `for` loop",
    ),
}


@pytest.mark.parametrize("name", sorted(SAFETY))
def test_safety(name: str) -> None:
    code, applicability, reason = SAFETY[name]
    view, events = walked(code)
    (comp,) = [e for e in events if isinstance(e.node, cst.ListComp)]
    verdict = safety.decide(comp.node, comp.stack, view, comp.cls)  # type: ignore[arg-type]
    assert (verdict.applicability, verdict.reason) == (applicability, reason)


def test_safety_of_a_plan_without_a_judged_value_is_unsafe() -> None:
    from eagerlint.model import FixPlan

    view, events = walked("def load_weights(self, weights):\n    return list(weights)\n")
    plan = FixPlan("move work", lambda: ())
    verdict = safety.judge(plan, events[0].stack, view)
    assert verdict.applicability is Applicability.UNSAFE and verdict.reason == safety.INTERLEAVES


def test_outline_keeps_decorators_across_blank_and_comment_lines() -> None:
    # A blank line between `@overload` and its `def` left the decorator out of the
    # block: the overload stubs were taken for plain functions returning `int`.
    text = "x = 1\n\n@overload\n\n# an int\ndef cast(value: int) -> int: ...\n\n\n"
    text += "def cast(value):\n    return value\n"
    blocks = outline(text).blocks
    assert [(b.name, b.start, b.header) for b in blocks] == [("cast", 2, 5), ("cast", 8, 8)]


FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize(
    "fixed", sorted(p.name for p in FIXTURES.glob("EL00*.fixed.py")), ids=lambda name: name
)
def test_reoutline_equals_a_fresh_outline_for_every_fixture_edit(fixed: str) -> None:
    # A fix is judged by re-analysing the function it edits; the outline of the
    # edited module reuses the old blocks when the edit cannot move them.
    before = (FIXTURES / (fixed.split(".")[0] + ".py")).read_text()
    after = (FIXTURES / fixed).read_text()
    old, new_lines = outline(before), split_lines(after)
    reused = 0
    matcher = difflib.SequenceMatcher(a=old.lines, b=new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        edited = reoutline(old, i1, i2 - i1, new_lines[j1:j2])
        fresh = outline("".join(edited.lines))
        assert list(edited.lines) == fresh.lines
        assert edited.blocks == fresh.blocks, (tag, i1, i2)
        reused += edited.blocks is old.blocks
    assert matcher.get_opcodes() != [("equal", 0, len(old.lines), 0, len(new_lines))]
    if fixed.startswith("EL001"):
        assert reused > 0  # bracket edits keep the blocks


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(st.sampled_from(["a\n", "b\n", "c\n"]), max_size=12),
    new=st.lists(st.sampled_from(["x\n", "y\n"]), max_size=5),
    cut=st.tuples(st.integers(0, 12), st.integers(0, 12)),
    ask=st.tuples(st.integers(-20, 20), st.integers(-20, 20), st.sampled_from([None, 1, 2, -1])),
)
def test_spliced_lines_read_as_the_copied_list(
    lines: list[str], new: list[str], cut: tuple[int, int], ask: tuple[int, int, int | None]
) -> None:
    # The edited outline of a fix splices its lines instead of copying the file's.
    first = min(cut[0], len(lines))
    count = min(cut[1], len(lines) - first)
    copied = [*lines[:first], *new, *lines[first + count :]]
    spliced = Spliced(lines, first, count, new)
    assert len(spliced) == len(copied)
    assert list(spliced) == copied
    assert spliced[ask[0] : ask[1] : ask[2]] == copied[ask[0] : ask[1] : ask[2]]
    for i in (ask[0], ask[1]):
        if -len(copied) <= i < len(copied):
            assert spliced[i] == copied[i]
        else:
            with pytest.raises(IndexError):
                spliced[i]


# -- views: does a kept value share the streamed tensor's storage? -------------------

VIEW_CASES = [
    ("w", True),
    ("(name, w)", True),
    ("w[0]", True),
    ("w[:, 1:].t()", True),
    ("w.view(2, -1)", True),
    ("w.narrow(0, 0, 4)", True),
    ("w.data", True),
    ("w.contiguous()", True),  # returns `w` itself when it is contiguous
    ("w.float()", True),  # returns `w` itself when it is float already
    ("w.to(torch.bfloat16)", True),
    ("w.mul_(2)", True),  # in place: its receiver
    ("torch.nn.Parameter(w, requires_grad=False)", True),
    ("lambda: load(w)", True),
    ("functools.partial(load, w)", True),
    ("executor.submit(load, w)", True),
    ("PendingExpert(name, w)", True),  # an unknown class keeps what it is built from
    ("[w, w]", True),
    ("w.clone()", False),
    ("w[0].clone().detach()", False),
    ("w.to('cpu', copy=True)", False),
    ("torch.empty_like(w).copy_(w)", False),
    ("w * 2", False),
    ("torch.cat([w, w])", False),
    ("w.sum()", False),
    ("w.shape", False),
    ("w.numel()", False),
    ("name", False),
    ("self.load_weight(name, w)", False),  # what a loader returns
    ("dequantize(w, scale)", False),  # an unknown function computes a new value
]


@pytest.mark.parametrize(("expr", "holds"), VIEW_CASES)
def test_views_holds_view(expr: str, holds: bool) -> None:
    from eagerlint.analysis.views import holds_view

    assert holds_view(cst.parse_expression(expr), {"w"}) is holds


@pytest.mark.parametrize(
    ("body", "returns"),
    [
        ("return t", "view"),
        ("return t.t() if flag else t", "view"),
        ("return t.clone()", "copy"),
        # SGLang 0.5.23's helpers: a copy only of what the runai streamer marked.
        ("if getattr(t, ATTR, False):\n        return t.clone().detach()\n    return t", "copy"),
        ("if getattr(t, ATTR, False):\n        return t.detach().to('cpu', copy=True)\n    return t", "copy"),
        ("out = t[0]\n    return out", "view"),
        ("return t.float() * 2", "other"),
        ("load(t)", "other"),
    ],
)
def test_views_returns_of_a_helper(body: str, returns: str) -> None:
    from eagerlint.analysis.views import returns_of

    func = cst.parse_module(f"def helper(t, flag=False):\n    {body}\n").body[0]
    assert isinstance(func, cst.FunctionDef)
    assert returns_of(func, "t").value == returns


RETAINED = {
    # A pending pair: kept until its partner comes, emptied then (not a drain, retained).
    "pending_pair": (
        """
        def load_weights(self, weights):
            pending = {}
            for name, w in weights:
                if name in pending:
                    self.load_pair(pending.pop(name), w)
                else:
                    pending[name] = w
        """,
        ["`pending`"],
    ),
    "generator_buffers_a_subset": (
        """
        def load_weights(self, weights):
            side = []
            for name, w in weights:
                if name.startswith("vision."):
                    side.append((name, w))
                    continue
                yield name, w
        """,
        ["`side`"],
    ),
    "setdefault_bucket": (
        """
        def load_weights(self, weights):
            pending = {}
            for name, w in weights:
                bucket = pending.setdefault(name[:-7], {})
                bucket[name[-6:]] = w
        """,
        ["`pending`"],
    ),
    "carried_and_attribute": (
        """
        def load_weights(self, weights):
            prev = None
            for name, w in weights:
                if prev is not None:
                    self.load_pair(prev, w)
                prev = w
                self.last = w.t()
        """,
        ["`prev`, which a later iteration or the code after the loop reads", "`self.last`"],
    ),
    "cloned_or_loaded": (
        """
        def load_weights(self, weights):
            pending = {}
            for name, w in weights:
                self.params[name].copy_(w)
                if name.endswith(".scale"):
                    pending[name] = w.clone()
                w = w.t()
                self.load_one(name, w)
        """,
        [],
    ),
}


@pytest.mark.parametrize("name", RETAINED)
def test_keeps_find_retained(name: str) -> None:
    code, holders = RETAINED[name]
    _, events = walked(code)
    loop = next(e.node for e in events if isinstance(e.node, cst.For))
    assert isinstance(loop, cst.For)
    retention = keeps.Retention(lambda call, arg: None, lambda local: local == "prev")
    assert [r.holder for r in keeps.find_retained(loop, retention)] == holders
    # The memory analysis is not changed by any of them: nothing here keeps every element.
    assert keeps.find_drain(loop) is None


# -- uses: the reads of a name after a statement ----------------------------------

USES = {
    # `x = x["model"]` reads `x` before it binds it; the read after is of the new `x`.
    "reads before rebinding": ('x = load()\nx = x["model"]\nuse(x)\n', ["x"]),
    # A sibling branch that rebinds `x` never runs after the `if` branch's statement.
    "elif does not rebind": (
        "if a:\n    x = load()\nelif b:\n    x = other()\nelse:\n    x = None\nuse(x)\n",
        ["x"],
    ),
    # In the body, a later rebinding ends the uses.
    "rebinding ends the uses": ("x = load()\nx = other()\nuse(x)\n", []),
    # In a loop the `else` runs after the body on a later pass: its read counts.
    "else in a loop": ("for a in b:\n    if a:\n        x = load()\n    else:\n        use(x)\n", ["x"]),
}


@pytest.mark.parametrize("name", sorted(USES))
def test_uses_after(name: str) -> None:
    from eagerlint.analysis.uses import stack_of, uses_after

    body, expected = USES[name]
    code = "def f(a, b):\n" + textwrap.indent(body, "    ")
    func = cst.parse_module(code).body[0]
    assert isinstance(func, cst.FunctionDef)
    # The first statement that calls `load()`, wherever it is nested.
    first = next(
        node
        for node in _statements(func)
        if isinstance(node, cst.SimpleStatementLine) and "load()" in cst.Module(body=[node]).code
    )
    stack = stack_of(first, func)
    assert stack is not None
    uses = uses_after("x", first, stack)
    assert [u.node.value for u in uses] == expected


def _statements(node: cst.CSTNode) -> list[cst.CSTNode]:
    from eagerlint.analysis.walk import descendants

    return [n for n in descendants(node) if isinstance(n, cst.BaseStatement)]
