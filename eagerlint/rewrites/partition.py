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
from eagerlint.analysis.cst_util import callee_name, last_part, names_in, target_names
from eagerlint.analysis.walk import descendants, every_node
from eagerlint.edits import text_between
from eagerlint.model import Edit, FixPlan, Position
from eagerlint.outline import split_lines
from eagerlint.rewrites import layout

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
        raise Unavailable(
            "the helper's call is not the value of a plain assignment (`parts = helper(weights)`)"
        )
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
    """The side containers created before the call, and the call written again
    with them as extra arguments and only the main output as its target."""
    start, _ = view.span(statement)
    indent = " " * (start.column - 1)
    newline = "\r\n" if view.text.count("\r\n") > view.text.count("\n") // 2 else "\n"
    inits = "".join(
        f"{outputs[i]}{_annotated(parts.types.get(parts.returned[i]))} = {parts.inits[parts.returned[i]]}"
        f"{newline}{indent}"
        for i in sides
    )
    extra = [outputs[i] for i in sides]
    if any(isinstance(n, cst.Comment) for n in every_node(assign)):
        # Comments inside the statement would be lost if it were written again.
        return [Edit(start, start, inits), *_append_arguments(call, assign, outputs[main], extra, view)]
    args = [_argument(a) for a in call.args] + extra
    magic = bool(call.args) and isinstance(call.args[-1].comma, cst.Comma)
    head = f"{outputs[main]} = {view.code(call.func)}"
    unit = _unit(view, statement)
    text = layout.bracketed(
        indent, unit, head, args, "", view.options.line_length, magic=magic, newline=newline
    )
    a_start, a_end = view.span(assign)
    return [Edit(start, start, inits), Edit(a_start, a_end, text[len(indent) :])]


def _append_arguments(
    call: cst.Call, assign: cst.Assign, target: str, extra: list[str], view: ModuleView
) -> list[Edit]:
    target_start, target_end = view.span(assign.targets[0].target)
    joined = ", ".join(extra)
    if call.args:
        _, args_end = view.span(call.args[-1].value)
        append = Edit(args_end, args_end, f", {joined}")
    else:
        _, func_end = view.span(call.func)
        after_paren = Position(func_end.row, func_end.column + 1)
        append = Edit(after_paren, after_paren, joined)
    return [Edit(target_start, target_end, target), append]


def _argument(arg: cst.Arg) -> str:
    value = _code(arg.value)
    if arg.keyword is not None:
        return f"{arg.keyword.value}={value}"
    return f"{arg.star}{value}"


def _annotated(type_text: str | None) -> str:
    return f": {type_text}" if type_text else ""


def _unit(view: ModuleView, statement: cst.CSTNode) -> str:
    """The module's indentation step, judged from the statement's function body."""
    match = re.search(r"^( +|\t)\S", view.text, re.M)
    return match.group(1) if match else "    "


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
    # returned name -> its type, as the helper says or as its appends show
    types: dict[str, str]


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
    filled = {k: tuple(v) for k, v in appends.items() if v}
    types = _types(helper, returned, init_lines, inits, loop, filled)
    return _HelperParts(tuple(returned), inits, tuple(init_lines), loop, filled, ret_stmt, types)


def _types(
    helper: cst.FunctionDef,
    returned: list[str],
    init_lines: list[cst.SimpleStatementLine],
    inits: dict[str, str],
    loop: cst.For,
    appends: dict[str, tuple[cst.Call, ...]],
) -> dict[str, str]:
    """Each returned container's type: the helper's return annotation when it has
    one part per container, else the container's own annotation, else what the
    loop puts in it (the stream's elements, or their names), else its kind."""
    declared = _side_types(helper, len(returned))
    if declared is not None:
        return dict(zip(returned, declared, strict=True))
    own: dict[str, str] = {}
    for stmt in init_lines:
        small = stmt.body[0]
        if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
            own[small.target.value] = _code(small.annotation.annotation)
    element = _stream_element(helper, loop)
    target = list(target_names(loop.target))
    out: dict[str, str] = {}
    for name in returned:
        kind = {"[]": "list", "list()": "list", "set()": "set", "{}": "dict", "dict()": "dict"}[inits[name]]
        if name in own:
            out[name] = own[name]
            continue
        shown = {_shown(call, target) for call in appends.get(name, ())}
        if kind == "list" and element is not None and shown == {"element"}:
            out[name] = f"list[{element}]"
        elif kind == "set" and shown == {"name"} and element is not None and element.startswith("tuple[str"):
            out[name] = "set[str]"
        else:
            out[name] = kind
    return out


_CONTAINER_OF = r"\s*(?:[\w.]*\.)?(?:Iterable|Iterator|list|List|Sequence)\[(.*)\]\s*"


def _stream_element(helper: cst.FunctionDef, loop: cst.For) -> str | None:
    """`T` of the `Iterable[T]`/`list[T]` annotation of the parameter the loop reads."""
    for param in streams.all_params(helper):
        if isinstance(loop.iter, cst.Name) and param.name.value == loop.iter.value and param.annotation:
            text = _code(param.annotation.annotation)
            inner = re.fullmatch(
                r"\s*(?:[\w.]*\.)?(?:Iterable|Iterator|list|List|Sequence)\[(.*)\]\s*", text, re.S
            )
            return inner.group(1) if inner else None
    return None


