"""Turn a loop that fills a list into a generator of that list's elements.

Before::

    filtered = []
    for name, w in weights:
        if name.startswith("vae."):
            continue
        filtered.append((name, w))
    loader = AutoWeightsLoader(self)
    return loader.load_weights(filtered)

After::

    def filtered() -> Iterable[tuple[str, torch.Tensor]]:
        for name, w in weights:
            if name.startswith("vae."):
                continue
            yield (name, w)

    loader = AutoWeightsLoader(self)
    return loader.load_weights(filtered())

With several containers (the inline partition), the one that reaches a lazy
consumer becomes the generator and the others are still filled as it runs:
they are complete only once the consumer has exhausted it, so such a rewrite is
at most unsafe (analysis/safety.py decides).  A `name = list(stream)` whose one
use is the loop goes with it, and the generator iterates the stream itself.

The rewrite applies only when the loop's shape allows it; otherwise
`Unavailable` says why: the container is a dict or set (a generator would not
de-duplicate), it is read other than by `append`/`extend` in the loop, names
the loop binds are used outside it, the loop returns, yields or rebinds outer
names, or the re-indented loop would pass the file's line length.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from eagerlint.analysis import streams
from eagerlint.analysis.cst_util import names_in, target_names
from eagerlint.analysis.materialize import Materialization, loader_bound
from eagerlint.analysis.uses import COMPREHENSIONS, comprehension_targets, uses_after
from eagerlint.analysis.walk import children, descendants, runs_with
from eagerlint.model import Edit, FixPlan, LoopFacts, Position
from eagerlint.outline import split_lines

if TYPE_CHECKING:
    from eagerlint.analysis.module import ModuleView

LIST_INITS = ("[]", "list()")
OTHER_INITS = {"{}": "dict", "dict()": "dict", "set()": "set"}
APPENDS = {"append": "yield", "extend": "yield from"}
_ITERABLE_IMPORT = re.compile(r"from\s+(?:typing|collections\.abc)\s+import\s+(\([^)]*\)|[^\n]*)")


class Unavailable(Exception):
    """The rewrite does not apply; the message says why (one line)."""


def title(container: str, sides: Sequence[str]) -> str:
    if sides:
        kept = ", ".join(f"`{s}`" for s in sides)
        return f"Turn the loop into a generator `{container}()`, still filling {kept} as it runs"
    return f"Turn the loop into a generator `{container}()` that yields what it appended"


def plan(found: Materialization, view: ModuleView) -> FixPlan:
    """The rewrite for a keeping loop, or `Unavailable` with the reason."""
    loop = found.node
    assert isinstance(loop, cst.For) and found.drain is not None
    stack = found.event.stack
    block, index = _block(stack, loop)
    before = block[:index]
    inits = {c: _init(before, c) for c in found.drain.containers}
    missing = [c for c, init in inits.items() if init is None]
    if missing and missing[0] in ("self", "cls"):
        raise Unavailable(f"the loop keeps the elements in attributes of `{missing[0]}`")
    if missing:
        raise Unavailable(f"`{missing[0]}` is not created empty before the loop, in the same block")
    main, sides = _main(found.drain.containers, loop, stack, view)
    main_init = inits[main]
    assert main_init is not None
    if main_init.kind != "list":
        raise Unavailable(
            f"`{main}` is a {main_init.kind}: it keeps one entry per key, which a generator would not"
        )
    appends = _appends(loop, main)
    _check_loop(loop, main, sides, stack, view)
    use = uses_after(main, loop, stack)[0]
    stream = found.copy.source if found.copy is not None else loop.iter
    lines = split_lines(view.text)
    removed = {view.span(main_init.statement)[0].row} if not main_init.others else set()
    if found.copy is not None:
        removed.add(view.span(found.copy.statement)[0].row)
    region, imported = _generator_text(loop, main, appends, found, view, lines, removed, main_init)
    edits = [
        *imported.edits,
        *_remove_init(main_init, view, lines),
        *(_remove(found.copy.statement, view, lines) if found.copy is not None else ()),
        Edit(Position(view.span(loop)[0].row, 1), Position(view.span(loop)[1].row + 1, 1), region),
        Edit(*view.span(use.node), f"{main}()"),
    ]
    facts = LoopFacts(main, tuple(sides), stream)
    frozen = tuple(edits)
    named = title(main, sides) + _import_words(imported.added, imported.dropped)
    return FixPlan(named, lambda: frozen, loop, facts)


# -- the shape of the loop -------------------------------------------------------------


def _block(stack: Sequence[cst.CSTNode], loop: cst.For) -> tuple[Sequence[cst.CSTNode], int]:
    parent = stack[-2]
    body = getattr(parent, "body", None)
    if not isinstance(body, Sequence) or loop not in body:
        raise Unavailable("the loop is not a statement of a block")
    return body, list(body).index(loop)


@dataclass(frozen=True)
class _Init:
    """Where a container is created empty: `x = []`, `x: T = []`, or `a, b = [], {}`."""

    statement: cst.SimpleStatementLine
    value: str  # the empty initialiser, as written
    annotation: cst.BaseExpression | None
    # The other (name, initialiser) pairs of a tuple assignment.
    others: tuple[tuple[str, str], ...] = ()

    @property
    def kind(self) -> str:
        return OTHER_INITS.get(self.value, "list")


def _init(before: Sequence[cst.CSTNode], name: str) -> _Init | None:
    """The last creation of `name` as an empty container before the loop."""
    for stmt in reversed(before):
        if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
            pairs = _pairs(stmt.body[0])
            if pairs is not None and name in dict(pairs):
                value = dict(pairs)[name]
                if value not in (*LIST_INITS, *OTHER_INITS):
                    return None
                small = stmt.body[0]
                annotation = small.annotation.annotation if isinstance(small, cst.AnnAssign) else None
                others = tuple(p for p in pairs if p[0] != name)
                return _Init(stmt, value, annotation, others)
        if name in names_in(stmt):
            return None  # touched between its creation and the loop
    return None


def _pairs(small: cst.BaseSmallStatement) -> list[tuple[str, str]] | None:
    """(name, value) of `a = v`, `a: T = v` and `a, b = v, w` (names only)."""
    if isinstance(small, cst.AnnAssign) and small.value is not None and isinstance(small.target, cst.Name):
        return [(small.target.value, _code(small.value))]
    if not (isinstance(small, cst.Assign) and len(small.targets) == 1):
        return None
    target, value = small.targets[0].target, small.value
    if isinstance(target, cst.Name):
        return [(target.value, _code(value))]
    if (
        isinstance(target, cst.Tuple)
        and isinstance(value, cst.Tuple)
        and len(target.elements) == len(value.elements)
    ):
        names = [e.value for e in target.elements]
        if all(isinstance(n, cst.Name) for n in names):
            return [(n.value, _code(v.value)) for n, v in zip(names, value.elements, strict=True)]  # type: ignore[attr-defined]
    return None


def _main(
    containers: Sequence[str], loop: cst.For, stack: Sequence[cst.CSTNode], view: ModuleView
) -> tuple[str, list[str]]:
    """The container whose elements go to a loader, and the others (which must not:
    they stay buffered until the generator is exhausted, so they must be small)."""
    for name in containers:
        if not uses_after(name, loop, stack):
            raise Unavailable(f"`{name}` is not used after the loop")
    if len(containers) == 1:
        return containers[0], []
    loaders = [c for c in containers if loader_bound(c, loop, stack, view)]
    if not loaders:
        raise Unavailable("no part the loop fills is handed to a `load_weights()`")
    if len(loaders) > 1:
        raise Unavailable(f"`{loaders[0]}` and `{loaders[1]}` both go to loaders: each part is large")
    main = loaders[0]
    return main, [c for c in containers if c != main]


def _appends(loop: cst.For, main: str) -> list[cst.Call]:
    """`main.append(x)` / `main.extend(x)` statements: every read of `main` in the loop."""
    calls: list[cst.Call] = []
    statements = {
        id(s.value) for s in descendants(loop) if isinstance(s, cst.Expr) and isinstance(s.value, cst.Call)
    }
    reads = [n for n in descendants(loop) if isinstance(n, cst.Name) and n.value == main]
    for node in descendants(loop):
        if (
            isinstance(node, cst.Call)
            and isinstance(node.func, cst.Attribute)
            and isinstance(node.func.value, cst.Name)
            and node.func.value.value == main
        ):
            if node.func.attr.value not in APPENDS or len(node.args) != 1 or id(node) not in statements:
                raise Unavailable(f"`{main}.{node.func.attr.value}()` in the loop cannot become a yield")
            calls.append(node)
    if len(calls) != len(reads):
        raise Unavailable(f"`{main}` is read inside the loop")
    return calls


def _check_loop(
    loop: cst.For, main: str, sides: Sequence[str], stack: Sequence[cst.CSTNode], view: ModuleView
) -> None:
    for node in runs_with(loop):
        if isinstance(node, (cst.Return, cst.Yield, cst.Await)):
            raise Unavailable("the loop returns or yields itself")
        if isinstance(node, (cst.Global, cst.Nonlocal)):
            raise Unavailable("the loop declares `global`/`nonlocal` names")
    function = next(n for n in reversed(stack) if isinstance(n, cst.FunctionDef))
    bound = _bound_in(loop)
    before = _names_before(function, loop)
    after = {name for name in bound if uses_after(name, loop, stack)}
    shared = sorted(bound & (before | after))
    if shared:
        raise Unavailable(f"`{shared[0]}`, which the loop assigns, is also used outside it")
    for string in descendants(loop):
        if isinstance(string, (cst.SimpleString, cst.FormattedString)) and "\n" in view.code(string):
            raise Unavailable("the loop holds a string that spans lines")
    use = uses_after(main, loop, stack)
    if len(use) != 1:
        raise Unavailable(f"`{main}` is used {len(use)} times after the loop")
    consumer_row = view.position(use[0].node).row
    for side in sides:
        for side_use in uses_after(side, loop, stack):
            if view.position(side_use.node).row <= consumer_row:
                raise Unavailable(f"`{side}` is used before the consumer has exhausted the generator")


def _bound_in(loop: cst.For) -> set[str]:
    bound = set(target_names(loop.target))
    for node in runs_with(loop.body):
        if isinstance(node, (cst.AssignTarget, cst.AnnAssign, cst.AugAssign, cst.For, cst.NamedExpr)):
            bound.update(target_names(node.target))
        elif isinstance(node, cst.WithItem) and node.asname is not None:
            bound.update(target_names(node.asname.name))
        elif isinstance(node, cst.ExceptHandler) and node.name is not None:
            bound.update(target_names(node.name.name))
    return bound


def _names_before(function: cst.FunctionDef, loop: cst.For) -> set[str]:
    """Variables the function reads or binds before the loop, in source order (a
    nested function's own parameters and locals are its own)."""
    found: set[str] = set()
    todo: list[cst.CSTNode] = [function.body]
    while todo:
        node = todo.pop()
        if node is loop:
            break
        if isinstance(node, (cst.FunctionDef, cst.Lambda)):
            found |= _free_names(node)
            if isinstance(node, cst.FunctionDef):
                found.add(node.name.value)
        elif isinstance(node, COMPREHENSIONS):
            found |= names_in(node) - comprehension_targets(node)
        elif isinstance(node, cst.Name):
            found.add(node.value)
        elif isinstance(node, cst.Attribute):
            todo.append(node.value)
        else:
            todo.extend(reversed(children(node)))
    return found


def _free_names(scope: cst.FunctionDef | cst.Lambda) -> set[str]:
    """The names a nested function or lambda reads from around it."""
    own = {p.name.value for p in streams.all_params(scope)} if isinstance(scope, cst.FunctionDef) else set()
    if isinstance(scope, cst.Lambda):
        params = scope.params
        own = {p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)}
    body = scope.body
    for node in descendants(body):
        if isinstance(node, (cst.AssignTarget, cst.AnnAssign, cst.AugAssign, cst.For)):
            own.update(target_names(node.target))
    return names_in(body) - own


