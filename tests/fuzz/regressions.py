"""Minimal programs for every distinct behaviour difference the fuzzer has found.

Each case is a program (below the fixed header of imports, `generator.HEADER`)
and the stream it misbehaves on.  test_fuzz.py lints it with the safe fix and
runs original and fixed code on that stream: they must behave the same (or
there must be no safe fix).  Cases whose shape is in `generator.BROKEN_TODAY`
are strict xfails.

To add one: run `make fuzz`, take the minimised reproducer of a new difference
(its original program and its stream), append a `Regression` with a name that
says what happens, and the shape letter (add a shape to `generator.SHAPES`, and
to `BROKEN_TODAY` while eagerlint still gets it wrong, if none fits).
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.fuzz.runtime import Item


@dataclass(frozen=True)
class Regression:
    name: str
    shape: str  # a key of generator.SHAPES
    source: str
    stream: tuple[Item, ...]


REGRESSIONS = (
    Regression(
        "a-closure-for",
        "a",
        """\
class Model(Recorder):
    def load_weights(self, weights):
        for n, w in [(n, lambda: w) for n, w in weights]:
            self.sink(n, w())
""",
        (("c1", -1), ("a2", 2)),
    ),
    Regression(
        "a-closure-loader",
        "a",
        """\
class Model(Recorder):
    def load_weights(self, weights):
        self.loader.load_weights([(n, lambda: w) for n, w in weights])
""",
        (("c1", -1), ("a2", 2)),
    ),
    Regression(
        "a-closure-helper",
        "a",
        """\
def _consume(model, ws: Iterable[tuple[str, Any]]) -> None:
    for n, w in ws:
        model.sink(n, w())


class Model(Recorder):
    def load_weights(self, weights):
        _consume(self, [(n, lambda: w) for n, w in weights])
""",
        (("c1", -1), ("a2", 2)),
    ),
    Regression(
        "a-closure-comprehension",
        "a",
        """\
class Model(Recorder):
    def load_weights(self, weights):
        out = [(n, w()) for n, w in [(n, lambda: w) for n, w in weights]]
        self.note("out", out)
""",
        (("c1", -1), ("a2", 2)),
    ),
    Regression(
        "a-closure-yield-from",
        "a",
        """\
class Model(Recorder):
    def load_weights(self, weights):
        yield from [(n, lambda: w) for n, w in weights]
""",
        (("c1", -1), ("a2", 2)),
    ),
    Regression(
        "b-write-between-attribute",
        "b",
        """\
class Model(Recorder):
    def load_weights(self, weights):
        ws = [(n, w * self.scale) for n, w in weights]
        self.scale = 5
        self.loader.load_weights(ws)
""",
        (("x0", 3),),
    ),
    Regression(
        "b-write-between-method-read",
        "b",
        """\
class Model(Recorder):
    def load_weights(self, weights):
        ws = [self.scaled(n, w) for n, w in weights]
        self.scale = 5
        self.loader.load_weights(ws)
""",
        (("x0", 3),),
    ),
    Regression(
        "b-write-between-nested-attribute",
        "b",
        """\
class Model(Recorder):
    def load_weights(self, weights):
        ws = [(n, w * self.config.scale) for n, w in weights]
        self.config.scale = 7
        for n, w in ws:
            self.sink(n, w)
""",
        (("x0", 3),),
    ),
    Regression(
        "b-write-between-filter",
        "b",
        """\
class Model(Recorder):
    def load_weights(self, weights):
        ws = [(n, w) for n, w in weights if w > self.threshold]
        self.threshold = 3
        for n, w in ws:
            self.sink(n, w)
""",
        (("x0", 3),),
    ),
    Regression(
        "b-write-between-local",
        "b",
        """\
class Model(Recorder):
    def load_weights(self, weights):
        k = 2
        ws = [(n, w * k) for n, w in weights]
        k = 5
        for n, w in ws:
            self.sink(n, w)
""",
        (("x0", 3),),
    ),
    Regression(
        "b-write-between-producer-genexp",
        "b",
        """\
class Model(Recorder):
    def load_weights(self, weights):
        ws = list(((n, w * self.scale) for n, w in weights))
        self.scale = 5
        for n, w in ws:
            self.sink(n, w)
""",
        (("x0", 3),),
    ),
    Regression(
        "b-write-between-producer-generator",
        "b",
        """\
def _scaled(model, weights):
    for n, w in weights:
        yield n, w * model.scale


