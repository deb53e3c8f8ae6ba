"""Settings: `[tool.eagerlint]` in pyproject.toml, overridden by the command line.

Unknown keys are warned about by name, not silently ignored; bad values are a
`ConfigError` (exit code 2).
"""

from __future__ import annotations

import fnmatch
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from eagerlint.codes import CODES, DEFAULT_OFF, RETAINED_VIEW
from eagerlint.model import AnalysisOptions

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

ALL_CODES = tuple(CODES)
DEFAULT_EXCLUDE = (
    ".bzr",
    ".direnv",
    ".eggs",
    ".git",
    ".hg",
    ".mypy_cache",
    ".nox",
    ".pants.d",
    ".pytype",
    ".ruff_cache",
    ".svn",
    ".tox",
    ".venv",
    "__pypackages__",
    "_build",
    "buck-out",
    "build",
    "dist",
    "node_modules",
    "venv",
    ".eagerlint_cache",
)
KNOWN_KEYS = frozenset(
    {
        "select",
        "extend-select",
        "ignore",
        "per-file-ignores",
        "exclude",
        "extend-exclude",
        "respect-gitignore",
        "extend-stream-producers",
        "extend-lazy-consumers",
        "line-length",
        "buffer-reusing-loaders",
    }
)


class ConfigError(Exception):
    """A setting is invalid; the message names it."""


@dataclass(frozen=True)
class Settings:
    root: Path = field(default_factory=Path.cwd)
    select: tuple[str, ...] = ("EL",)
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    respect_gitignore: bool = True
    analysis: AnalysisOptions = field(default_factory=AnalysisOptions)
    warnings: tuple[str, ...] = ()
    source: Path | None = None

    def fingerprint(self) -> tuple[object, ...]:
        """Everything that changes results, for the cache key."""
        return (
            sorted(self.enabled()),
            self.per_file_ignores,
            self.analysis,
            str(self.root.resolve()),
        )

    def enabled(self) -> frozenset[str]:
        selectors = (*self.select, *self.extend_select)
        chosen = {c for c in ALL_CODES if c not in DEFAULT_OFF and _matches_any(c, selectors)}
        # A default-off rule runs only when named in full, or (EL010) when the
        # configuration names the loaders that reuse their buffers.
        chosen |= {c for c in DEFAULT_OFF if c in selectors}
        if self.analysis.buffer_reusing_loaders:
            chosen.add(RETAINED_VIEW)
        return frozenset(c for c in chosen if not _matches_any(c, self.ignore))

    def analysis_options(self) -> AnalysisOptions:
        """What the analysis reads, with the default-off rules that are turned on."""
        return replace(self.analysis, opt_in_rules=self.enabled() & DEFAULT_OFF)

    def codes_for(self, filename: str) -> frozenset[str]:
        codes = self.enabled()
        path = Path(filename)
        try:
            rel = path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            rel = path.as_posix()
        for pattern, ignored in self.per_file_ignores:
            if fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(path.name, pattern):
                codes = frozenset(c for c in codes if not _matches_any(c, ignored))
        return codes

    def with_overrides(
        self,
        *,
        select: Iterable[str] | None = None,
        ignore: Iterable[str] | None = None,
        extend_select: Iterable[str] | None = None,
    ) -> Settings:
        changed = self
        if select is not None:
            # As in ruff: `--select` replaces both `select` and `extend-select`.
            changed = replace(changed, select=_selectors("--select", list(select)), extend_select=())
        if extend_select is not None:
            more = _selectors("--extend-select", list(extend_select))
            changed = replace(changed, extend_select=(*changed.extend_select, *more))
        if ignore is not None:
            changed = replace(changed, ignore=(*changed.ignore, *_selectors("--ignore", list(ignore))))
        return changed


def _matches_any(code: str, selectors: Iterable[str]) -> bool:
    return any(s == "ALL" or code.startswith(s) for s in selectors)


def _selectors(key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"`{key}` must be a list of rule codes")
    out: list[str] = []
    for raw in value:
        for item in (p.strip().upper() for p in raw.split(",")):
            if not item:
                continue
            if item != "ALL" and not any(c.startswith(item) for c in ALL_CODES):
                raise ConfigError(f"`{key}`: unknown rule selector `{item}` (known: {', '.join(ALL_CODES)})")
            out.append(item)
    return tuple(out)


def _strings(key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"`{key}` must be a list of strings")
    return tuple(value)


CONFIG_FILES = ("eagerlint.toml", "pyproject.toml")  # in a folder, the first one wins (ruff's order)


def find_config(start: Path) -> Path | None:
    """The nearest configuration from `start` upwards: an `eagerlint.toml`, or a
    pyproject.toml with a `[tool.eagerlint]` table.

    One that cannot be read or parsed is an error: skipping it would silently
    apply a configuration further up (its `ignore` hiding findings), as ruff
    also refuses to.
    """
    return next((found for d in (start, *start.parents) if (found := config_in(d)) is not None), None)


def config_in(directory: Path) -> Path | None:
    """The configuration file of `directory` itself, if it has one."""
    if (directory / CONFIG_FILES[0]).is_file():
        return directory / CONFIG_FILES[0]
    candidate = directory / "pyproject.toml"
    try:
        text = candidate.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{candidate}: cannot read: {_reason(exc)}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{candidate}: invalid TOML: {exc}") from None
    tool = data.get("tool")
    return candidate if isinstance(tool, dict) and "eagerlint" in tool else None


