"""Which function a call reaches, in this module or another module of the tree,
and which parameter an argument binds to.

A call resolves through the module's own functions, its imports (absolute and
relative, `module.helper(...)` too) and, for `self.`/`super()` calls, the class
hierarchy, also into base classes of other modules.  `attribute_methods` is the
may-answer for `self.<attr>.<method>(...)`: the methods of every class the instance
builds that attribute from (for finding drains, never for proving a fix safe).
Other modules are opened through the `Project` only when a call needs them, and
every module consulted is recorded in `deps` (found or not: its absence decided
the result too).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import libcst as cst

from eagerlint.analysis import streams
from eagerlint.analysis.cst_util import binds_name, dotted_name, last_part
from eagerlint.analysis.project import Imported, Project, imports, module_name
from eagerlint.analysis.walk import descendants
from eagerlint.outline import Block

if TYPE_CHECKING:
    from eagerlint.analysis.module import ModuleView

# Return annotations that promise no tensor (`Resolver.returns_scalar`).
SCALAR_TYPES = frozenset({"str", "bytes", "int", "float", "bool", "None"})


class Resolved(NamedTuple):
    """A called function, the class it was found in, and the module that holds it."""

    func: cst.FunctionDef
    owner: Block | None
    home: ModuleView
    # Called through its class (`Base.load_weights(self, w)`): the call passes the
    # receiver itself, as its first positional argument.
    unbound: bool = False

    @property
    def receiver(self) -> bool:
        """Whether the call hands its receiver (`obj` of `obj.m(x)`, `super()`) to
        the method's first parameter itself (see `bound_arguments`)."""
        return self.owner is not None and not self.unbound