class Model(Recorder):
    def load_weights(self, weights):
        ws = list(_scaled(self, weights))
        self.scale = 5
        for n, w in ws:
            self.sink(n, w)
""",
        (("x0", 3),),
    ),
    Regression(
        "b-write-between-producer-map",
        "b",
        """\
class Model(Recorder):
    def load_weights(self, weights):
        ws = list(map(self.scaled_item, weights))
        self.scale = 5
        self.loader.load_weights(ws)
""",
        (("x0", 3),),
    ),
    Regression(
        "b-write-between-attribute-loop",
        "b",
        """\
class Model(Recorder):
    def load_weights(self, weights):
        ws = [(n, w * self.scale) for n, w in weights]
        self.scale = 5
        for n, w in ws:
            self.sink(n, w)
""",
        (("x0", 3),),
    ),
    Regression(
        "c-consumer-writes-filter",
        "c",
        """\
class Model(Recorder):
    def load_weights(self, weights):
        for n, w in [(n, w) for n, w in weights if w > self.threshold]:
            self.threshold += 1
""",
        (("c1", 5), ("b3", 2), ("b4", 2)),
    ),
    Regression(
        "c-consumer-writes-list-genexp",
        "c",
        """\
class Model(Recorder):
    def load_weights(self, weights):
        for n, w in list(self.scaled(n, w) for n, w in weights):
            self.sink(n, w)
            self.scale += 1
""",
        (("c1", -1), ("a2", 2)),
    ),
    Regression(
        "c-consumer-writes-through-call",
        "c",
        """\
class Model(Recorder):
    def load_weights(self, weights):
        for n, w in [(n, w + len(self.seen)) for n, w in weights]:
            self.sink(n, w)
""",
        (("c1", -1), ("a2", 2)),
    ),
    Regression(
        "c-consumer-loop-target-rebinds",
        "c",
        """\
class Model(Recorder):
    def load_weights(self, weights):
        k = 2
        for k, w in [(n, w * k) for n, w in weights]:
            n = k
            self.sink(n, w)
""",
        (("c1", -1), ("a2", 2)),
    ),
    Regression(
        "c-consumer-helper-writes",
        "c",
        """\
def _consume(model, ws: Iterable[tuple[str, Any]]) -> None:
    for n, w in ws:
        model.scale += 1
        model.sink(n, w)


class Model(Recorder):
    def load_weights(self, weights):
        _consume(self, [(n, w * self.scale) for n, w in weights])
""",
        (("c1", -1), ("a2", 2)),
    ),
    Regression(
        "c-consumer-writes-producer",
        "c",
        """\
def _scaled(model, weights):
    for n, w in weights:
        yield n, w * model.scale


class Model(Recorder):
    def load_weights(self, weights):
        for n, w in list(_scaled(self, weights)):
            self.sink(n, w)
            self.scale += 1
""",
        (("c1", -1), ("a2", 2)),
    ),
    Regression(
        "c-producer-read-helper-writes",
        "c",
        """\
def _scaled(model, weights):
    for n, w in weights:
        yield n, w * model.scale


def _consume(model, ws: Iterable[tuple[str, Any]]) -> None:
    for n, w in ws:
        model.scale += 1
        model.sink(n, w)


class Model(Recorder):
    def load_weights(self, weights):
        _consume(self, list(_scaled(self, weights)))
""",
        (("c1", -1), ("a2", 2)),
    ),
    Regression(
        "c-consumer-writes-producer-before-load",
        "c",
        """\
def _scaled(model, weights):
    for n, w in weights:
        yield n, w * model.scale


class Model(Recorder):
    def load_weights(self, weights):
        for n, w in list(_scaled(self, weights)):
            self.scale += 1
            self.sink(n, w)
""",
        (("c1", -1), ("a2", 2)),
    ),
    Regression(
        "c-consumer-writes-list-genexp-attribute",
        "c",
        """\
class Model(Recorder):
    def load_weights(self, weights):
        for n, w in list((n, w * self.scale) for n, w in weights):
            self.sink(n, w)
            self.scale += 1
""",
        (("c1", -1), ("a2", 2)),
    ),
    Regression(
        "c-consumer-writes-list-genexp-before-load",
        "c",
        """\
class Model(Recorder):
    def load_weights(self, weights):
        for n, w in list((n, w * self.scale) for n, w in weights):
            self.scale += 1
            self.sink(n, w)
