"""The analysed tree as a whole: which file holds module `a.b.c`, and what each
module imports, so that calls can be followed across files.

A module resolves to one of the checked files, or to any other file under the
project root (the configuration's folder, else the git work tree, else the
current folder): pre-commit passes only the changed files, and a changed caller
must be judged with its unchanged helper.  Absolute imports resolve next to the
importing package and from the source roots (the project root and its `src/`),
so packages without `__init__.py` (namespace packages, as SGLang ships) resolve
too.  An import of anything else resolves to nothing.  Other modules are read,
outlined and parsed lazily, when a stream is first handed to one of their
functions, and every module a file's analysis consulted is recorded, so a
result cache can check them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from eagerlint.analysis.module import ModuleView

_FROM = re.compile(r"^[ \t]*from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n#]*)", re.M)
_IMPORT = re.compile(r"^[ \t]*import[ \t]+([^\n#]+)", re.M)


@dataclass(frozen=True)
class Imported:
    module: str  # absolute dotted module name
    attr: str | None  # `from module import attr`; None for `import module`


def module_name(path: Path, roots: Sequence[Path] = ()) -> str:
    """`pkg/sub/mod.py` -> `pkg.sub.mod`, going up while folders are packages.

    Under a source root (`roots`, resolved, deepest first), folders without an
    `__init__.py` count as namespace packages: the name is the path from the root
    when that reaches further up than the packages do.
    """
    path = path.resolve()
    parts = [path.stem] if path.stem != "__init__" else []
    folder = path.parent
    while (folder / "__init__.py").exists():
        parts.insert(0, folder.name)
        folder = folder.parent
    for root in roots:
        if root not in path.parents:
            continue
        names = [*path.parent.relative_to(root).parts, *([path.stem] if path.stem != "__init__" else [])]
        if len(names) > len(parts) and all(n.isidentifier() for n in names):
            return ".".join(names)
        break
    return ".".join(parts) if parts else path.stem


def under(path: str, folder: str) -> bool:
    """Whether absolute `path` lies inside absolute `folder` (by string)."""
    return path.startswith(folder.rstrip(os.sep) + os.sep)


def imports(text: str, current: str, is_package: bool) -> dict[str, Imported]:
    """Local name -> what it refers to, from every import statement in `text`."""
    found: dict[str, Imported] = {}
    package = current if is_package else current.rpartition(".")[0]
    for m in _FROM.finditer(text):
        source = _absolute(m.group(1), package)
        if source is None:
            continue
        for item in m.group(2).strip("() \t\n").split(","):
            words = item.split()
            if not words or words[0] == "*":
                continue
            local = words[-1] if len(words) == 3 and words[1] == "as" else words[0]
            found[local] = Imported(source, words[0])
    for m in _IMPORT.finditer(text):
        for item in m.group(1).split(","):
            words = item.split()
            if not words:
                continue
            if len(words) == 3 and words[1] == "as":
                found[words[2]] = Imported(words[0], None)
            else:
                found[words[0].split(".")[0]] = Imported(words[0].split(".")[0], None)
    return found


def _absolute(name: str, package: str) -> str | None:
    dots = len(name) - len(name.lstrip("."))
    if not dots:
        return name
    base = package.split(".") if package else []
    if dots - 1 > len(base):
        return None
    base = base[: len(base) - (dots - 1)]
    rest = name[dots:]
    return ".".join([*base, rest] if rest else base)


SOURCE_ROOTS = (".", "src")  # below the project root, as ruff's `src` default


_CLASS = re.compile(rb"^class[ \t]+(\w+)", re.M)


@dataclass
class Project:
    """The files being checked, the project root around them, and the modules
    opened so far."""

    files: set[str]  # absolute paths
    # Files under this folder may be read to resolve an import although they are
    # not checked (absolute; None: only the checked files).
    root: str | None = None
    # Opens another module on first use (set by the pipeline).
    loader: Callable[[str, Path], ModuleView] | None = None
    _modules: dict[str, ModuleView | None] = field(default_factory=dict)
    _paths: dict[str, list[str]] = field(default_factory=dict)
    _sources: tuple[Path, ...] | None = None
    # Folder -> each module file's top-level class names (`modules_defining`).
    _folders: dict[str, dict[str, frozenset[str]]] = field(default_factory=dict)

    @classmethod
    def of(cls, paths: Iterable[Path], root: Path | None = None) -> Project:
        return cls({os.path.abspath(p) for p in paths}, os.path.abspath(root) if root is not None else None)

    @property
    def source_roots(self) -> tuple[Path, ...]:
        """The folders absolute imports resolve from, deepest first (those that exist)."""
        if self._sources is None:
            found = [] if self.root is None else [Path(self.root, s) for s in SOURCE_ROOTS]
            self._sources = tuple(
                p for p in sorted(found, key=lambda p: len(p.parts), reverse=True) if p.is_dir()
            )
        return self._sources

    def module_name(self, path: Path) -> str:
        return module_name(path, tuple(p.resolve() for p in self.source_roots))

    def readable(self, path: str) -> bool:
        """Whether `path` (absolute) may be opened: a checked file, or one under the root."""
        return path in self.files or (self.root is not None and under(path, self.root))

    def candidates(self, module: str, near: Path, near_module: str) -> list[Path]:
        """Where `module` would live, seen from file `near` (module `near_module`):
        next to the importing package first, then in each source root."""
        near = Path(os.path.abspath(near))
        # `a.b.c` lives in root/a/b/c.py, `a.b` in root/a/b/__init__.py.
        up = near_module.count(".") + (1 if near.name == "__init__.py" else 0)
        bases = [near.parents[up]] if up < len(near.parents) else []
        found: list[Path] = []
        for base in (*bases, *self.source_roots):
            where = base.joinpath(*module.split("."))
            for candidate in (where.with_suffix(".py"), where / "__init__.py"):
                if candidate not in found:
                    found.append(candidate)
        return found

    def closure(self, modules: Iterable[str]) -> set[str]:
        """`modules` and every module their analyses consulted in turn."""
        seen: set[str] = set()
        todo = list(modules)
        while todo:
            module = todo.pop()
            if module in seen:
                continue
            seen.add(module)
            view = self._modules.get(module)
            if view is not None:
                todo.extend(view.deps)
        return seen

    def paths_of_module(self, module: str) -> list[str]:
        """The file an already opened module was read from, or, for a module that
        is not among the checked files, every file that would have been it: a
        result that depends on its absence is stale once one of them is checked."""
        return self._paths.get(module, [])

    def analysis(self, module: str, near: Path, near_module: str) -> ModuleView | None:
        """The view of `module` if it is one of the checked files or a file under the root."""
        if module in self._modules:
            return self._modules[module]
        candidates = self.candidates(module, near, near_module)
        path = next((c for c in candidates if self._opens(str(c))), None)
        self._paths[module] = [str(path)] if path is not None else [str(c) for c in candidates]
        found = None
        if path is not None and self.loader is not None:
            try:
                found = self.loader(module, path)
            except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
                found = None
        self._modules[module] = found
        return found

    def modules_defining(self, folder: Path, cls: str) -> list[str]:
        """The module names of the files in `folder` that define a top-level class
        `cls`, among the files this project may read; each folder is read once."""
        key = os.path.abspath(folder)
        index = self._folders.get(key)
        if index is None:
            index = self._folders[key] = self._classes_by_module(key)
        return [self.module_name(Path(path)) for path, classes in index.items() if cls in classes]

    def _classes_by_module(self, folder: str) -> dict[str, frozenset[str]]:
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            return {}
        index: dict[str, frozenset[str]] = {}
        for name in names:
            path = os.path.join(folder, name)
            if not name.endswith(".py") or name == "__init__.py" or not self._opens(path):
                continue
            try:
                with open(path, "rb") as f:
                    text = f.read()
            except OSError:
                continue
            index[path] = frozenset(m.decode("ascii", "replace") for m in _CLASS.findall(text))
        return index

    def _opens(self, path: str) -> bool:
        return path in self.files or (self.readable(path) and os.path.isfile(path))
