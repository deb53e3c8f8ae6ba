"""The one table of weight-stream sources, and the cheap forms derived from it.

A weight stream enters a function in one of three ways, each a row of
`SOURCES`: the first parameter after `self` of a `load_weights`, a parameter
annotated `Iterable[tuple[str, Tensor]]` (any spelling), or the result of a
producer call (`*_weights_iterator(...)`, plus the producers a configuration
names).  Three stages ask about sources at three costs, and all three answers
come from these rows:

* the byte prefilter (`may_contain_streams`): can this file hold a source at all?
* the unit selection (`selects_unit`): can this function's text hold one?
* the CST predicates (`analysis/streams.py`): is this parameter or call one?

Each cheaper form is a necessary condition of the next (a CST source always
passes the text form, a text source always passes the byte form), so a source
added here is never silently skipped by a screen; `tests/test_sources.py`
checks this on a catalogue of spellings.  This module does not import libcst:
the prefilter runs before libcst is ever loaded.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from eagerlint.model import AnalysisOptions, SourceKind


class Where(enum.Enum):
    """Where a source's word appears in the code that holds it."""

    FUNCTION_NAME = "the name of the function whose parameter it is"
    CALLEE_SUFFIX = "the end of the name of the function called"
    ANNOTATION = "a parameter's annotation"
    ITERATION = "the name of a parameter the function iterates as (name, tensor) pairs"
    EAGER_CALL = "a library call that reads a whole checkpoint file (analysis/eager.py)"
    HANDLE_READ = "a generator expression of `(name, handle.get_tensor(name))` pairs"


# `Iterable|Iterator|Generator[tuple[str, torch.Tensor], ...]`: every spelling the CST
# form (streams.is_stream_annotation) accepts, whatever module qualifies each name.
# Written as the text before and after a word every match contains, so that the
# byte form can look only around that word.
_QUALIFIED = r"(?:[A-Za-z_][\w.]*\.)?"
_ANNOTATION_WORD = "uple["
_BEFORE = rf"(?:Iterable|Iterator|Generator)\[\s*{_QUALIFIED}[tT]"
_AFTER = rf"\s*{_QUALIFIED}str\s*,\s*{_QUALIFIED}Tensor\b"
STREAM_ANNOTATION = re.compile(_BEFORE + re.escape(_ANNOTATION_WORD) + _AFTER)


@dataclass(frozen=True)
class Around:
    """A pattern split at a word it always contains: `before` + word + `after`."""

    before: str
    after: str
    # How far before the word the match can start (a qualified `typing.Iterable[`).
    reach: int = 160

    def pattern(self, word: str) -> re.Pattern[str]:
        return re.compile(self.before + re.escape(word) + self.after)

    def search_bytes(self, data: bytes, word: bytes) -> bool:
        after = _compiled(self.after.encode())
        before = _compiled(self.before.encode() + rb"\Z")
        i = data.find(word)
        while i >= 0:
            if after.match(data, i + len(word)) and before.search(data, max(0, i - self.reach), i):
                return True
            i = data.find(word, i + 1)
        return False


_COMPILED: dict[bytes, re.Pattern[bytes]] = {}


def _compiled(pattern: bytes) -> re.Pattern[bytes]:
    found = _COMPILED.get(pattern)
    if found is None:
        found = _COMPILED[pattern] = re.compile(pattern)
    return found


@dataclass(frozen=True)
class StreamSource:
    kind: SourceKind
    where: Where
    # Text every spelling of the source contains (the byte and text screens).
    word: str
    # A finer screen, when the word alone is too common: what must stand around it.
    around: Around | None = None

    @property
    def pattern(self) -> re.Pattern[str] | None:
        return None if self.around is None else self.around.pattern(self.word)


