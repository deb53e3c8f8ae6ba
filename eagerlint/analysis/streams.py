"""The CST form of the stream sources, and lazy views of streams.

A weight stream is the lazy `Iterable[tuple[str, Tensor]]` a loader hands to a
model.  This module answers three questions about single nodes, without any
flow: is this parameter a stream, is this call a producer, is this expression a
lazy transformation of an operand.  The first two are the rows of
`analysis/sources.py` read on a syntax tree.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator

import libcst as cst

from eagerlint.analysis.cst_util import callee_name, dotted_name, last_part, positional_args
from eagerlint.analysis.sources import ITERATED, LOAD_WEIGHTS, PRODUCER_SUFFIXES
from eagerlint.analysis.walk import children, descendants
from eagerlint.model import AnalysisOptions, SourceKind

ITERABLE_TYPES = frozenset({"Iterable", "Iterator", "Generator"})
# Builtins and itertools functions that return a lazy view of their operands.
LAZY_WRAPPERS = frozenset(
    {"map", "filter", "zip", "enumerate", "chain", "from_iterable", "islice", "starmap", "iter"}
)


def _slice_values(node: cst.Subscript) -> list[cst.BaseExpression]:
    return [el.slice.value for el in node.slice if isinstance(el.slice, cst.Index)]


def _is_tensor_pair(node: cst.BaseExpression) -> bool:
    """`tuple[str, torch.Tensor]`, `Tuple[str, Tensor]`, in any spelling."""
    if not isinstance(node, cst.Subscript):
        return False
    if last_part(dotted_name(node.value)) not in ("tuple", "Tuple"):
        return False
    parts = _slice_values(node)
    if len(parts) != 2:
        return False
    first, second = (last_part(dotted_name(p)) for p in parts)
    return first == "str" and second == "Tensor"


def is_stream_annotation(node: cst.BaseExpression) -> bool:
    """`Iterable|Iterator|Generator[tuple[str, Tensor], ...]`, also as a string, also as
    one member of a union (`Iterable[...] | Mapping[str, Tensor]`, `Union[...]`,
    `Optional[...]`): the parameter may be handed a stream."""
    if isinstance(node, cst.SimpleString):
        try:
            node = cst.parse_expression(node.evaluated_value)  # type: ignore[arg-type]
        except (cst.ParserSyntaxError, TypeError):
            return False
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
        return is_stream_annotation(node.left) or is_stream_annotation(node.right)
    if isinstance(node, cst.Subscript) and last_part(dotted_name(node.value)) in ("Union", "Optional"):
        return any(is_stream_annotation(p) for p in _slice_values(node))
    if not isinstance(node, cst.Subscript):
        return False
    if last_part(dotted_name(node.value)) not in ITERABLE_TYPES:
        return False
    parts = _slice_values(node)
    return bool(parts) and _is_tensor_pair(parts[0])


def is_iterable_annotation(node: cst.BaseExpression | None) -> bool:
    """Any `Iterable[...]`/`Iterator[...]` (or bare): a parameter promising one lazy pass."""
    if node is None:
        return False
    if isinstance(node, cst.Subscript):
        node = node.value
    return last_part(dotted_name(node)) in ("Iterable", "Iterator")


def all_params(func: cst.FunctionDef) -> list[cst.Param]:
    p = func.params
    return [*p.posonly_params, *p.params, *p.kwonly_params]


def positional_params(func: cst.FunctionDef, *, is_method: bool) -> list[cst.Param]:
    params = [*func.params.posonly_params, *func.params.params]
    bound = is_method and not is_staticmethod(func)
    # A method written outside its class (a mixin body, a doc example) still
    # names its receiver `self` or `cls`.
    if params and (bound or params[0].name.value in ("self", "cls")):
        params = params[1:]
    return params


def is_staticmethod(func: cst.FunctionDef) -> bool:
    return any(last_part(dotted_name(d.decorator)) == "staticmethod" for d in func.decorators)


def _type_tested(func: cst.FunctionDef) -> set[str]:
    """Names tested with `isinstance(name, ...)`: the function expects containers too
    (not where the test only picks what to do with a container, `container_guard`)."""
    tested: set[str] = set()
    guards: set[int] = set()
    for node in descendants(func.body):
        if isinstance(node, cst.IfExp) and container_guard(node) is not None:
            test = node.test
            guards.add(id(test.expression if isinstance(test, cst.UnaryOperation) else test))
        elif (
            isinstance(node, cst.Call)
            and dotted_name(node.func) == "isinstance"
            and node.args
            and id(node) not in guards
        ):
            first = node.args[0].value
            if isinstance(first, cst.Name):
                tested.add(first.value)
    return tested


# Types whose instances are containers, as `isinstance` tests name them.
GUARDED_CONTAINERS = frozenset(
    {"dict", "Dict", "Mapping", "MutableMapping", "OrderedDict", "list", "List", "tuple", "Tuple", "Sequence"}
)


def container_guard(expr: cst.IfExp) -> cst.Name | None:
    """`x.items() if isinstance(x, Mapping) else x` (or `x if not isinstance(x, dict)
    else ...`): the branch taken when `x` is no container, when that branch is `x`
    itself and every type tested is a container type; None otherwise."""
    test, otherwise = expr.test, expr.orelse
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        test, otherwise = test.expression, expr.body
    if not (isinstance(test, cst.Call) and dotted_name(test.func) == "isinstance" and len(test.args) == 2):
        return None
    first, spec = test.args[0].value, test.args[1].value
    parts = [el.value for el in spec.elements] if isinstance(spec, cst.Tuple) else [spec]
    if not all(last_part(dotted_name(p)) in GUARDED_CONTAINERS for p in parts):
        return None
    if isinstance(first, cst.Name) and isinstance(otherwise, cst.Name) and otherwise.value == first.value:
        return otherwise
    return None


def source_params(
    func: cst.FunctionDef, *, is_method: bool, text: str | None = None
) -> dict[str, SourceKind]:
    """Parameters of `func` that are weight streams by themselves.

    A parameter the function tests with `isinstance` (`if isinstance(weights,
    dict)`) is declared polymorphic by its author: its callers hand it
    containers, so materializing it costs nothing new.
    """
    found = _source_params(func, is_method=is_method)
    # `text`, the function's source when the caller has it, is a cheap no.
    if found and (text is None or "isinstance" in text):
        tested = _type_tested(func)
        found = {name: kind for name, kind in found.items() if name not in tested}
    return found


def _source_params(func: cst.FunctionDef, *, is_method: bool) -> dict[str, SourceKind]:
    found: dict[str, SourceKind] = {}
    for param in all_params(func):
        ann = param.annotation
        if ann is not None and is_stream_annotation(ann.annotation):
            found[param.name.value] = SourceKind.ANNOTATED_PARAM
    if func.name.value == LOAD_WEIGHTS.word and not found:
        params = positional_params(func, is_method=is_method)
        if params:
            found[params[0].name.value] = SourceKind.LOAD_WEIGHTS_PARAM
    elif func.name.value == LOAD_WEIGHTS.word:
        found = dict.fromkeys(found, SourceKind.LOAD_WEIGHTS_PARAM)
    for name in _iterated_params(func, is_method=is_method, known=found.keys()):
        found[name] = SourceKind.ITERATED_PARAM
    return found


# Annotations that say a parameter is already a container (or something else).
CONTAINER_TYPES = frozenset({"list", "List", "dict", "Dict", "Mapping", "Sequence", "tuple", "Tuple", "set"})


def _iterated_params(func: cst.FunctionDef, *, is_method: bool, known: Collection[str] = ()) -> list[str]:
    """Parameters named like `weights` that the function itself iterates once as
    `(name, tensor)` pairs, unless annotated as a container.  A function that reads
    such a parameter twice, or inside another loop, treats it as a container.
    `known`: parameters that are streams already (the body is walked only for others)."""
    params = {
        p.name.value: p
        for p in all_params(func)
        if ITERATED.word in p.name.value and p.name.value not in known
    }
    if not params:
        return []
    reads: dict[str, int] = dict.fromkeys(params, 0)
    paired: set[str] = set()
    for node, inside_loop in _iterations(func.body):
        if not (isinstance(node.iter, cst.Name) and node.iter.value in params):
            continue
        name = node.iter.value
        reads[name] += 2 if inside_loop else 1
        target = node.target
        if isinstance(target, (cst.Tuple, cst.List)) and len(target.elements) >= 2:
            paired.add(name)
    found: list[str] = []
    for name, param in params.items():
        if name not in paired or reads[name] != 1:
            continue
        if param.annotation is not None:
            kind = last_part(dotted_name(_subscripted(param.annotation.annotation)))
            if kind in CONTAINER_TYPES or kind not in ITERABLE_TYPES:
                continue
        found.append(name)
    return found


def _iterations(body: cst.CSTNode) -> Iterator[tuple[cst.For | cst.CompFor, bool]]:
    """Every loop and comprehension `for` of a body (not of nested functions), and
    whether it runs inside another loop."""
    todo: list[tuple[cst.CSTNode, bool]] = [(body, False)]
    while todo:
        node, inside = todo.pop()
        if isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)) and node is not body:
            continue
        if isinstance(node, (cst.For, cst.CompFor)):
            yield node, inside
        looping = inside or isinstance(node, (cst.For, cst.While))
        # A loop's own iterable is evaluated once, outside its body.
        todo.extend(
            (child, inside if isinstance(node, cst.For) and child is node.iter else looping)
            for child in children(node)
        )


def _subscripted(node: cst.BaseExpression) -> cst.BaseExpression:
    return node.value if isinstance(node, cst.Subscript) else node


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    return any(name == p or name.endswith("." + p) for p in patterns)


def is_producer_call(call: cst.Call, options: AnalysisOptions) -> bool:
    name = callee_name(call)
    if name is None:
        return False
    return last_part(name).endswith(PRODUCER_SUFFIXES) or _matches(name, options.stream_producers)


# Tensor methods that may make a private copy of what a mapped file hands out
# (`.float()` of an fp32 tensor returns it as it is; a may-answer, for finding keeps).
COPYING_METHODS = frozenset({"to", "float", "half", "bfloat16", "double", "clone", "contiguous"})


def is_handle_pairs(expr: cst.BaseExpression) -> bool:
    """`((k, f.get_tensor(k).to(dtype)) for k in keys)`: a stream of `(name, tensor)`
    pairs read one by one from a `safe_open` handle and copied as they come (a
    tensor of the handle itself only maps the file: keeping it holds no private
    copy).  `f` is a name or an attribute chain, `k` the generator's variable."""
    if not isinstance(expr, cst.GeneratorExp) or not isinstance(expr.elt, cst.Tuple):
        return False
    parts = expr.elt.elements
    if len(parts) != 2 or not isinstance(parts[0].value, cst.Name):
        return False
    key = parts[0].value.value
    if not (isinstance(expr.for_in.target, cst.Name) and expr.for_in.target.value == key):
        return False
    node, copied = parts[1].value, False
    while (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value in COPYING_METHODS
    ):
        node, copied = node.func.value, True
    return (
        copied
        and isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value == "get_tensor"
        and dotted_name(node.func.value) is not None
        and len(node.args) >= 1
        and isinstance(node.args[0].value, cst.Name)
        and node.args[0].value.value == key
    )


def is_buffer_reusing_call(call: cst.Call, options: AnalysisOptions) -> bool:
    """A call of a configured buffer-reusing loader, matched as producers are:
    `fast_iterator` matches `fast_iterator(...)` and `loader.fast_iterator(...)`."""
    name = callee_name(call)
    return name is not None and _matches(name, options.buffer_reusing_loaders)


def is_lazy_consumer(call: cst.Call, options: AnalysisOptions) -> bool:
    name = callee_name(call)
    if name is None:
        return False
    return last_part(name) == "load_weights" or _matches(name, options.lazy_consumers)


def lazy_wrapper_operands(call: cst.Call) -> list[cst.BaseExpression]:
    """Operands that `map/filter/zip/chain/...` turn into a lazy view."""
    name = last_part(callee_name(call))
    if name not in LAZY_WRAPPERS:
        return []
    return positional_args(call)


def is_weights_mapper_apply(call: cst.Call) -> bool:
    """`self.hf_to_vllm_mapper.apply(weights)`: vLLM's WeightsMapper is lazy."""
    name = callee_name(call)
    if name is None or last_part(name) != "apply":
        return False
    receiver = last_part(name.rsplit(".", 1)[0]) if "." in name else ""
    return "mapper" in receiver.lower()