# -- the text --------------------------------------------------------------------------


def _generator_text(
    loop: cst.For,
    main: str,
    appends: Sequence[cst.Call],
    found: Materialization,
    view: ModuleView,
    lines: Sequence[str],
    removed: set[int],
    init: _Init,
) -> tuple[str, _Imports]:
    """The `def` that replaces the loop's lines, with the blank lines a formatter
    puts around a nested function, and the edits to the module's imports that its
    annotation needs."""
    start, end = view.span(loop)
    first, last = start.row, end.row
    region = lines[first - 1 : last]
    offsets = [0]
    for line in region:
        offsets.append(offsets[-1] + len(line))
    text = "".join(region)
    replacements: list[tuple[int, int, str]] = []
    for call in appends:
        s, e = view.span(call)
        assert isinstance(call.func, cst.Attribute)
        keyword = APPENDS[call.func.attr.value]
        new = f"{keyword} {view.code(call.args[0].value)}"
        replacements.append((_at(offsets, first, s), _at(offsets, first, e), new))
    if found.copy is not None:
        s, e = view.span(loop.iter)
        replacements.append((_at(offsets, first, s), _at(offsets, first, e), view.code(found.copy.source)))
    for a, b, new in sorted(replacements, reverse=True):
        text = text[:a] + new + text[b:]
    indent = " " * (start.column - 1)
    unit = _indent_unit(loop, view, lines) or "    "
    body = "".join(unit + line if line.strip() else line for line in split_lines(text))
    limit = view.options.line_length
    for new, old in zip(split_lines(body), [*region, *([""] * 100)], strict=False):
        width = len(new.rstrip("\r\n"))
        # A line already past the limit is the formatter's to keep (a long string
        # or comment); one the indentation pushes past it would be reformatted.
        if width > limit >= len(old.rstrip("\r\n")):
            raise Unavailable(f"as a generator, the loop would pass the line length ({limit})")
    ending = "\r\n" if region[0].endswith("\r\n") else "\n"
    annotation, imported = _return_annotation(found, init, view, lines)
    header = f"{indent}def {main}(){annotation}:{ending}"
    if len(header.rstrip()) > limit:
        _, imported = _return_annotation(found, init, view, lines, annotate=False)
        header = f"{indent}def {main}():{ending}"
    above = next((lines[r - 1] for r in range(first - 1, 0, -1) if r not in removed), "")
    before = ending if above.strip() and not above.rstrip().endswith(":") else ""
    below = lines[last] if last < len(lines) else ""
    after = ending if below.strip() and _indent_of(below) >= len(indent) else ""
    return before + header + body + after, imported