""",
        (("c1", -1), ("a2", 2)),
    ),
    Regression(
        "c-consumer-writes-producer-filtered",
        "c",
        """\
def _scaled(model, weights):
    for n, w in weights:
        yield n, w * model.scale


class Model(Recorder):
    def load_weights(self, weights):
        for n, w in [(n, w) for n, w in _scaled(self, weights) if w % 3]:
            self.scale += 1
""",
        (("c1", -1), ("a2", 2)),
    ),
    Regression(
        "d-consumer-pulls-next",
        "d",
        """\
class Model(Recorder):
    def load_weights(self, weights):
        for n, w in list(weights):
            self.note("extra", next(weights, None))
""",
        (("c1", -1), ("a2", 2)),
    ),
    Regression(
        "d-consumer-pulls-next-star-tuple",
        "d",
        """\
class Model(Recorder):
    def load_weights(self, weights):
        for n, w in (*weights,):
            self.note("extra", next(weights, None))
""",
        (("c1", -1), ("a2", 2)),
    ),
    Regression(
        "d-between-pulls-comprehension",
        "d",
        """\
class Model(Recorder):
    def load_weights(self, weights):
        ws = list(weights)
        names = [n for n, _ in weights]
        for n, w in ws:
            self.sink(n, w)
""",
        (("x0", 3),),
    ),
    Regression(
        "e-break-then-rest",
        "e",
        """\
class Model(Recorder):
    def load_weights(self, weights):
        for n, w in list(weights):
            if n.startswith("b"):
                break
        return list(weights)
""",
        (("b4", 2), ("c5", -1)),
    ),
    Regression(
        "e-break-then-rest-note",
        "e",
        """\
class Model(Recorder):
    def load_weights(self, weights):
        for n, w in list(weights):
            break
        self.note("rest", list(weights))
""",
        (("c1", -1), ("a2", 2)),
    ),
    Regression(
        "e-raise-caught-then-rest",
        "e",
        """\
class Model(Recorder):
    def load_weights(self, weights):
        try:
            for n, w in list(weights):
                self.load_strict(n, w)
        except KeyError as exc:
            self.note("missing", str(exc))
        return list(weights)
""",
        (("x0", 3), ("c5", -1)),
    ),
    Regression(
        "e-helper-breaks-then-rest",
        "e",
        """\
def _consume(model, ws: Iterable[tuple[str, Any]]) -> None:
    for n, w in ws:
        model.sink(n, w)
        if n.startswith("b"):
            break


class Model(Recorder):
    def load_weights(self, weights):
        _consume(self, list(weights))
        return next(weights, None)
""",
        (("b4", 2), ("c5", -1)),
    ),
    Regression(
        "e-break-at-once-then-rest",
        "e",
        """\
class Model(Recorder):
    def load_weights(self, weights):
        for n, w in list(weights):
            break
        return list(weights)
""",
        (("c1", -1), ("a2", 2)),
    ),
    Regression(
        "e-helper-breaks-then-rest-list",
        "e",
        """\
def _consume(model, ws: Iterable[tuple[str, Any]]) -> None:
    for n, w in ws:
        model.sink(n, w)
        if n.startswith("b"):
            break


class Model(Recorder):
    def load_weights(self, weights):
        _consume(self, list(weights))
        return list(weights)
""",
        (("b4", 2), ("c5", -1)),
    ),
    Regression(
        "e-helper-breaks-then-rest-note",
        "e",
        """\
def _consume(model, ws: Iterable[tuple[str, Any]]) -> None:
    for n, w in ws:
        model.sink(n, w)
        if n.startswith("b"):
            break


class Model(Recorder):
    def load_weights(self, weights):
        _consume(self, list(weights))
        self.note("rest", list(weights))
""",
        (("b4", 2), ("c5", -1)),
    ),
    Regression(
        "e-raise-caught-then-rest-note",
        "e",
        """\
class Model(Recorder):
    def load_weights(self, weights):
        try:
            for n, w in list(weights):
                self.load_strict(n, w)
        except KeyError as exc:
            self.note("missing", str(exc))
        self.note("rest", list(weights))
""",
        (("x0", 3), ("c5", -1)),
    ),
    Regression(
        "f-element-call-logs",
        "f",
        """\
class Model(Recorder):
    def load_weights(self, weights):
        self.loader.load_weights([(n, self.tracked(w)) for n, w in weights])