class Configs:
    """The settings of each file: its nearest configuration (ruff's hierarchical
    configuration), the command line's overrides applied; `explicit` (`--config`)
    settles every file.  Files with no configuration above them take `fallback`,
    the one found from the current folder."""

    def __init__(self, fallback: Settings, explicit: bool, adjust: Callable[[Settings], Settings]) -> None:
        self.fallback = fallback
        self._explicit = explicit
        self._adjust = adjust
        self._by_name: dict[str, Settings] = {}  # folder -> its settings
        # The files found, by the settings they take, in the order found (`record`).
        self.groups: dict[int, tuple[Settings, list[Path]]] = {}
        self._loaded: dict[Path, Settings] = {} if fallback.source is None else {fallback.source: fallback}

    def own(self, directory: Path) -> Settings | None:
        """The settings of a configuration in `directory` itself."""
        if self._explicit:
            return None
        # By its absolute name: a configuration reached as `.` and as the current
        # folder is one configuration, read (and warned about) once.
        path = config_in(Path(os.path.abspath(directory)))
        if path is None:
            return None
        if path not in self._loaded:
            self._loaded[path] = self._adjust(load(path))
        return self._loaded[path]

    def for_dir(self, directory: Path) -> Settings:
        return self._for_folder(os.path.abspath(directory))

    def for_file(self, path: Path) -> Settings:
        return self._for_folder(os.path.dirname(os.path.abspath(path)))

    def _for_folder(self, folder: str) -> Settings:
        # By name: Path objects cost ~50 us each, and this runs for every file of a tree.
        if self._explicit:
            return self.fallback
        chain: list[str] = []
        found: Settings | None = None
        while found is None:
            if folder in self._by_name:
                found = self._by_name[folder]
                break
            chain.append(folder)
            found = self.own(Path(folder))
            parent = os.path.dirname(folder)
            if parent == folder:
                break
            folder = parent
        settled = found if found is not None else self.fallback
        self._by_name.update(dict.fromkeys(chain, settled))
        return settled

    def record(self, path: Path, settings: Settings) -> None:
        """A file found, with the settings it takes (discovery knows them already)."""
        self.groups.setdefault(id(settings), (settings, []))[1].append(path)

    def loaded(self) -> list[Settings]:
        """Every configuration read so far (for their warnings)."""
        return list(self._loaded.values())


def project_root(settings: Settings) -> Path:
    """Where imports resolve from: the configuration's folder, else the git work tree
    around the current folder, else the current folder."""
    if settings.source is not None:
        return settings.root
    start = settings.root.absolute()
    return next((d for d in (start, *start.parents) if (d / ".git").exists()), settings.root)


def _reason(exc: Exception) -> str:
    return (exc.strerror or str(exc)) if isinstance(exc, OSError) else str(exc)


def load(path: Path | None, *, explicit: bool = False) -> Settings:
    if path is None:
        return Settings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {_reason(exc)}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"{path}: `tool` must be a table")
    table = tool.get("eagerlint")
    if table is None:
        # An eagerlint.toml (or another file named with --config) holds the keys at
        # top level, as ruff.toml does.
        table = data if path.name != "pyproject.toml" else {}
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.eagerlint] must be a table")
    return from_table(table, path, _formatter_line_length(data))


def _formatter_line_length(data: dict[str, Any]) -> Any:
    """The line length the project's formatter uses (ruff's, else black's), if set."""
    tools = data.get("tool", {})
    if not isinstance(tools, dict):
        return None
    for tool in ("ruff", "black"):
        table = tools.get(tool)
        if isinstance(table, dict) and "line-length" in table:
            return table["line-length"]
    return None


def from_table(table: dict[str, Any], path: Path, formatter_line_length: Any = None) -> Settings:
    warnings = tuple(
        f"{path}: unknown key `{key}` in [tool.eagerlint] (ignored)"
        for key in sorted(table)
        if key not in KNOWN_KEYS
    )
    settings = Settings(root=path.parent, warnings=warnings, source=path)
    if "select" in table:
        settings = replace(settings, select=_selectors("select", table["select"]))
    if "extend-select" in table:
        settings = replace(settings, extend_select=_selectors("extend-select", table["extend-select"]))
    if "ignore" in table:
        settings = replace(settings, ignore=_selectors("ignore", table["ignore"]))
    if "per-file-ignores" in table:
        pfi = table["per-file-ignores"]
        if not isinstance(pfi, dict):
            raise ConfigError("`per-file-ignores` must be a table of glob = [codes]")
        settings = replace(
            settings,
            per_file_ignores=tuple(
                (glob, _selectors(f"per-file-ignores.{glob}", codes)) for glob, codes in pfi.items()
            ),
        )
    if "exclude" in table:
        settings = replace(settings, exclude=_strings("exclude", table["exclude"]))
    if "extend-exclude" in table:
        settings = replace(settings, extend_exclude=_strings("extend-exclude", table["extend-exclude"]))
    if "respect-gitignore" in table:
        if not isinstance(table["respect-gitignore"], bool):
            raise ConfigError("`respect-gitignore` must be true or false")
        settings = replace(settings, respect_gitignore=table["respect-gitignore"])
    producers = _strings("extend-stream-producers", table.get("extend-stream-producers", []))
    consumers = _strings("extend-lazy-consumers", table.get("extend-lazy-consumers", []))
    # A buffer-reusing loader is a producer too: its calls start streams.
    reusing = _strings("buffer-reusing-loaders", table.get("buffer-reusing-loaders", []))
    producers = (*producers, *(r for r in reusing if r not in producers))
    length = table.get("line-length", formatter_line_length)
    if length is None:
        length = AnalysisOptions.line_length
    if not isinstance(length, int) or isinstance(length, bool) or not 20 <= length <= 1000:
        raise ConfigError("`line-length` must be a whole number of columns (20 to 1000)")
    return replace(settings, analysis=AnalysisOptions(producers, consumers, length, reusing))
