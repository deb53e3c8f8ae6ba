"""The partition-drain rewrite: a helper that splits a stream into lists becomes a
generator of its main part, filling the other parts as it goes.

Before::

    def _split(self, weights):
        main, other = [], []              # (or one initialisation per line)
        for name, w in weights:
            if cond(name):
                main.append((name, w))
            else:
                other.append((name, w))
        return main, other

    main, other = self._split(weights)
    loader.load_weights(main)
    self.load_other(other)

After::

    def _split(self, weights, other):
        for name, w in weights:
            if cond(name):
                yield (name, w)
            else:
                other.append((name, w))

    other = []
    main = self._split(weights, other)
    loader.load_weights(main)
    self.load_other(other)

The *main* part is the output that reaches a lazy consumer first (directly, or
through another helper this rewrite also applies to).  The other outputs
become containers the caller creates and passes in; they are complete only
once the consumer has exhausted the generator, so every use of them must come
after the final consumer: a simple `x.update(side)` statement in between is
moved after it, anything else makes the rewrite unavailable.  The fix is
always *unsafe*: the helper's work now interleaves with the consumer's, and
the side containers are only complete if the consumer runs to exhaustion.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from eagerlint.analysis import streams
from eagerlint.analysis.cst_util import callee_name, last_part, names_in
from eagerlint.analysis.walk import descendants
from eagerlint.model import Edit, FixPlan, Position
from eagerlint.outline import split_lines

if TYPE_CHECKING:
    from eagerlint.analysis.module import ModuleView

EMPTY_CONTAINERS = ("[]", "list()", "set()", "{}", "dict()")
MOVABLE_METHODS = frozenset({"update", "extend", "add", "append"})
_ITERABLE_IMPORT = re.compile(r"from\s+(?:typing|collections\.abc)\s+import\s+(\([^)]*\)|[^\n]*)")

TITLE = "Turn the helper into a generator of its main part (partition drain)"


class Unavailable(Exception):
    """The rewrite does not apply; the message says why (one line)."""


def plan(
    call: cst.Call,
    stack: Sequence[cst.CSTNode],
    helper: cst.FunctionDef,
    view: ModuleView,
    module_text: str,
) -> FixPlan:
    """The whole rewrite, or `Unavailable` with the reason.  No value's uses can
    prove it safe: it moves the helper's work into the consumer's."""
    statement, assign = _call_statement(call, stack)
    block = _block(stack, statement)
    outputs = _outputs(assign)
    main_index, final = _main_output(outputs, block, statement, view)
    helper_parts = _helper_parts(helper, len(outputs))
    if helper_parts.returned[main_index] not in helper_parts.appends:
        raise Unavailable("the main output is not filled by `append` in the helper's loop")
    if len(re.findall(rf"\b{re.escape(helper.name.value)}\s*\(", module_text)) != 2:
        raise Unavailable("the helper has other callers")  # its def line and this call
    sides = [i for i in range(len(outputs)) if i != main_index]
    moves = _movable_uses(block, statement, final, [outputs[i] for i in sides])

    edits: list[Edit] = []
    edits += _helper_edits(helper, helper_parts, main_index, sides, view, module_text)
    edits += _caller_edits(call, statement, assign, outputs, main_index, sides, helper_parts, view)
    edits += _move_edits(moves, block[final], view, split_lines(module_text))
    planned = tuple(edits)
    return FixPlan(TITLE, lambda: planned)


# -- the caller -----------------------------------------------------------------------


def _call_statement(
    call: cst.Call, stack: Sequence[cst.CSTNode]
) -> tuple[cst.SimpleStatementLine, cst.Assign]:
    parent, line = stack[-2], stack[-3]
    if not (
        isinstance(parent, cst.Assign) and parent.value is call and isinstance(line, cst.SimpleStatementLine)
    ):
        raise Unavailable("the helper's result is not unpacked by a plain assignment")
    if len(line.body) != 1 or len(parent.targets) != 1:
        raise Unavailable("the assignment has several targets")
    return line, parent


def _block(stack: Sequence[cst.CSTNode], statement: cst.CSTNode) -> Sequence[cst.CSTNode]:
    owner = stack[list(stack).index(statement) - 1]
    body = getattr(owner, "body", None)
    if not isinstance(body, Sequence) or statement not in body:
        raise Unavailable("the call is not a statement of a block")
    return body


def _outputs(assign: cst.Assign) -> list[str]:
    target = assign.targets[0].target
    if not isinstance(target, cst.Tuple) or not all(isinstance(e.value, cst.Name) for e in target.elements):
        raise Unavailable("the helper's result is not unpacked into names")
    return [e.value.value for e in target.elements]  # type: ignore[attr-defined]


def _first_use(name: str, block: Sequence[cst.CSTNode], start: int) -> tuple[int, cst.Call | None] | None:
    """The first statement after `start` that reads `name`, and the call it is an argument of."""
    for index in range(start + 1, len(block)):
        stmt = block[index]
        if name not in names_in(stmt):
            continue
        for node in descendants(stmt):
            if isinstance(node, cst.Call) and any(
                isinstance(a.value, cst.Name) and a.value.value == name for a in node.args
            ):
                return index, node
        return index, None
    return None


def _main_output(
    outputs: list[str], block: Sequence[cst.CSTNode], statement: cst.CSTNode, view: ModuleView
) -> tuple[int, int]:
    """The output that reaches a lazy consumer first, and the block index of that consumer.

    An output may reach it through another partition helper's call, whose own
    main output is followed in turn.
    """
    start = list(block).index(statement)
    candidates: list[tuple[int, int, int]] = []  # (first use, output, final consumer)
    for i, name in enumerate(outputs):
        use = _first_use(name, block, start)
        if use is None or use[1] is None:
            continue
        index, consumer = use
        assert consumer is not None
        if streams.is_lazy_consumer(consumer, view.options):
            candidates.append((index, i, index))
            continue
        stmt = block[index]
        if (
            isinstance(stmt, cst.SimpleStatementLine)
            and isinstance(stmt.body[0], cst.Assign)
            and stmt.body[0].value is consumer
        ):
            try:
                _, final = _main_output(_outputs(stmt.body[0]), block, stmt, view)
            except Unavailable:
                continue
            candidates.append((index, i, final))
    if not candidates:
        raise Unavailable("no part of the helper's result reaches a lazy consumer")
    _, main, final = min(candidates)
    return main, final


def _movable_uses(
    block: Sequence[cst.CSTNode], statement: cst.CSTNode, final: int, sides: list[str]
) -> list[cst.SimpleStatementLine]:
    """Statements between the call and the final consumer that read a side output."""
    start = list(block).index(statement)
    moves: list[cst.SimpleStatementLine] = []
    for index in range(start + 1, final + 1):
        stmt = block[index]
        read = names_in(stmt) & set(sides)
        if not read:
            continue
        if index == final or not _is_movable(stmt, block[index + 1 : final + 1]):
            raise Unavailable(f"`{sorted(read)[0]}` is used before the consumer has exhausted the stream")
        assert isinstance(stmt, cst.SimpleStatementLine)
        moves.append(stmt)
    return moves


def _is_movable(stmt: cst.CSTNode, later: Sequence[cst.CSTNode]) -> bool:
    """`x.update(side)`: a call on a variable that nothing up to the consumer touches."""
    if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1):
        return False
    expr = stmt.body[0]
    if not (isinstance(expr, cst.Expr) and isinstance(expr.value, cst.Call)):
        return False
    func = expr.value.func
    if not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)):
        return False
    if func.attr.value not in MOVABLE_METHODS:
        return False
    if not all(isinstance(a.value, cst.Name) for a in expr.value.args):
        return False
    receiver = func.value.value
    return not any(receiver in names_in(s) for s in later)


def _caller_edits(
    call: cst.Call,
    statement: cst.SimpleStatementLine,
    assign: cst.Assign,
    outputs: list[str],
    main: int,
    sides: list[int],
    parts: _HelperParts,
    view: ModuleView,
) -> list[Edit]:
    start, _ = view.span(statement)
    indent = " " * (start.column - 1)
    inits = "".join(f"{outputs[i]} = {parts.inits[parts.returned[i]]}\n{indent}" for i in sides)
    target_start, target_end = view.span(assign.targets[0].target)
    extra = ", ".join(outputs[i] for i in sides)
    if call.args:
        _, args_end = view.span(call.args[-1].value)
        append = Edit(args_end, args_end, f", {extra}")
    else:
        _, func_end = view.span(call.func)
        after_paren = Position(func_end.row, func_end.column + 1)
        append = Edit(after_paren, after_paren, extra)
    return [Edit(start, start, inits), Edit(target_start, target_end, outputs[main]), append]


def _move_edits(
    moves: list[cst.SimpleStatementLine], final: cst.CSTNode, view: ModuleView, lines: list[str]
) -> list[Edit]:
    """Each moved statement leaves its lines and reappears after the final consumer."""
    edits: list[Edit] = []
    _, final_end = view.span(final)
    after = Position(final_end.row + 1, 1)
    for stmt in moves:
        start, end = view.span(stmt)
        text = "".join(lines[start.row - 1 : end.row])
        edits.append(Edit(Position(start.row, 1), Position(end.row + 1, 1), ""))
        edits.append(Edit(after, after, text if text.endswith("\n") else text + "\n"))
    return edits


# -- the helper -----------------------------------------------------------------------


@dataclass(frozen=True)
class _HelperParts:
    returned: tuple[str, ...]
    inits: dict[str, str]  # returned name -> its empty initialiser, as written
    init_lines: tuple[cst.SimpleStatementLine, ...]
    loop: cst.For
    appends: dict[str, tuple[cst.Call, ...]]  # returned name -> its append/extend calls
    ret: cst.SimpleStatementLine


def _helper_parts(helper: cst.FunctionDef, arity: int) -> _HelperParts:
    body = list(helper.body.body)
    if not body or not isinstance(body[-1], cst.SimpleStatementLine):
        raise Unavailable("the helper does not end with `return`")
    ret_stmt = body[-1]
    ret = ret_stmt.body[0]
    if not (isinstance(ret, cst.Return) and isinstance(ret.value, cst.Tuple)):
        raise Unavailable("the helper does not return a tuple")
    returned = [e.value.value for e in ret.value.elements if isinstance(e.value, cst.Name)]
    if len(returned) != len(ret.value.elements) or len(returned) != arity:
        raise Unavailable("the helper's return does not match the unpacking")
    loops = [s for s in body if isinstance(s, cst.For)]
    if len(loops) != 1 or body.index(loops[0]) != len(body) - 2:
        raise Unavailable("the helper is not one loop followed by its return")
    loop = loops[0]
    if any(isinstance(n, (cst.Yield, cst.Return)) for n in descendants(loop)):
        raise Unavailable("the helper's loop already yields or returns")
    inits: dict[str, str] = {}
    init_lines: list[cst.SimpleStatementLine] = []
    for stmt in body[:-2]:
        found = _empty_inits(stmt)
        if found and set(found) <= set(returned):
            inits.update(found)
            assert isinstance(stmt, cst.SimpleStatementLine)
            init_lines.append(stmt)
            continue
        if names_in(stmt) & set(returned):
            raise Unavailable("a returned container is touched outside the loop")
    if set(inits) != set(returned):
        raise Unavailable("not every returned value starts as an empty container")
    appends: dict[str, list[cst.Call]] = {name: [] for name in returned}
    for node in descendants(loop):
        if (
            isinstance(node, cst.Call)
            and isinstance(node.func, cst.Attribute)
            and isinstance(node.func.value, cst.Name)
        ):
            owner = node.func.value.value
            if owner in appends:
                appends[owner].append(node)
    return _HelperParts(
        tuple(returned),
        inits,
        tuple(init_lines),
        loop,
        {k: tuple(v) for k, v in appends.items() if v},
        ret_stmt,
    )


def _empty_inits(stmt: cst.CSTNode) -> dict[str, str]:
    """`a = []`, `a: list[int] = []` or `a, b = [], set()`: names and initialisers."""
    if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1):
        return {}
    small = stmt.body[0]
    pairs: list[tuple[cst.BaseExpression, cst.BaseExpression]]
    if isinstance(small, cst.AnnAssign) and small.value is not None:
        pairs = [(small.target, small.value)]
    elif isinstance(small, cst.Assign) and len(small.targets) == 1:
        target, value = small.targets[0].target, small.value
        if (
            isinstance(target, cst.Tuple)
            and isinstance(value, cst.Tuple)
            and len(target.elements) == len(value.elements)
        ):
            pairs = [(t.value, v.value) for t, v in zip(target.elements, value.elements, strict=False)]
        else:
            pairs = [(target, value)]
    else:
        return {}
    found = {t.value: _code(v) for t, v in pairs if isinstance(t, cst.Name) and _code(v) in EMPTY_CONTAINERS}
    return found if len(found) == len(pairs) else {}


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def _helper_edits(
    helper: cst.FunctionDef,
    parts: _HelperParts,
    main: int,
    sides: list[int],
    view: ModuleView,
    module_text: str,
) -> list[Edit]:
    main_name = parts.returned[main]
    edits: list[Edit] = []
    # The main container's uses in the loop must all be append/extend statements.
    for call in parts.appends[main_name]:
        assert isinstance(call.func, cst.Attribute)
        method = call.func.attr.value
        if method not in ("append", "extend") or len(call.args) != 1:
            raise Unavailable(f"`{main_name}.{method}()` cannot become a yield")
        start, end = view.span(call)
        keyword = "yield" if method == "append" else "yield from"
        edits.append(Edit(start, end, f"{keyword} {view.code(call.args[0].value)}"))
    uses = sum(1 for n in descendants(parts.loop) if isinstance(n, cst.Name) and n.value == main_name)
    if uses != len(parts.appends[main_name]):
        raise Unavailable(f"`{main_name}` is read inside the loop")
    # New parameters for the side containers, after the last one.
    p = helper.params
    if p.star_arg not in (cst.MaybeSentinel.DEFAULT, None) or p.kwonly_params or p.star_kwarg is not None:
        raise Unavailable("the helper takes *args, keyword-only or **kwargs parameters")
    params = [*p.posonly_params, *p.params]
    if not params:
        raise Unavailable("the helper has no parameters")
    last = params[-1]
    ends = [view.span(last.name)[1]]
    if last.annotation is not None:
        ends.append(view.span(last.annotation.annotation)[1])
    if last.default is not None:
        ends.append(view.span(last.default)[1])
    types = _side_types(helper, len(parts.returned))
    added = ", ".join(parts.returned[i] + (f": {types[i]}" if types else "") for i in sides)
    edits.append(Edit(max(ends), max(ends), f", {added}"))
    # The return annotation now describes a generator.
    if helper.returns is not None:
        edits.append(_return_annotation(helper, parts, main, view, module_text))
    # The stream parameter now receives a generator, not a list.
    edits.extend(_stream_param_annotation(helper, parts, view, module_text))
    # The containers are now the caller's; the return goes, with the blank
    # lines that separated it from the loop.
    lines = split_lines(module_text)
    for line in (*parts.init_lines, parts.ret):
        start, end = view.span(line)
        first = start.row
        if line is parts.ret:
            while first > 1 and not lines[first - 2].strip():
                first -= 1
        edits.append(Edit(Position(first, 1), Position(end.row + 1, 1), ""))
    return edits


def _stream_param_annotation(
    helper: cst.FunctionDef, parts: _HelperParts, view: ModuleView, module_text: str
) -> list[Edit]:
    loop_iter = parts.loop.iter
    for param in streams.all_params(helper):
        if not (isinstance(loop_iter, cst.Name) and param.name.value == loop_iter.value and param.annotation):
            continue
        text = _code(param.annotation.annotation)
        inner = re.fullmatch(r"\s*(?:list|List|Sequence|tuple|Tuple)\[(.*)\]\s*", text, re.S)
        if inner is None:
            return []
        start, end = view.span(param.annotation.annotation)
        if _imports_iterable(module_text):
            return [Edit(start, end, f"Iterable[{inner.group(1)}]")]
        _, name_end = view.span(param.name)
        return [Edit(name_end, end, "")]
    return []


def _side_types(helper: cst.FunctionDef, arity: int) -> list[str] | None:
    """The declared types of the returned parts, when the annotation has one per part."""
    if helper.returns is None:
        return None
    ann = helper.returns.annotation
    if not (
        isinstance(ann, cst.Subscript)
        and last_part(callee_name(cst.Call(func=ann.value))) in ("tuple", "Tuple")
    ):
        return None
    parts = [el.slice.value for el in ann.slice if isinstance(el.slice, cst.Index)]
    if len(parts) != arity:
        return None
    return [_code(p) for p in parts]


def _element_type(helper: cst.FunctionDef, parts: _HelperParts, main: int) -> str | None:
    types = _side_types(helper, len(parts.returned))
    candidates = [types[main]] if types else []
    loop_iter = parts.loop.iter
    candidates.extend(
        _code(param.annotation.annotation)
        for param in streams.all_params(helper)
        if isinstance(loop_iter, cst.Name) and param.name.value == loop_iter.value and param.annotation
    )
    for text in candidates:
        inner = re.fullmatch(r"\s*(?:list|List|Iterable|Iterator|Sequence)\[(.*)\]\s*", text, re.S)
        if inner:
            return inner.group(1)
    return None


def _return_annotation(
    helper: cst.FunctionDef, parts: _HelperParts, main: int, view: ModuleView, module_text: str
) -> Edit:
    assert helper.returns is not None
    start, end = view.span(helper.returns.annotation)
    element = _element_type(helper, parts, main)
    if element is not None and _imports_iterable(module_text):
        return Edit(start, end, f"Iterable[{element}]")
    # No type to offer: drop `-> ...` rather than keep a wrong one.
    line = split_lines(module_text)[start.row - 1]
    arrow = line.rfind("->", 0, start.column - 1)
    if arrow < 0:
        raise Unavailable("cannot find the helper's return annotation")
    while arrow > 0 and line[arrow - 1] in " \t":
        arrow -= 1
    return Edit(Position(start.row, arrow + 1), end, "")


def _imports_iterable(text: str) -> bool:
    return any(re.search(r"\bIterable\b", m.group(1)) for m in _ITERABLE_IMPORT.finditer(text))