class Resolver:
    def __init__(self, view: ModuleView, project: Project | None, name: str) -> None:
        self.view = view
        self.project = project
        self._module_name = name or None
        self._import_table: dict[str, Imported] | None = None
        # Other modules of the tree this module consulted (for cache validation).
        self.deps: set[str] = set()

    def resolve_call(self, call: cst.Call, cls: Block | None) -> Resolved | None:
        func = call.func
        if isinstance(func, cst.Name):
            return self.function_named(func.value)
        if not isinstance(func, cst.Attribute):
            return None
        receiver = func.value
        if isinstance(receiver, cst.Name) and receiver.value in ("self", "cls") and cls is not None:
            return self._method(cls, func.attr.value, include_self=True)
        if isinstance(receiver, cst.Call) and dotted_name(receiver.func) == "super" and cls is not None:
            return self._method(cls, func.attr.value, include_self=False)
        if isinstance(receiver, cst.Name):
            # `module.helper(...)` for an imported module of the analysed tree.
            target = self._imported_module(receiver.value)
            if target is not None:
                return target.resolver.function_named(func.attr.value, local_only=True)
            return self._through_class(receiver.value, func.attr.value)
        return None

    def _through_class(self, cls_name: str, name: str) -> Resolved | None:
        """`Base.method(...)`: the method `Base` (a class of the tree, here or
        imported) has or inherits, called through its class."""
        home, block = self._class_named(cls_name)
        if home is None or block is None:
            return None
        found = home.resolver._method(block, name, include_self=True)
        if found is None:
            return None
        decorators = {last_part(dotted_name(d.decorator)) for d in found.func.decorators}
        if decorators & {"staticmethod", "classmethod"}:
            return found  # the call binds as it would through an instance
        return found._replace(unbound=True)

    def attribute_methods(self, call: cst.Call, cls: Block | None) -> list[Resolved]:
        """The methods a `self.<attr>.<method>(...)` call may reach: `<method>` of each
        class that `cls` (or, when it assigns nothing, a base) builds `self.<attr>`
        from (`self.attr = Cls(...)`, also through `self.attr = self.other` and both
        branches of a conditional), in the order the assignments are written.

        A may-answer: the instance holds one of them at run time.  It serves to find
        where a stream is kept; safety asks `resolve_call`, which answers only what
        is certain."""
        func = call.func
        if cls is None or not isinstance(func, cst.Attribute):
            return []
        attr = _self_attribute(func.value)
        if attr is None:
            return []
        found: list[Resolved] = []
        for home, block in self._attribute_classes(cls, attr, frozenset()):
            method = home.resolver._method(block, func.attr.value, include_self=True)
            if method is not None and all(method.func is not f.func for f in found):
                found.append(method)
        return found

    def _attribute_classes(
        self, cls: Block, attr: str, seen: frozenset[str], depth: int = 0
    ) -> list[tuple[ModuleView, Block]]:
        if attr in seen or depth > _BASE_DEPTH:
            return []
        seen = seen | {attr}
        assigned = re.compile(rf"\bself\.{re.escape(attr)}\s*(?::[^=\n]*)?=(?!=)")
        lines = self.view.outline.lines
        found: list[tuple[ModuleView, Block]] = []
        assigns = False  # whether `cls` assigns the attribute at all
        for method in cls.children:
            if method.kind != "def" or not assigned.search(method.text(lines)):
                continue
            node = self.view.source.function(method)
            for value in _assigned_to_self(node, attr) if node is not None else ():
                assigns = True
                found.extend(self._classes_of(cls, value, seen, depth))
        if assigns:
            return found
        for base in cls.bases:
            owner, parent = self._class_named(base)
            if owner is not None and parent is not None:
                found.extend(owner.resolver._attribute_classes(parent, attr, seen - {attr}, depth + 1))
        return found

    def _classes_of(
        self, cls: Block, value: cst.BaseExpression, seen: frozenset[str], depth: int
    ) -> list[tuple[ModuleView, Block]]:
        """The classes of the tree an expression assigned to an attribute builds."""
        if isinstance(value, cst.IfExp):
            return [
                *self._classes_of(cls, value.body, seen, depth),
                *self._classes_of(cls, value.orelse, seen, depth),
            ]
        other = _self_attribute(value)
        if other is not None:
            return self._attribute_classes(cls, other, seen, depth)
        if isinstance(value, cst.Call):
            name = dotted_name(value.func)
            owner, block = self._class_named(name) if name else (None, None)
            if owner is not None and block is not None:
                return [(owner, block)]
            return [found for arch in _architectures(value) if (found := self._architecture(arch))]
        return []

    def _architecture(self, arch: str) -> tuple[ModuleView, Block] | None:
        """The class a registry factory builds for architecture `arch`
        (`init_vllm_registered_model(..., architectures=["X"])`): a class named `X`
        here, imported, or defined in a module of this module's own package, as
        engines keep a model's parts together (a may-answer, as for any attribute)."""
        owner, block = self._class_named(arch)
        if owner is not None and block is not None:
            return owner, block
        if self.project is None:
            return None
        for module in self.project.modules_defining(Path(self.view.filename).parent, arch):
            other = self._other(module)
            found = other.outline.cls(arch) if other is not None else None
            if other is not None and found is not None:
                return other, found
        return None

    def function_named(self, name: str, *, local_only: bool = False) -> Resolved | None:
        block = self.view.outline.function(name)
        if block is not None:
            node = self.view.source.function(block)
            return Resolved(node, None, self.view) if node else None
        if local_only:
            return None
        imported = self._imports().get(name)
        if imported is None or imported.attr is None:
            return None
        target = self._other(imported.module)
        return target.resolver.function_named(imported.attr, local_only=True) if target else None

    def _method(
        self, cls: Block, name: str, *, include_self: bool, seen: frozenset[str] = frozenset()
    ) -> Resolved | None:
        if include_self:
            block = cls.method(name)
            node = self.view.source.function(block) if block is not None else None
            if node is not None:
                return Resolved(node, cls, self.view)
        for base in cls.bases:
            if base in seen:
                continue
            owner, parent = self._class_named(base)
            if owner is not None and parent is not None:
                found = owner.resolver._method(parent, name, include_self=True, seen=seen | {base})
                if found:
                    return found
        return None

    def _class_named(self, name: str) -> tuple[ModuleView | None, Block | None]:
        """A base class by the name this module uses for it, here or imported."""
        local = self.view.outline.cls(name)
        if local is not None:
            return self.view, local
        head, _, attr = name.rpartition(".")
        imported = self._imports().get(head or name)
        if imported is None:
            return None, None
        if head:  # `module.Base`
            target = self._other(
                imported.module if imported.attr is None else f"{imported.module}.{imported.attr}"
            )
            return (target, target.outline.cls(attr)) if target else (None, None)
        if imported.attr is None:
            return None, None
        target = self._other(imported.module)
        return (target, target.outline.cls(imported.attr)) if target else (None, None)

    def _imported_module(self, name: str) -> ModuleView | None:
        imported = self._imports().get(name)
        if imported is None:
            return None
        module = imported.module if imported.attr is None else f"{imported.module}.{imported.attr}"
        return self._other(module)

    @property
    def module_name(self) -> str:
        if self._module_name is None:
            path = Path(self.view.filename)
            self._module_name = self.project.module_name(path) if self.project else module_name(path)
        return self._module_name

    def import_table(self) -> dict[str, Imported]:
        """Local name -> what it refers to, from the module's import statements."""
        if self._import_table is None:
            self._import_table = imports(
                self.view.text, self.module_name, self.view.filename.endswith("__init__.py")
            )
        return self._import_table

    def _imports(self) -> dict[str, Imported]:
        """The imports calls resolve through: none without a tree to resolve into."""
        return self.import_table() if self.project else {}

    def _other(self, module: str) -> ModuleView | None:
        if self.project is None or module == self.module_name:
            return None
        found = self.project.analysis(module, Path(self.view.filename), self.module_name)
        self.deps.add(module)  # found or not: its absence decided the result too
        return found

    def returns_scalar(
        self, call: cst.Call, cls: Block | None, within: cst.FunctionDef | None = None
    ) -> bool:
        """Whether `call` is to a function of the analysed tree declared to return
        `str`, `bytes`, `int`, `float`, `bool` or `None`."""
        # A name the calling function binds itself (a nested `def`, an
        # assignment) is not the module's function of that name.
        if isinstance(call.func, cst.Name) and within is not None and binds_name(within, call.func.value):
            return False
        resolved = self.resolve_call(call, cls)
        if resolved is None or resolved.func.returns is None:
            return False
        if any(last_part(dotted_name(d.decorator)) == "overload" for d in resolved.func.decorators):
            return False  # one signature of several
        annotation = resolved.func.returns.annotation
        if isinstance(annotation, cst.SimpleString):
            try:
                text = annotation.evaluated_value
            except (SyntaxError, ValueError, UnicodeError):
                return False
            return isinstance(text, str) and text.strip() in SCALAR_TYPES
        return last_part(dotted_name(annotation)) in SCALAR_TYPES


