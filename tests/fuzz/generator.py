"""Seeded generator of `load_weights` programs.

A program is a `Spec`: one choice per slot, each choice a key into a table of
`Piece`s below.  The slots, in the order the code runs:

    pre        weights = list(weights) before anything (the vLLM idiom), or nothing
    producer   where the stream comes from: the parameter, a *_weights_iterator
               call, a same-module generator, a genexp, map/filter/iter/islice
    source     the producer used inline, bound to a new name, or rebinding `weights`
    transform  the materialization: a list comprehension, list()/tuple() of the
               stream or of a genexp, [*s], (*s,), list(map(...))
    elt, cond  the element expression and filter of a comprehension transform
    bind       the materialization used inline in the consumer, bound to `ws`, or
               rebinding `weights`
    between    statements between production and consumption
    consumer   a for loop (with `body`), the loader, a helper of the same module
               (with `helper`), a comprehension, `yield from`, a while/next loop
    wrapper    the whole of it inside a nested function, `with`, `try`, `if`, a loop
    after      statements after the consumer: returns, reuses of the stream

`render` turns a spec into the source of a module with a `Model(Recorder)`
class; `tags` names the known-broken shapes a spec contains (see README.md),
computed from what the pieces read, write, pull and stop, not from the intent
with which they were drawn.  Everything is deterministic per seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, fields, replace

# -- pieces -------------------------------------------------------------------------


@dataclass(frozen=True)
class Piece:
    code: str  # placeholders: {s} stream name, {m} materialized name, {v} element value, {src}, {ws}
    weight: float = 1.0
    reads: frozenset[str] = frozenset()  # model/local state read (by the lazy part, or the consumer)
    writes: frozenset[str] = frozenset()  # state written
    pulls: bool = False  # pulls from the stream (or the materialized value) itself
    stops: bool = False  # can end the consumer before the stream is exhausted
    needs: frozenset[str] = frozenset()  # "k": a local `k = 2`; "fs": a local `fs = []`
    thunk: bool = False  # elements are (name, lambda) pairs
    late_binding: bool = False  # a closure that reads the comprehension variable late
    effect: bool = False  # the lazy part has an effect of its own (a log entry, a raise, a counter)
    binds: frozenset[str] = frozenset()  # names the element expression binds (`:=`)
    two_pass: bool = False  # a helper annotated Iterable that reads its argument twice
    post: str = ""  # lines after the consumer (inside the wrapper)


def P(code: str, weight: float = 1.0, **kw: object) -> Piece:
    for key in ("reads", "writes", "needs", "binds"):
        if key in kw:
            kw[key] = frozenset(kw[key])  # type: ignore[arg-type]
    return Piece(code, weight, **kw)  # type: ignore[arg-type]


PRE = {
    "": P("", 8),
    "list": P("weights = list(weights)"),
    "star": P("weights = [*weights]"),
}

PRODUCERS = {
    "param": P("weights", 6),
    "iterator": P("self.renamed_weights_iterator(weights)"),
    "gen_helper": P("_renamed(weights)"),
    "gen_scaled": P("_scaled(self, weights)", reads={"scale"}),
    "gen_counting": P("_counting(self, weights)", 0.3, effect=True),
    "genexp": P("((n.upper(), w) for n, w in weights)"),
    "genexp_scaled": P("((n, w * self.scale) for n, w in weights)", reads={"scale"}),
    "map": P("map(self.rename_item, weights)"),
    "map_scaled": P("map(self.scaled_item, weights)", reads={"scale"}),
    "filter": P("filter(self.keep_item, weights)"),
    "iter": P("iter(weights)"),
    "islice": P("itertools.islice(weights, 3)"),
}

SOURCES = {"inline": P("", 4), "alias": P("stream = {src}", 2), "rebind": P("weights = {src}", 2)}

# {src}: the stream; {elt}/{cond}: element expression and filter.
TRANSFORMS = {
    "listcomp": P("[{elt} for n, w in {src}{cond}]", 6),
    "list_genexp": P("list({elt} for n, w in {src}{cond})", 3),
    "tuple_genexp": P("tuple({elt} for n, w in {src}{cond})"),
    "list": P("list({src})", 3),
    "tuple": P("tuple({src})"),
    "star_list": P("[*{src}]"),
    "star_tuple": P("(*{src},)"),
    "list_map": P("list(map(self.rename_item, {src}))"),
    # A loop that appends each element (filtered by `continue`) to `{m}`: the loop
    # rewrite turns it into a generator (rendered by `_loop_transform`).
    "loop": P("", 4),
}
WITH_ELEMENT = frozenset({"listcomp", "list_genexp", "tuple_genexp", "loop"})
# Transforms that are statements: they bind the materialized name themselves.
STATEMENTS = frozenset({"loop"})

ELTS = {
    "pair": P("(n, w)", 4),
    "plus": P("(n, w + 1)"),
    "permute": P("self.permute(n, w)", 2),
    "scale": P("(n, w * self.scale)", 2, reads={"scale"}),
    "scaled": P("self.scaled(n, w)", reads={"scale"}),
    "config": P("(n, w * self.config.scale)", reads={"config.scale"}),
    "local": P("(n, w * k)", reads={"k"}, needs={"k"}),
    "seen": P("(n, w + len(self.seen))", 0.5, reads={"seen"}),
    "closure": P("(n, lambda: w)", 1.5, thunk=True, late_binding=True),
    "closure_default": P("(n, lambda w=w: w)", thunk=True),
    "tracked": P("(n, self.tracked(w))", 0.5, effect=True),
    "checked": P("self.checked(n, w)", 0.5, effect=True),
    "walrus": P("(n, (last := w))", 0.7, binds={"last"}, needs={"last"}),
}

CONDS = {
    "": P("", 5),
    "mod": P(" if w % 3"),
    "threshold": P(" if w > self.threshold", reads={"threshold"}),
    "keep": P(" if self.keep(n)"),
    "skip": P(" if n not in self.skip", reads={"skip"}),
}

BINDS = {"inline": P("", 3), "ws": P("ws = {ws}", 4), "rebind": P("weights = {ws}", 3)}

BETWEEN = {
    "x": P("x = 1", 2),
    "pass": P("pass"),
    "flag": P("self.flag = True", 2, writes={"flag"}),
    "scale": P("self.scale = 5", 2, writes={"scale"}),
    "scale_inc": P("self.scale += 1", writes={"scale"}),
    "config": P("self.config.scale = 7", writes={"config.scale"}),
    "threshold": P("self.threshold = 3", writes={"threshold"}),
    "skip": P("self.skip = frozenset()", writes={"skip"}),
    "local": P("k = 5", writes={"k"}, needs={"k"}),
    "note": P('self.note("between")'),
    "bump": P("self.bump_scale()", 0.5, writes={"scale"}),
    "next": P("next({s}, None)", 0.5, pulls=True),
    "names": P("names = [n for n, _ in {s}]", 0.5, pulls=True),
}

# {ws}: the materialized value (its name, or the expression itself when inline).
CONSUMERS = {
    "for": P("for n, w in {ws}:\n{body}", 10),
    "for_target": P("for k, w in {ws}:\n    n = k\n{body}", 0.5),
    "for_enumerate": P("for i, (n, w) in enumerate({ws}):\n{body}", 0.5),
    "while_next": P(
        "it = iter({ws})\nwhile True:\n    item = next(it, None)\n"
        "    if item is None:\n        break\n    n, w = item\n{body}",
        0.5,
    ),
    "loader": P("self.loader.load_weights({ws})", 3),
    "loader_set": P("self.loaded = self.loader.load_weights({ws})", 2),
    "loader_return": P("return self.loader.load_weights({ws})", 2),
    "helper": P("_consume(self, {ws})", 3),
    "method": P("self._consume({ws})", 1),
    # A base class's `load_weights` (a consumer by its name), through its class or `super()`.
    "base": P("Base.load_weights(self, {ws})", 1),
    "super": P("super().load_weights({ws})", 1),
    "comp": P('out = [(n, {v}) for n, w in {ws}]\nself.note("out", out)', 2),
    "setcomp": P("self.names = {{n for n, w in {ws}}}", 1),
    "sum": P("self.total = sum({v} for n, w in {ws})", 1),
    "yield_from": P("yield from {ws}", 1),
    "yield_genexp": P("yield from ((n, {v}) for n, w in {ws})", 1),
}
LOOPS = frozenset({"for", "for_target", "for_enumerate", "while_next"})
HELPER_CONSUMERS = frozenset({"helper", "method", "base", "super"})
# The consumers whose helper body is a base class's `load_weights`.
BASE_CONSUMERS = frozenset({"base", "super"})
TERMINAL = frozenset({"loader_return"})
GENERATORS = frozenset({"yield_from", "yield_genexp"})
COMPREHENSIONS = frozenset({"comp", "setcomp", "sum", "yield_genexp"})
# What a consumer itself writes or does (besides its body or helper).
CONSUMER_WRITES = {"loader_set": {"loaded"}, "setcomp": {"names"}, "sum": {"total"}, "for_target": {"k"}}

BODY = {
    "sink": P("self.sink(n, {v})", 8, writes={"seen"}),
    "strict": P("self.load_strict(n, {v})", 2, writes={"seen"}, stops=True),
    "load_one": P("self.loader.load_one(n, {v})", 2),
    "note": P("self.note(n)"),
    "scale_inc": P("self.scale += 1", 2, writes={"scale"}),
    "scale_set": P("self.scale = len(n)", writes={"scale"}),
    "config_inc": P("self.config.scale += 1", writes={"config.scale"}),
    "threshold_inc": P("self.threshold += 1", writes={"threshold"}),
    "skip_add": P("self.skip = self.skip | {{n}}", 0.5, writes={"skip"}),
    "local_inc": P("k += 1", writes={"k"}, needs={"k"}),
    "next": P('self.note("extra", next({s}, None))', 1.5, pulls=True),
    "next_m": P('self.note("extra", next({m}, None))', 0.5, pulls=True),
    "break": P("break", 0.5, stops=True),
    "break_if": P('if n.startswith("b"):\n    break', 2, stops=True),
    "continue_if": P("if w < 0:\n    continue"),
    "return_if": P('if n.startswith("b"):\n    return self.seen', stops=True),
    "inner_def": P("def load_one():\n    self.sink(n, {v})\n\nload_one()", writes={"seen"}),
    "keep_closure": P(
        "fs.append(lambda: {v})",
        needs={"fs"},
        post='for f in fs:\n    self.sink("late", f())',
        writes={"seen"},
    ),
    "with_ctx": P("with self.ctx(n):\n    self.sink(n, {v})", writes={"seen"}),
    "read_last": P('self.note("last", last)', 0.5, reads={"last"}, needs={"last"}),
    "read_pulled": P('self.note("pulled", self.pulled)', 0.5, reads={"pulled"}),
}

# The body of `_consume(model, ws: Iterable[...])` / `Model._consume(self, ws)`; {o}: the model.
HELPERS = {
    "sink": P("for n, w in ws:\n    {o}.sink(n, {v})", 6, writes={"seen"}),
    "scale": P("for n, w in ws:\n    {o}.scale += 1\n    {o}.sink(n, {v})", writes={"scale", "seen"}),
    "break": P(
        'for n, w in ws:\n    {o}.sink(n, {v})\n    if n.startswith("b"):\n        break',
        writes={"seen"},
        stops=True,
    ),
    "loader": P("{o}.loader.load_weights(ws)", 2),
    "twice": P(
        'for n, w in ws:\n    {o}.sink(n, {v})\nfor n, _ in ws:\n    {o}.note("again", n)',
        1,
        writes={"seen"},
        two_pass=True,
    ),
    # SGLang's tied-embedding lookup: a search of the same stream inside the loop over it.
    "search_inside": P(
        'for n, w in ws:\n    if n.startswith("b"):\n'
        '        {o}.note("found", next(filter(lambda item: item[0] == "a", ws), None))\n'
        "    {o}.sink(n, {v})",
        1,
        writes={"seen"},
        two_pass=True,
    ),
}

WRAPPERS = {
    "none": P("", 8),
    "def": P("def inner():\n{inner}\n\ninner()"),
    "ctx": P("with self.ctx():\n{inner}"),
    "try": P('try:\n{inner}\nexcept KeyError as exc:\n    self.note("missing", str(exc))', 2),
    "if": P("if self.enabled:\n{inner}"),
    "loop1": P("for _ in range(1):\n{inner}", 0.5),
}

AFTER = {
    "note_done": P('self.note("done")', 2),
    "scale_after": P("self.scale = 1"),
    "rest_note": P('self.note("rest", list({s}))', 2, pulls=True),
    "rest_loop": P('for n, w in {s}:\n    self.sink("again", n)', pulls=True),
    "len_m": P('self.note("count", len({m}))', 0.5),
}
RETURNS = {
    "": P("", 3),
    "seen": P("return self.seen", 3),
    "none": P("return None"),
    "rest_list": P("return list({s})", 2, pulls=True),
    "rest_next": P("return next({s}, None)", pulls=True),
    "reuse_m": P("return list({m})", 0.5),
}

# -- the spec -------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    pre: str = ""
    producer: str = "param"
    source: str = "inline"
    again: str = "weights"  # the name statements reuse or pull the stream by ({s})
    transform: str = "list"
    elt: str = "pair"
    cond: str = ""
    bind: str = "inline"
    between: tuple[str, ...] = ()
    consumer: str = "for"
    body: tuple[str, ...] = ("sink",)
    helper: str = "sink"
    wrapper: str = "none"
    after: tuple[str, ...] = ()
    ret: str = ""
    # "typing": the header imports `Any, List` from typing (no `Iterable`) and the
    # loop's container is annotated `List[...]`: the loop -> generator fix edits the
    # import line, and a generator annotated with a name it failed to import raises.
    imports: str = "abc"

    def short(self) -> str:
        """The choices that differ from the defaults, for reports."""
        default = Spec()
        changed = [f.name for f in fields(self) if getattr(self, f.name) != getattr(default, f.name)]
        return ", ".join(f"{name}={getattr(self, name)!r}" for name in changed)


def normalise(spec: Spec) -> Spec | None:
    """The spec made consistent, or None when no program has these choices."""
    if spec.source == "rebind" and spec.producer == "param":
        spec = replace(spec, source="inline")
    if spec.source != "alias" and spec.again == "stream":
        spec = replace(spec, again="weights")
    if spec.transform not in WITH_ELEMENT:
        spec = replace(spec, elt="pair", cond="")
    if spec.transform in STATEMENTS:
        spec = replace(spec, bind="ws")  # the loop fills `ws`; `weights` is what it reads
    if spec.imports == "typing" and (
        spec.transform not in STATEMENTS or spec.consumer in ("helper", "method")
    ):
        spec = replace(spec, imports="abc")  # only a loop has a container to annotate; helpers name Iterable
    if spec.bind == "inline":
        spec = replace(spec, between=())
        if "next_m" in spec.body or "len_m" in spec.after or spec.ret == "reuse_m":
            return None
    if spec.consumer not in LOOPS:
        spec = replace(spec, body=())
    if spec.consumer not in HELPER_CONSUMERS:
        spec = replace(spec, helper="sink")
    if spec.consumer in TERMINAL:
        spec = replace(spec, after=(), ret="")
    # `super()` without arguments works only in the method's own body.
    if spec.wrapper == "def" and spec.consumer == "super":
        return None
    # `weights = ...` inside a nested function makes `weights` local to it.
    if spec.wrapper == "def" and (spec.bind == "rebind" or spec.consumer in GENERATORS | TERMINAL):
        return None
    if ELTS[spec.elt].thunk and spec.consumer in ("setcomp",):
        return None
    # `:=` may not appear in a comprehension's iterable.
    if ELTS[spec.elt].binds and spec.bind == "inline" and spec.consumer in COMPREHENSIONS:
        return None
    return spec


def pieces(spec: Spec) -> list[Piece]:
    out = [PRE[spec.pre], PRODUCERS[spec.producer], TRANSFORMS[spec.transform]]
    out += [ELTS[spec.elt], CONDS[spec.cond], CONSUMERS[spec.consumer]]
    out += [BETWEEN[b] for b in spec.between] + [BODY[b] for b in spec.body]
    if spec.consumer in HELPER_CONSUMERS:
        out.append(HELPERS[spec.helper])
    out += [AFTER[a] for a in spec.after] + [RETURNS[spec.ret]]
    return out


# -- shapes -------------------------------------------------------------------------

# The shapes that safe fixes used to get wrong (issue 13 lists a-e; f, g and h
# were found by this fuzzer).  Since the safety rework none is broken: each is
# held to 0 differences like the untagged bucket, and the names stay so that a
# difference is attributed (and a regression of one shape shows on its own).
SHAPES = {
    "a": "a closure over the comprehension variable (`lambda: w`) called in the consumer",
    "b": "state the lazy part reads is written between production and consumption",
    "c": "state the lazy part reads is written by the consumer",
    "d": "the stream is pulled again (next(), another comprehension) before the consumer is done",
    "e": "the consumer can stop early and the stream is used again afterwards",
    "f": "the lazy part has an effect of its own: a call in the element expression that logs or "
    "raises, a producer generator that counts what it pulls",
    "g": "a helper whose parameter is annotated Iterable, or a base class's load_weights, reads it twice",
    "h": "the element expression binds a name with `:=` that the consumer reads",
}
# The shapes whose safe fixes still change behaviour (none today).  Their regression cases and
# their part of the bounded run are strict xfails; when the safety analysis makes
# a shape's fixes unsafe (or none), those tests XPASS and fail: take the shape
# out of this set, and from then on any difference in it fails the suite.
BROKEN_TODAY: frozenset[str] = frozenset()


def tags(spec: Spec) -> frozenset[str]:
    """The known-broken shapes `spec` contains (a superset of those that matter)."""
    elt = ELTS[spec.elt] if spec.transform in WITH_ELEMENT else ELTS["pair"]
    cond = CONDS[spec.cond] if spec.transform in WITH_ELEMENT else CONDS[""]
    reads = PRODUCERS[spec.producer].reads | elt.reads | cond.reads
    between = [BETWEEN[b] for b in spec.between]
    consumer = [BODY[b] for b in spec.body]
    if spec.consumer in HELPER_CONSUMERS:
        consumer.append(HELPERS[spec.helper])
    consumer_writes = set(CONSUMER_WRITES.get(spec.consumer, ()))
    for p in consumer:
        consumer_writes |= p.writes
    later = [AFTER[a] for a in spec.after] + [RETURNS[spec.ret]]
    out = set()
    if elt.late_binding:
        out.add("a")
    if any(reads & p.writes for p in between):
        out.add("b")
    if reads & consumer_writes:
        out.add("c")
    if any(p.pulls for p in between + consumer):
        out.add("d")
    if any(p.stops for p in consumer) and any(p.pulls for p in later):
        out.add("e")
    if elt.effect or PRODUCERS[spec.producer].effect:
        out.add("f")
    if any(p.two_pass for p in consumer):
        out.add("g")
    if elt.binds & set().union(*(p.reads for p in consumer)):
        out.add("h")
    return frozenset(out)


# -- rendering ---------------------------------------------------------------------

HEADER = """\
import itertools
from collections.abc import Iterable
from typing import Any
"""
TYPED_HEADER = """\
import itertools
from typing import Any, List
"""

PRODUCER_HELPERS = {
    "gen_helper": "def _renamed(weights):\n    for n, w in weights:\n        yield n + '.h', w\n",
    "gen_scaled": "def _scaled(model, weights):\n    for n, w in weights:\n"
    "        yield n, w * model.scale\n",
    "gen_counting": "def _counting(model, weights):\n    for n, w in weights:\n"
    "        model.pulled += 1\n        yield n, w\n",
}


def indent(text: str, by: int = 4) -> str:
    pad = " " * by
    return "\n".join(pad + line if line.strip() else "" for line in text.split("\n"))


def render(spec: Spec) -> str:
    elt = ELTS[spec.elt]
    thunk = elt.thunk
    v = "w()" if thunk else "w"
    s = spec.again
    m = "weights" if spec.bind == "rebind" else "ws"
    src_expr = PRODUCERS[spec.producer].code
    src = src_expr if spec.source == "inline" else ("stream" if spec.source == "alias" else "weights")

    def fill(code: str, **extra: str) -> str:
        return code.format(s=s, m=m, v=v, src=src, **extra)

    ps = pieces(spec)
    needs = set().union(*(p.needs for p in ps))
    value = TRANSFORMS[spec.transform].code.format(
        src=src, elt=elt.code, cond=CONDS[spec.cond].code, s=s, m=m, v=v
    )

    inner: list[str] = []
    if "k" in needs:
        inner.append("k = 2")
    if "fs" in needs:
        inner.append("fs = []")
    if "last" in needs:
        inner.append("last = None")
    if spec.transform in STATEMENTS:
        inner.append(_loop_transform(m, src, elt.code, CONDS[spec.cond].code, typed=spec.imports == "typing"))
        ws = m
    elif spec.bind != "inline":
        inner.append(BINDS[spec.bind].code.format(ws=value))
        ws = m
    else:
        ws = value
    inner += [fill(BETWEEN[b].code) for b in spec.between]
    body = "\n".join(fill(BODY[b].code) for b in spec.body) or "pass"
    consumer = CONSUMERS[spec.consumer].code
    inner.append(consumer.format(ws=ws, v=v, body=indent(body)))
    inner += [fill(BODY[b].post) for b in spec.body if BODY[b].post]

    lines: list[str] = []
    if spec.pre:
        lines.append(PRE[spec.pre].code)
    if spec.source != "inline":
        lines.append(SOURCES[spec.source].code.format(src=src_expr))
    block = "\n".join(inner)
    if spec.wrapper == "none":
        lines.append(block)
    else:
        lines.append(WRAPPERS[spec.wrapper].code.format(inner=indent(block)))
    lines += [fill(AFTER[a].code) for a in spec.after]
    if spec.ret:
        lines.append(fill(RETURNS[spec.ret].code))

    parts = [TYPED_HEADER if spec.imports == "typing" else HEADER]
    if spec.producer in PRODUCER_HELPERS:
        parts.append(PRODUCER_HELPERS[spec.producer])
    helper = HELPERS[spec.helper].code if spec.consumer in HELPER_CONSUMERS else ""
    if spec.consumer == "helper":
        parts.append(
            "def _consume(model, ws: Iterable[tuple[str, Any]]) -> None:\n"
            + indent(helper.format(o="model", v=v))
            + "\n"
        )
    if spec.consumer in BASE_CONSUMERS:
        parts.append(
            "class Base(Recorder):\n    def load_weights(self, ws):\n"
            + indent(helper.format(o="self", v=v), 8)
            + "\n"
        )
    base = "Base" if spec.consumer in BASE_CONSUMERS else "Recorder"
    cls = f"class Model({base}):\n    def load_weights(self, weights):\n" + indent("\n".join(lines), 8) + "\n"
    if spec.consumer == "method":
        cls += (
            "\n    def _consume(self, ws: Iterable[tuple[str, Any]]) -> None:\n"
            + indent(helper.format(o="self", v=v), 8)
            + "\n"
        )
    parts.append(cls)
    return "\n\n".join(parts)


def _loop_transform(container: str, src: str, elt: str, cond: str, *, typed: bool = False) -> str:
    """`container = []` (annotated `List[...]` when `typed`), then a loop over `src`
    that appends `elt` for the elements the filter keeps (`cond` is a
    comprehension's ` if <test>`)."""
    test = cond.removeprefix(" if ")
    skip = f"    if not ({test}):\n        continue\n" if test else ""
    annotation = ": List[tuple[str, Any]]" if typed else ""
    return f"{container}{annotation} = []\nfor n, w in {src}:\n{skip}    {container}.append({elt})"


# -- drawing -----------------------------------------------------------------------


def pick(rng: random.Random, table: dict[str, Piece]) -> str:
    keys = list(table)
    return rng.choices(keys, weights=[table[k].weight for k in keys])[0]


def picks(rng: random.Random, table: dict[str, Piece], most: int) -> tuple[str, ...]:
    count = rng.choice([0] * 2 + list(range(1, most + 1)))
    return tuple(pick(rng, table) for _ in range(count))


@dataclass(frozen=True)
class Program:
    seed: int
    spec: Spec
    source: str = field(repr=False)
    tags: frozenset[str]


def draw(rng: random.Random) -> Spec | None:
    spec = Spec(
        pre=pick(rng, PRE),
        producer=pick(rng, PRODUCERS),
        source=pick(rng, SOURCES),
        again=rng.choice(["weights", "stream"]),
        transform=pick(rng, TRANSFORMS),
        elt=pick(rng, ELTS),
        cond=pick(rng, CONDS),
        bind=pick(rng, BINDS),
        between=picks(rng, BETWEEN, 2),
        consumer=pick(rng, CONSUMERS),
        body=(pick(rng, BODY), *picks(rng, BODY, 2)),
        helper=pick(rng, HELPERS),
        wrapper=pick(rng, WRAPPERS),
        after=picks(rng, AFTER, 1),
        ret=pick(rng, RETURNS),
    )
    # A name bound by `:=` or a counter kept by the producer is mostly there to be read.
    if spec.elt == "walrus" and rng.random() < 0.8:
        spec = replace(spec, body=(*spec.body, "read_last"))
    if spec.producer == "gen_counting" and rng.random() < 0.5:
        spec = replace(spec, body=(*spec.body, "read_pulled"))
    if spec.body and rng.random() < 0.5:
        # Most real loops load first, then decide.
        spec = replace(spec, body=tuple(sorted(spec.body, key=lambda b: b not in ("sink", "strict"))))
    return normalise(spec)


def generate(seed: int) -> Program:
    """The program of `seed`: at most one known shape, so that each shape's
    differences are counted apart (a draw with two is drawn again)."""
    rng = random.Random(seed)
    # Drawn apart, so that every seed's other choices stay what they were.
    typed = random.Random(f"imports {seed}").random() < 0.5
    while True:
        spec = draw(rng)
        if spec is not None and typed:
            spec = normalise(replace(spec, imports="typing"))
        if spec is None:
            continue
        found = tags(spec)
        if len(found) <= 1:
            return Program(seed, spec, render(spec), found)