def _indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _at(offsets: Sequence[int], first_row: int, pos: Position) -> int:
    return offsets[pos.row - first_row] + pos.column - 1


def _indent_unit(loop: cst.For, view: ModuleView, lines: Sequence[str]) -> str:
    """The indentation the loop's body adds to the loop's own (four spaces, a tab)."""
    body = loop.body
    if not isinstance(body, cst.IndentedBlock) or not body.body:
        return ""
    outer = view.span(loop)[0].column - 1
    inner = view.span(body.body[0])[0]
    line = lines[inner.row - 1]
    return line[outer : inner.column - 1]


def _return_annotation(
    found: Materialization, init: _Init, view: ModuleView, lines: Sequence[str], *, annotate: bool = True
) -> tuple[str, _Imports]:
    """`-> Iterable[T]` when `T` is known and `Iterable` is imported or can be, and
    the edits to the module's imports: `Iterable` added, and `List` taken out when
    the container's `List[T]` was its last use (else ruff's F401 would follow)."""
    element = _element_type(found, init) if annotate else None
    imported = any(re.search(r"\bIterable\b", m.group(1)) for m in _ITERABLE_IMPORT.finditer(view.text))
    imports = _one_line_imports(lines)
    unused = _last_use_of_list(init, view, lines, imports)
    limit = view.options.line_length
    if element and not imported:
        edits = _import_edits(lines, imports, limit, add_iterable=True, unused=unused)
        if edits is not None:
            return f" -> Iterable[{element}]", edits
        element = None
    edits = _import_edits(lines, imports, limit, add_iterable=False, unused=unused) or _Imports()
    return (f" -> Iterable[{element}]" if element else ""), edits