LOAD_WEIGHTS = StreamSource(SourceKind.LOAD_WEIGHTS_PARAM, Where.FUNCTION_NAME, "load_weights")
PRODUCER = StreamSource(SourceKind.PRODUCER_CALL, Where.CALLEE_SUFFIX, "_weights_iterator")
# `model_weights_generator(...)` (tpu-inference's spelling of the same thing).
GENERATOR = StreamSource(SourceKind.PRODUCER_CALL, Where.CALLEE_SUFFIX, "_weights_generator")
ANNOTATED = StreamSource(
    SourceKind.ANNOTATED_PARAM, Where.ANNOTATION, _ANNOTATION_WORD, Around(_BEFORE, _AFTER)
)
# `def _load(self, weights): ... for name, w in weights:` (or a comprehension over
# it) - a parameter named like weights that the function iterates as pairs,
# whatever the function's name.
ITERATED = StreamSource(
    SourceKind.ITERATED_PARAM,
    Where.ITERATION,
    "weights",
    # `for <a, b> in <...weights...>`: a target of two or more names, as the CST form
    # wants (a membership test `if k in weights:` is no iteration).
    Around(
        r"\bfor\b[^:;=]{0,200}?,[^:;=]{0,200}?\bin\s+\(?\w*",
        r"\w*\)?\s*(?::|\]|\)|\}|\bif\b|\bfor\b)",
        reach=420,
    ),
)
# `torch.load(path)`: not a stream, but where a function gets a whole checkpoint
# at once (the table and its lazy spellings: analysis/eager.py).
EAGER_TORCH = StreamSource(SourceKind.EAGER_LOAD, Where.EAGER_CALL, "torch.load")
# `from safetensors.torch import load as read_all` inside the function: the table's
# call under a name of the function's own choosing (the imports decide; the
# screen wants `torch` before it, not `cpp_extension`'s JIT `load`).
EAGER_IMPORTED = StreamSource(
    SourceKind.EAGER_LOAD, Where.EAGER_CALL, "import load", Around(r"torch\s+", r"(?![\w])", reach=40)
)
# `((k, f.get_tensor(k)) for k in keys)`: a stream read from a `safe_open` handle.
# Screened by the pair around it (`(key, handle.get_tensor(`): kernels call CuTe's
# `cute.get_tensor(...)` by the hundred.
HANDLE_PAIRS = StreamSource(
    SourceKind.HANDLE_PAIRS,
    Where.HANDLE_READ,
    "get_tensor",
    Around(r"\(\s*\w+\s*,\s*[\w.]*\.", r"\s*\(", reach=160),
)
SOURCES: tuple[StreamSource, ...] = (
    LOAD_WEIGHTS,
    PRODUCER,
    GENERATOR,
    ANNOTATED,
    ITERATED,
    EAGER_TORCH,
    EAGER_IMPORTED,
    HANDLE_PAIRS,
)
PRODUCER_SUFFIXES = tuple(s.word for s in SOURCES if s.where is Where.CALLEE_SUFFIX)
_PATTERNS = {s.word: s.pattern for s in SOURCES if s.pattern is not None}


@functools.lru_cache(maxsize=8)
def configured(options: AnalysisOptions) -> tuple[StreamSource, ...]:
    """The producers a configuration adds, matched by the last part of their dotted name."""
    return tuple(
        StreamSource(SourceKind.PRODUCER_CALL, Where.CALLEE_SUFFIX, p.rsplit(".", 1)[-1])
        for p in options.stream_producers
    )


def _shared_word(words: Iterable[str]) -> str:
    """The longest text all `words` contain: one scan that rejects most files at once."""
    words = sorted(words, key=len)
    shortest, rest = words[0], words[1:]
    for size in range(len(shortest), 0, -1):
        for start in range(len(shortest) - size + 1):
            part = shortest[start : start + size]
            if all(part in w for w in rest):
                return part
    return ""


# Words screened on their own: they share nothing with the stream words.
_OWN_WORDS = (SourceKind.EAGER_LOAD, SourceKind.HANDLE_PAIRS)
# Every other built-in stream source without a finer screen contains this ("_weights").
_STREAM_WORDS = [s.word for s in SOURCES if s.around is None and s.kind not in _OWN_WORDS]
_PLAIN = tuple(w.encode() for w in _STREAM_WORDS)
_PLAIN_SHARED = _shared_word(_STREAM_WORDS).encode()
_EAGER = tuple(s.word.encode() for s in SOURCES if s.kind in _OWN_WORDS and s.around is None)


def may_contain_streams(data: bytes, options: AnalysisOptions) -> bool:
    """The byte form: whether a file's bytes can hold any source."""
    if (not _PLAIN_SHARED or _PLAIN_SHARED in data) and any(w in data for w in _PLAIN):
        return True
    if any(s.word.encode() in data for s in configured(options)):
        return True
    if any(w in data for w in _EAGER):
        return True
    # A regex over a whole file is slow: look only around each occurrence of the word.
    return any(s.around is not None and s.around.search_bytes(data, s.word.encode()) for s in SOURCES)


def selects_unit(name: str, text: str, options: AnalysisOptions) -> bool:
    """The text form: whether a function (its name and its source text) can hold a source."""
    for source in (*SOURCES, *configured(options)):
        if source.where is Where.FUNCTION_NAME:
            if name == source.word:
                return True
        elif source.around is not None:
            if source.word in text and _PATTERNS[source.word].search(text) is not None:
                return True
        elif source.word in text:
            return True
    return False
