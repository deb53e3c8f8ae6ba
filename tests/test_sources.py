"""The byte, text and CST forms of the stream sources agree (analysis/sources.py).

Each cheaper form must be a necessary condition of the next: whatever the CST
form calls a source, the text form selects and the byte form lets through, or
that source would silently never be analysed.
"""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eagerlint.analysis import eager, sources, streams, walk
from eagerlint.analysis.project import imports
from eagerlint.model import AnalysisOptions

OPTIONS = AnalysisOptions(stream_producers=("my_engine.loader.iterate_shards",))


def cst_form(code: str) -> bool:
    module = cst.parse_module(textwrap.dedent(code))
    func = next(n for n in module.body if isinstance(n, cst.FunctionDef))
    if streams.source_params(func, is_method=False):
        return True
    calls: list[cst.Call] = []

    class Calls(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            calls.append(node)

    func.visit(Calls())
    if any(streams.is_handle_pairs(n) for n in walk.descendants(func)):
        return True
    # An eager call as the analysis decides it: by its spelling, through the imports.
    table = imports(textwrap.dedent(code), "catalogue", False)
    return any(
        streams.is_producer_call(c, OPTIONS) or eager.is_eager_call(c) or eager.eager_call(c, table)
        for c in calls
    )


def text_form(code: str) -> bool:
    code = textwrap.dedent(code)
    name = code.split("def ", 1)[1].split("(", 1)[0].strip()
    return sources.selects_unit(name, code, OPTIONS)


def byte_form(code: str) -> bool:
    return sources.may_contain_streams(textwrap.dedent(code).encode(), OPTIONS)


SOURCES = {
    "load_weights": "def load_weights(self, weights):\n    pass\n",
    "annotated": "def f(stream: Iterable[tuple[str, torch.Tensor]]):\n    pass\n",
    "Iterator/Tuple/Tensor": "def f(stream: Iterator[Tuple[str, Tensor]]):\n    pass\n",
    "qualified": "def f(s: typing.Iterable[typing.Tuple[builtins.str, torch.Tensor]]):\n    pass\n",
    "aliased torch": "def f(s: Generator[tuple[str, t.Tensor], None, None]):\n    pass\n",
    "string annotation": 'def f(s: "Iterable[tuple[str, torch.Tensor]]"):\n    pass\n',
    "wrapped annotation": (
        "def f(\n    s: Iterable[\n        tuple[ str , torch.Tensor ]\n    ],\n):\n    pass\n"
    ),
    "producer call": "def g(files):\n    return [x for x in safetensors_weights_iterator(files)]\n",
    "producer method": "def g(self, files):\n    it = self.pt_weights_iterator(files)\n",
    "configured producer": "def g(x):\n    return list(my_engine.loader.iterate_shards(x))\n",
    "iterated weights parameter": (
        "def _load(self, weights, strict):\n    for name, w in weights:\n        pass\n"
    ),
    "iterated by a comprehension": "def merge(lora_weights):\n    return {n: w for n, w in lora_weights}\n",
    "torch.load": "def read(path):\n    return torch.load(path)\n",
    "safetensors.torch.load": "def read(path):\n    return safetensors.torch.load(data)\n",
    "imported under its own name": (
        "def read(path):\n    from safetensors.torch import load as read_all\n    return read_all(data)\n"
    ),
    "handle pairs": "def read(f, keys):\n    return build(((k, f.get_tensor(k).float()) for k in keys))\n",
}
NOT_SOURCES = {
    "tensors only": "def f(stream: Iterable[torch.Tensor]):\n    pass\n",
    "tensor-like": "def f(stream: Iterable[tuple[str, TensorLike]]):\n    pass\n",
    "other name": "def load(self, weights):\n    pass\n",
    "list of pairs": "def f(pairs: list[tuple[str, torch.Tensor]]):\n    pass\n",
    "iterator factory": "def g(cfg):\n    return load_weights_iterator_config(cfg)\n",
    "a local list iterated": "def g(self):\n    for name, w in self.model_weights:\n        pass\n",
    "weights annotated as a list": (
        "def g(weights: list[tuple[str, Tensor]]):\n    for n, w in weights:\n        pass\n"
    ),
    "weights iterated one by one": "def g(weights):\n    for w in weights:\n        pass\n",
    "a mapped safetensors file": "def read(path):\n    return safetensors.torch.load_file(path)\n",
    "one tensor per key, no name": "def g(f, keys):\n    return list(f.get_tensor(k) for k in keys)\n",
    "another key's tensor": "def g(f, keys, j):\n    return list((k, f.get_tensor(j)) for k in keys)\n",
}


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_every_form_finds_each_source(name: str) -> None:
    code = SOURCES[name]
    assert (cst_form(code), text_form(code), byte_form(code)) == (True, True, True)


@pytest.mark.parametrize("name", sorted(NOT_SOURCES))
def test_cheaper_forms_are_necessary_conditions(name: str) -> None:
    code = NOT_SOURCES[name]
    assert not cst_form(code)
    assert not text_form(code) or byte_form(code)


def test_each_row_of_the_table_is_covered() -> None:
    kinds = {s.kind for s in sources.SOURCES}
    covered = set()
    for code in SOURCES.values():
        module = cst.parse_module(code)
        func = next(n for n in module.body if isinstance(n, cst.FunctionDef))
        covered.update(streams.source_params(func, is_method=False).values())
    # Producer and eager calls and handle reads have no parameter; the catalogue has seven.
    calls = {sources.Where.CALLEE_SUFFIX, sources.Where.EAGER_CALL, sources.Where.HANDLE_READ}
    assert kinds - covered == {s.kind for s in sources.SOURCES if s.where in calls}


QUALIFIERS = st.sampled_from(["", "typing.", "collections.abc.", "t.", "abc."])
SPACE = st.sampled_from(["", " ", "\n    ", "  "])


@st.composite
def annotations(draw: st.DrawFn) -> str:
    outer = draw(QUALIFIERS) + draw(st.sampled_from(["Iterable", "Iterator", "Generator"]))
    pair = draw(st.sampled_from(["", "typing."])) + draw(st.sampled_from(["tuple", "Tuple"]))
    text = draw(st.sampled_from(["str", "builtins.str"]))
    tensor = draw(st.sampled_from(["", "torch.", "t.", "torch.nn."])) + "Tensor"
    s1, s2, s3, s4 = (draw(SPACE) for _ in range(4))
    extra = ", None, None" if outer.endswith("Generator") and draw(st.booleans()) else ""
    ann = f"{outer}[{s1}{pair}[{s2}{text}{s3},{s4}{tensor}]{extra}]"
    return f'"{ann}"' if draw(st.booleans()) and "\n" not in ann else ann


@settings(max_examples=300, deadline=None)
@given(ann=annotations())
def test_every_annotation_spelling_passes_every_screen(ann: str) -> None:
    code = f"def f(\n    stream: {ann},\n):\n    pass\n"
    assert cst_form(code)
    assert text_form(code)
    assert byte_form(code)


@settings(max_examples=300, deadline=None)
@given(
    ann=annotations(),
    swap=st.sampled_from([("Tensor", "TensorLike"), ("str", "int"), ("uple", "ist"), ("Iter", "Seq")]),
)
def test_near_misses_keep_the_implication(ann: str, swap: tuple[str, str]) -> None:
    code = f"def f(stream: {ann.replace(*swap)}):\n    pass\n"
    if cst_form(code):
        assert text_form(code)
    if text_form(code):
        assert byte_form(code)