def _one_line_imports(lines: Sequence[str]) -> dict[int, re.Match[str]]:
    """The module's one-line `from typing import ...` and `from collections.abc
    import ...` statements, by row."""
    found: dict[int, re.Match[str]] = {}
    for row, line in enumerate(lines, 1):
        if line.startswith("from ") and (m := _FROM_IMPORT.fullmatch(line.rstrip("\r\n"))) is not None:
            found[row] = m
    return found


def _last_use_of_list(
    init: _Init, view: ModuleView, lines: Sequence[str], imports: dict[int, re.Match[str]]
) -> str | None:
    """`List` when the container's annotation `List[T]` is the module's only use of
    the name besides its import (a string or comment naming it counts as a use)."""
    if init.annotation is None or not re.match(r"\s*List\s*\[", _code(init.annotation)):
        return None
    start, end = view.span(init.statement)
    for row, line in enumerate(lines, 1):
        if not start.row <= row <= end.row and row not in imports and re.search(r"\bList\b", line):
            return None
    return "List"


@dataclass(frozen=True)
class _Imports:
    """Edits to the module's imports, and whether they add `Iterable` and drop `List`."""

    edits: tuple[Edit, ...] = ()
    added: bool = False
    dropped: bool = False


_FROM_IMPORT = re.compile(
    r"from[ \t]+(?P<module>typing|collections\.abc)[ \t]+import[ \t]+(?P<names>[\w \t,]*\w)[ \t]*(?:#.*)?"
)


