"""The records that cross stage boundaries.

Every stage hands the next one frozen values from this module, never a live CST
node: a position is a (row, column) pair, an edit is a byte-free text replacement
between two positions, and a finding carries everything the reporters and the
rewriter need.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import libcst as cst


@dataclass(frozen=True, order=True)
class Position:
    """1-based row, 1-based column (ruff's JSON convention)."""

    row: int
    column: int


class Applicability(enum.Enum):
    """How far a fix may be trusted (ruff's three levels)."""

    SAFE = "safe"
    UNSAFE = "unsafe"
    DISPLAY_ONLY = "display-only"


class SourceKind(enum.Enum):
    """Why a value is a weight stream."""

    LOAD_WEIGHTS_PARAM = "load_weights parameter"
    ANNOTATED_PARAM = "annotated parameter"
    PRODUCER_CALL = "producer call"
    HELPER_PARAM = "helper parameter"
    ITERATED_PARAM = "weights parameter"
    EAGER_LOAD = "eager load"
    HANDLE_PAIRS = "pairs read from a file handle"


@dataclass(frozen=True)
class Edit:
    location: Position
    end_location: Position
    content: str


@dataclass(frozen=True)
class Fix:
    applicability: Applicability
    message: str
    edits: tuple[Edit, ...]


@dataclass(frozen=True)
class LoopFacts:
    """What a loop-to-generator rewrite makes of a loop that fills containers."""

    # The container whose elements the generator now yields.
    container: str
    # The containers it still fills, complete only once the generator is exhausted.
    sides: tuple[str, ...]
    # What the generator iterates (the loop's iterable, or the stream a
    # `list()` copy of it was made from).
    stream: cst.BaseExpression


@dataclass(frozen=True)
class FixPlan:
    """A rewrite a rule proposes, before its safety is decided (analysis/safety.py).

    The one record that carries syntax nodes: `judged`, the materialized value
    (or the loop) whose uses decide how far the rewrite may be trusted, or None
    for a rewrite that moves work between producer and consumer (never provably
    safe).  The edits are built only once safety allows a fix at all.
    """

    title: str
    edits: Callable[[], tuple[Edit, ...]]
    judged: cst.CSTNode | None = None
    loop: LoopFacts | None = None


@dataclass(frozen=True)
class FlowStep:
    filename: str
    location: Position
    note: str


@dataclass(frozen=True)
class Finding:
    code: str
    name: str
    message: str
    filename: str
    location: Position
    end_location: Position
    fix: Fix | None
    flow: tuple[FlowStep, ...]
    # Why there is no fix or why it is only unsafe; shown in the report.
    fix_reason: str = ""
    # First line of the statement holding the finding (a suppression comment may sit there).
    statement_row: int = 0
    # The function holding the finding, as `Class.method` or `function`.
    scope: str = ""
    # The source text of that statement (of a compound statement, its header up to
    # the body): what the fingerprint reads instead of a line number.
    statement: str = ""


@dataclass(frozen=True)
class Unused:
    """Codes of a `# noqa: ...` directive that silenced nothing (suppress.py)."""

    location: Position  # the comment
    end_location: Position
    codes: tuple[str, ...]  # the stale ones, in the directive's order
    directive: tuple[str, ...]  # every code it names
    line: str  # the code before the comment (what a fingerprint reads)
    removal: Edit  # takes the stale codes (and a directive left empty) out


class ErrorKind(enum.Enum):
    READ = "read error"
    PARSE = "syntax error"
    # Valid Python that libcst or the analysis cannot take (a limit, not a bug).
    LIMIT = "cannot analyse"
    WRITE = "write error"
    INTERNAL = "internal error"


@dataclass(frozen=True)
class FileError:
    filename: str
    kind: ErrorKind
    message: str
    detail: str = ""


@dataclass(frozen=True)
class FileResult:
    """What checking one file produced; checking never raises past this."""

    filename: str
    findings: tuple[Finding, ...] = ()
    error: FileError | None = None
    # Fixed source text when fixes were requested and at least one applied.
    fixed_source: str | None = None
    applied_fixes: int = 0
    # The code of each fix applied (`--show-fixes`).
    fixed_codes: tuple[str, ...] = ()
    # The encoding the file declared, used to write `fixed_source` back.
    encoding: str = "utf-8"
    # Findings suppressed by noqa, for --statistics and tests.
    suppressed: int = 0
    # Other files of the tree whose functions the analysis followed (cache validation).
    deps: tuple[str, ...] = ()


@dataclass(frozen=True)
class AnalysisOptions:
    """The part of the settings the analysis itself reads."""

    # Dotted-name suffixes of calls that produce a weight stream, besides
    # every `*_weights_iterator(...)`.
    stream_producers: tuple[str, ...] = ()
    # Dotted-name suffixes of calls that iterate their argument once, lazily,
    # besides every `*.load_weights(...)`.
    lazy_consumers: tuple[str, ...] = ()
    # What rewritten lines must fit in (ruff's and black's default unless the
    # configuration says otherwise).
    line_length: int = 88
    # Dotted-name suffixes of producers whose tensors are views of a buffer they
    # reuse on the next `next()` (EL010 follows their streams, besides parameters).
    buffer_reusing_loaders: tuple[str, ...] = ()
    # The rules that are off by default and turned on (the engine runs no other:
    # a default run never pays for them, nor fails in them).
    opt_in_rules: frozenset[str] = frozenset()