""",
        (("x0", 3),),
    ),
    Regression(
        "f-element-call-raises",
        "f",
        """\
class Model(Recorder):
    def load_weights(self, weights):
        self.loader.load_weights([self.checked(n, w) for n, w in weights])
""",
        (("x0", 3),),
    ),
    Regression(
        "f-producer-counts",
        "f",
        """\
def _counting(model, weights):
    for n, w in weights:
        model.pulled += 1
        yield n, w


class Model(Recorder):
    def load_weights(self, weights):
        for n, w in list(_counting(self, weights)):
            self.sink(n, w)
""",
        (("c1", -1), ("a2", 2)),
    ),
    Regression(
        "f-element-call-logs-in-loop",
        "f",
        """\
class Model(Recorder):
    def load_weights(self, weights):
        for n, w in [(n, self.tracked(w)) for n, w in weights]:
            self.sink(n, w)
""",
        (("c1", -1), ("a2", 2)),
    ),
    Regression(
        "f-element-call-logs-before-write",
        "f",
        """\
class Model(Recorder):
    def load_weights(self, weights):
        ws = [(n, self.tracked(w)) for n, w in weights]
        self.flag = True
        for n, w in ws:
            pass
""",
        (("x0", 3),),
    ),
    Regression(
        "g-helper-reads-twice",
        "g",
        """\
def _consume(model, ws: Iterable[tuple[str, Any]]) -> None:
    for n, w in ws:
        model.sink(n, w)
    for n, _ in ws:
        model.note("again", n)


class Model(Recorder):
    def load_weights(self, weights):
        _consume(self, list(weights))
""",
        (("x0", 3),),
    ),
    Regression(
        "h-walrus-read-by-consumer",
        "h",
        """\
class Model(Recorder):
    def load_weights(self, weights):
        last = None
        for n, w in [(n, (last := w)) for n, w in weights]:
            self.note("last", last)
""",
        (("c1", -1), ("a2", 2)),
    ),
    Regression(
        "d-genexp-alias-source-pulled-between",  # make fuzz at 20,000 seeds, after the safety rework
        "d",
        """\
class Model(Recorder):
    def load_weights(self, weights):
        stream = ((n.upper(), w) for n, w in weights)
        ws = list(stream)
        names = [n for n, _ in weights]
        for n, w in ws:
            self.sink(n, w)
""",
        (("c0", -3),),
    ),
    Regression(
        "e-break-in-nested-def-then-return-rest",
        "e",
        """\
class Model(Recorder):
    def load_weights(self, weights):
        def inner():
            for n, w in list(weights):
                break

        inner()
        return list(weights)
""",
        (("x2", 1), ("x3", -3)),
    ),
    Regression(
        # Found when the loop rewrite joined the fuzzer: the loop reads an alias of the
        # stream, the consumer stops at once, and the stream is read afterwards.
        "e-loop-alias-break-then-next",
        "e",
        """\
class Model(Recorder):
    def load_weights(self, weights):
        stream = weights
        ws = []
        for n, w in stream:
            ws.append((n, w))
        for n, w in ws:
            break
        return next(weights, None)
""",
        (("x0", 1), ("a1", 6)),
    ),
    Regression(
        # Found when base-class consumers joined the fuzzer: `Base.load_weights` may
        # stop early, and the stream is read after it.
        "e-base-class-consumer-breaks-then-next",
        "e",
        """\
class Base(Recorder):
    def load_weights(self, ws):
        for n, w in ws:
            self.sink(n, w)
            if n.startswith("b"):
                break


class Model(Base):
    def load_weights(self, weights):
        Base.load_weights(self, list(weights))
        return next(weights, None)
""",
        (("b2", 6), ("a3", 2)),
    ),
    Regression(
        # SGLang 0.5.23's nanbeige.py: a consumer by its name whose body searches the
        # same stream inside its loop over it (a list restarts, a generator is used up).
        "g-base-class-consumer-searches-inside-its-loop",
        "g",
        """\
class Base(Recorder):
    def load_weights(self, ws):
        for n, w in ws:
            if n.startswith("b"):
                self.note("found", next(filter(lambda item: item[0] == "a", ws), None))
            self.sink(n, w)


class Model(Base):
    def load_weights(self, weights):
        super().load_weights([(n, w) for n, w in weights if not n.startswith("x")])
""",
        (("b1", 1), ("a2", 2), ("c3", 3)),
    ),
)