def _import_edits(
    lines: Sequence[str],
    imports: dict[int, re.Match[str]],
    limit: int,
    *,
    add_iterable: bool,
    unused: str | None,
) -> _Imports | None:
    """The edits to the module's first one-line `from collections.abc import ...`
    and `from typing import ...` (`imports`) that add `Iterable` (to the first, else
    the second, where isort puts it: constants, classes, functions, each
    alphabetically) and take `unused` out of `typing`'s; None when `Iterable` cannot
    be added."""
    first: dict[str, int] = {}  # module -> the row of its first one-line import
    for row, m in imports.items():
        first.setdefault(m["module"], row)
    changed: dict[int, list[str]] = {}
    names_of = {row: [n.strip() for n in imports[row]["names"].split(",")] for row in first.values()}
    dropped = False
    if unused is not None and "typing" in first:
        row = first["typing"]
        if unused in names_of[row]:
            changed[row], dropped = [n for n in names_of[row] if n != unused], True
    if add_iterable:
        row = first.get("collections.abc") or first.get("typing") or 0
        if row == 0 or not all(names_of[row]):
            return None
        names = changed.get(row, names_of[row])
        at = next((i for i, n in enumerate(names) if _isort_key(n) > _isort_key("Iterable")), len(names))
        changed[row] = [*names[:at], "Iterable", *names[at:]]
    edits: list[Edit] = []
    for row, names in sorted(changed.items()):
        m = imports[row]
        if not names:
            edits.append(Edit(Position(row, 1), Position(row + 1, 1), ""))
            continue
        text = ", ".join(names)
        if len(lines[row - 1].rstrip("\r\n")) - len(m["names"]) + len(text) > limit:
            return None if add_iterable else _Imports()
        edits.append(Edit(Position(row, m.start("names") + 1), Position(row, m.end("names") + 1), text))
    return _Imports(tuple(edits), add_iterable, dropped)


def _import_words(added: bool, dropped: bool) -> str:
    """What the import edits do, for the fix's title."""
    if added and dropped:
        return " (importing `Iterable` for it in place of `List`)"
    if added:
        return " (importing `Iterable` for it)"
    return " (`List` is no longer imported)" if dropped else ""


def _isort_key(name: str) -> tuple[int, str]:
    bare = name.split()[0]
    return (0 if bare.isupper() and len(bare) > 1 else 1 if bare[0].isupper() else 2), bare.lower()


def _element_type(found: Materialization, init: _Init) -> str | None:
    # The container's own annotation: `x: list[T] = []`.
    if init.annotation is not None:
        inner = re.fullmatch(r"\s*(?:list|List)\[(.*)\]\s*", _code(init.annotation), re.S)
        if inner:
            return inner.group(1)
    # The stream's element type, when each element is appended as it came.
    steps = found.event.value.steps
    param = steps[0].node if steps else None
    if isinstance(param, cst.Param) and param.annotation is not None:
        text = _code(param.annotation.annotation)
        inner = re.fullmatch(r"\s*(?:[\w.]*\.)?(?:Iterable|Iterator)\[(.*)\]\s*", text, re.S)
        if inner and _appends_elements_as_they_come(found):
            return inner.group(1)
    return None


def _appends_elements_as_they_come(found: Materialization) -> bool:
    """Every append hands on `(name, tensor)` in the loop target's shape."""
    loop = found.node
    assert isinstance(loop, cst.For)
    target = list(target_names(loop.target))
    for node in descendants(loop.body):
        if (
            isinstance(node, cst.Call)
            and isinstance(node.func, cst.Attribute)
            and node.func.attr.value == "append"
        ):
            arg = node.args[0].value if node.args else None
            if not (isinstance(arg, cst.Tuple) and len(arg.elements) == len(target)):
                return False
            if not all(isinstance(el.value, cst.Name) for el in arg.elements):
                return False
    return bool(target)


def _remove_init(init: _Init, view: ModuleView, lines: Sequence[str]) -> tuple[Edit, ...]:
    """The container's creation goes; the others of a tuple assignment stay."""
    if not init.others:
        return _remove(init.statement, view, lines)
    small = init.statement.body[0]
    names = ", ".join(n for n, _ in init.others)
    values = ", ".join(v for _, v in init.others)
    return (Edit(*view.span(small), f"{names} = {values}"),)


def _remove(stmt: cst.SimpleStatementLine, view: ModuleView, lines: Sequence[str]) -> tuple[Edit, ...]:
    """The statement's whole lines, or, when it carries a comment, all but the comment."""
    start, end = view.span(stmt)
    comment = stmt.trailing_whitespace.comment
    if comment is not None:
        comment_start, _ = view.span(comment)
        return (Edit(start, comment_start, ""),)
    return (Edit(Position(start.row, 1), Position(end.row + 1, 1), ""),)


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)