def _shown(call: cst.Call, target: list[str]) -> str:
    """What an append hands the container: "element" (the loop's `(name, tensor)`
    in its shape), "name" (the first of them), or "other"."""
    arg = call.args[0].value if len(call.args) == 1 else None
    if isinstance(arg, cst.Tuple) and len(arg.elements) == len(target) >= 2:
        if all(isinstance(e.value, cst.Name) for e in arg.elements):
            return "element"
    if isinstance(arg, cst.Name) and target and arg.value == target[0]:
        return "name"
    return "other"


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
    edits.append(_header(helper, parts, main, sides, view, module_text))
    # The containers are now the caller's; the return goes, with the blank
    # lines that separated it from the loop, and the initialisers with the
    # blank line that separated them from the docstring's loop.
    lines = split_lines(module_text)
    for line in (*parts.init_lines, parts.ret):
        start, end = view.span(line)
        first, last = start.row, end.row
        if line is parts.ret:
            while first > 1 and not lines[first - 2].strip():
                first -= 1
        elif line is parts.init_lines[-1] and _opens_body(helper, parts, view) and not lines[last].strip():
            last += 1
        edits.append(Edit(Position(first, 1), Position(last + 1, 1), ""))
    return edits


def _opens_body(helper: cst.FunctionDef, parts: _HelperParts, view: ModuleView) -> bool:
    """Whether the initialisers are the first statements after the docstring (or the
    `def`): removing them must not leave a blank line there."""
    body = list(helper.body.body)
    first_init = body.index(parts.init_lines[0])
    before = body[:first_init]
    rows = [view.span(s)[0].row for s in parts.init_lines]
    contiguous = rows == list(range(rows[0], rows[0] + len(rows)))
    docstring_only = len(before) == 0 or (
        len(before) == 1
        and isinstance(before[0], cst.SimpleStatementLine)
        and isinstance(before[0].body[0], cst.Expr)
        and isinstance(before[0].body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )
    return contiguous and docstring_only


def _header(
    helper: cst.FunctionDef,
    parts: _HelperParts,
    main: int,
    sides: list[int],
    view: ModuleView,
    module_text: str,
) -> Edit:
    """The `def` line(s) written again: the side containers as new, annotated
    parameters, the stream parameter and the return annotated for a generator."""
    p = helper.params
    if p.star_arg not in (cst.MaybeSentinel.DEFAULT, None) or p.kwonly_params or p.star_kwarg is not None:
        raise Unavailable("the helper takes *args, keyword-only or **kwargs parameters")
    if p.posonly_params:
        raise Unavailable("the helper takes positional-only parameters")
    params = list(p.params)
    if not params:
        raise Unavailable("the helper has no parameters")
    items = [_param(param, _stream_annotation(param, parts, module_text)) for param in params]
    items += [f"{parts.returned[i]}{_annotated(parts.types.get(parts.returned[i]))}" for i in sides]
    returns = _return_text(helper, parts, main, module_text)
    lines = split_lines(module_text)
    name_pos = view.span(helper.name)[0]
    line = lines[name_pos.row - 1]
    keyword = line.rfind("async def", 0, name_pos.column - 1)
    keyword = keyword if keyword >= 0 else line.rfind("def", 0, name_pos.column - 1)
    start = Position(name_pos.row, keyword + 1)
    end = _after_colon(helper, view, lines)
    header = text_between(lines, start, end)
    if "#" in header:
        raise Unavailable("the helper's signature holds a comment")
    indent = line[:keyword]
    head = line[keyword : name_pos.column - 1] + helper.name.value
    magic = isinstance(params[-1].comma, cst.Comma) and not sides
    tail = f" -> {returns}:" if returns else ":"
    newline = "\r\n" if line.endswith("\r\n") else "\n"
    text = layout.bracketed(
        indent, _unit(view, helper), head, items, tail, view.options.line_length, magic=magic, newline=newline
    )
    return Edit(start, end, text[len(indent) :])


def _param(param: cst.Param, annotation: str | None) -> str:
    name = param.name.value
    if annotation:
        default = f" = {_code(param.default)}" if param.default is not None else ""
        return f"{name}: {annotation}{default}"
    return f"{name}={_code(param.default)}" if param.default is not None else name


def _stream_annotation(param: cst.Param, parts: _HelperParts, module_text: str) -> str | None:
    """A parameter's annotation, changed for the stream parameter: it now receives a
    generator, not a list (`Iterable[T]`, or no annotation when `Iterable` is not imported)."""
    if param.annotation is None:
        return None
    text = _code(param.annotation.annotation)
    loop_iter = parts.loop.iter
    if not (isinstance(loop_iter, cst.Name) and param.name.value == loop_iter.value):
        return text
    inner = re.fullmatch(r"\s*(?:list|List|Sequence|tuple|Tuple)\[(.*)\]\s*", text, re.S)
    if inner is None:
        return text
    return f"Iterable[{inner.group(1)}]" if _imports_iterable(module_text) else None


def _return_text(helper: cst.FunctionDef, parts: _HelperParts, main: int, module_text: str) -> str | None:
    if helper.returns is None:
        return None
    element = _element_type(helper, parts, main)
    if element is not None and _imports_iterable(module_text):
        return f"Iterable[{element}]"
    return None  # no type to offer: drop `-> ...` rather than keep a wrong one


def _after_colon(helper: cst.FunctionDef, view: ModuleView, lines: list[str]) -> Position:
    """Just after the `:` that ends the `def` header."""
    if helper.returns is not None:
        after = view.span(helper.returns.annotation)[1]
    else:
        after = view.span(helper.params)[1]
    row, col = after.row, after.column - 1
    while row <= len(lines):
        found = lines[row - 1].find(":", col)
        if found >= 0:
            return Position(row, found + 2)
        row, col = row + 1, 0
    raise Unavailable("cannot find the end of the helper's signature")


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


def _imports_iterable(text: str) -> bool:
    return any(re.search(r"\bIterable\b", m.group(1)) for m in _ITERABLE_IMPORT.finditer(text))