# How many base classes deep an attribute's assignments are looked for.
_BASE_DEPTH = 4


def _assigned_to_self(func: cst.FunctionDef, attr: str) -> list[cst.BaseExpression]:
    """The values `func` assigns to `self.<attr>`, in order."""
    values: list[cst.BaseExpression] = []
    for node in descendants(func.body):
        if isinstance(node, cst.Assign):
            targets = [t.target for t in node.targets]
        elif isinstance(node, cst.AnnAssign) and node.value is not None:
            targets = [node.target]
        else:
            continue
        if any(_self_attribute(t) == attr for t in targets):
            values.append(node.value)  # type: ignore[arg-type]
    return values


def _self_attribute(node: cst.BaseExpression) -> str | None:
    """`x` for `self.x`, else None."""
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == "self":
        return node.attr.value
    return None


def bound_arguments(
    func: cst.FunctionDef, call: cst.Call, *, receiver: bool
) -> list[tuple[cst.Param, cst.BaseExpression, cst.Arg | None]]:
    """Each parameter of `func` that `call` gives a value: the value, and the
    argument that passes it (None for the receiver).  The one rule for binding a
    call, used for following a stream into its callee and for what the callee reads
    and writes: `receiver` (a method called through an object, `Resolved.receiver`)
    binds the object to the first parameter unless the method is a staticmethod;
    positional arguments bind in order (a starred one ends them: what follows
    cannot be told), keywords by name.  The call decides, not the parameter names:
    a module-level `def helper(self, ws)` called `helper(self, weights)` binds `ws`.
    """
    plain = [*func.params.posonly_params, *func.params.params]
    found: list[tuple[cst.Param, cst.BaseExpression, cst.Arg | None]] = []
    if receiver and plain and isinstance(call.func, cst.Attribute) and not streams.is_staticmethod(func):
        value = call.func.value
        if isinstance(value, cst.Call) and dotted_name(value.func) == "super":
            value = cst.Name("self")
        found.append((plain[0], value, None))
        plain = plain[1:]
    positional: list[cst.Arg] = []
    for arg in call.args:
        if arg.star:
            break
        if arg.keyword is None:
            positional.append(arg)
    found += [(param, arg.value, arg) for param, arg in zip(plain, positional, strict=False)]
    by_name = {p.name.value: p for p in streams.all_params(func)}
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in by_name:
            found.append((by_name[arg.keyword.value], arg.value, arg))
    return found


def param_for(func: cst.FunctionDef, call: cst.Call, arg: cst.Arg, *, receiver: bool) -> cst.Param | None:
    """The parameter of `func` that `arg` of `call` binds to, if it can be told."""
    return next(
        (param for param, _, given in bound_arguments(func, call, receiver=receiver) if given is arg), None
    )


def _architectures(call: cst.Call) -> list[str]:
    """The string literals of a call's `architectures=[...]` argument."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "architectures":
            value = arg.value
            if isinstance(value, (cst.List, cst.Tuple)):
                return [
                    el.value.evaluated_value
                    for el in value.elements
                    if isinstance(el.value, cst.SimpleString) and isinstance(el.value.evaluated_value, str)
                ]
    return []
