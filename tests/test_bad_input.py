"""The bad-input catalogue: every input that once crashed, hid an error or harmed a file.

Each case runs eagerlint on a tree that holds the bad input and one good file
with a fixable finding (`pkg/llama.py`), and checks the documented exit code,
exactly one line on stderr (none where the input is not an error), no
traceback, and that the good file is still reported or fixed.  Cases run
through a real subprocess where a crash is what is being ruled out, in-process
(with monkeypatching) where the error needs a permission root always has.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[1]
LLAMA = """\
class CausalLM:
    def load_weights(self, weights):
        loader = AutoWeightsLoader(self)
        weights = [self.permute(name, w) for name, w in weights]
        return loader.load_weights(weights)
"""
FIXED_LINE = "weights = (self.permute(name, w) for name, w in weights)"
REPORTED = "pkg/llama.py:4:19: EL001"
MODES = ("check", "fix", "diff")


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def errors(self) -> list[str]:
        return self.stderr.splitlines()


def eagerlint(*args: str, cwd: Path, stdin: bytes | None = None) -> Run:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "eagerlint", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        env=env,
        timeout=300,
    )
    return Run(done.returncode, done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace"))


def mode_args(mode: str) -> tuple[str, ...]:
    # --diff's own summary goes to stderr (as ruff's does): --quiet leaves only errors there.
    flags = {"check": (), "fix": ("--fix",), "diff": ("--diff", "--quiet")}[mode]
    return ("check", *flags, "--no-cache", "--output-format", "concise")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "llama.py").write_text(LLAMA)
    return tmp_path


def expect(run: Run, code: int, line: str | None) -> None:
    """The exit code, and exactly one stderr line holding `line` (None: no line)."""
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode == code, (run.returncode, run.stderr, run.stdout)
    if line is None:
        assert run.errors == [], run.stderr
    else:
        assert len(run.errors) == 1 and line in run.errors[0], run.stderr


def good_file_handled(tree: Path, run: Run, mode: str) -> None:
    """The good file is reported (check), fixed (fix) or shown fixed (diff)."""
    text = (tree / "pkg" / "llama.py").read_text()
    if mode == "check":
        assert REPORTED in run.stdout, run.stdout
    elif mode == "fix":
        assert FIXED_LINE in text
    else:
        assert f"+        {FIXED_LINE}" in run.stdout and FIXED_LINE not in text


def loader_with(line: str) -> str:
    """A loader with a finding, and `line` inside it (so it is parsed by libcst)."""
    return f"def load_weights(self, weights):\n    ws = [w for w in weights]\n    {line}\n    return ws\n"


# -- 3. no input can take the run down ------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("where", ["in a loader", "at module level"])
def test_8000_chained_plus_terms_are_one_line(tree: Path, mode: str, where: str) -> None:
    # libcst's native parser overflowed the stack on this (SIGSEGV, exit 139, nothing
    # reported); with --fix/--diff the whole-module re-parse did so for any such line.
    terms = " + ".join(["a"] * 8000)
    source = loader_with(f"x = {terms}") if where == "in a loader" else f"{LLAMA}\nX = {terms}\n"
    (tree / "pkg" / "deep.py").write_text(source)
    run = eagerlint(*mode_args(mode), "pkg", cwd=tree)
    expect(run, 2, "pkg/deep.py: syntax error: too deeply nested for Python's parser")
    good_file_handled(tree, run, mode)


@pytest.mark.parametrize("mode", MODES)
def test_a_long_and_chain_that_cpython_keeps_flat_is_parsed_on_a_large_stack(tree: Path, mode: str) -> None:
    # CPython accepts any number of `and` terms; libcst nests them, one level each, and
    # needs ~25 MiB of stack for 20,000: more than a main thread has.  Outside a loader
    # only CPython reads it; inside one, libcst parses it and the walk is too deep.
    chain = " and ".join(["a"] * 20_000)
    (tree / "pkg" / "flat.py").write_text(f"{LLAMA}\nX = {chain}\n")
    (tree / "pkg" / "inside.py").write_text(loader_with(f"x = {chain}"))
    run = eagerlint(*mode_args(mode), "pkg", cwd=tree)
    expect(run, 2, "pkg/inside.py: cannot analyse: nested too deeply for eagerlint's analysis")
    good_file_handled(tree, run, mode)
    if mode == "check":
        assert "pkg/flat.py:4:19: EL001" in run.stdout


def test_a_text_that_would_need_too_much_stack_is_one_line(
    tree: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from eagerlint import cli, parsing

    monkeypatch.setattr(parsing, "MAX_STACK", parsing.RESERVE + 100 * parsing.PER_LEVEL)
    (tree / "pkg" / "wide.py").write_text(loader_with("x = " + " or ".join(["a"] * 200)))
    monkeypatch.chdir(tree)
    assert cli.main(["check", "--no-cache", "--output-format", "concise", "pkg"]) == 2
    out = capsys.readouterr()
    assert out.err.splitlines() == [
        "eagerlint: error: pkg/wide.py: cannot analyse: libcst would need 64 MiB of stack "
        "for its `and`/`or`/`.` nesting"
    ]
    assert REPORTED in out.out


def test_a_text_beyond_the_worker_stack_gets_a_thread_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    from eagerlint import parsing

    monkeypatch.setattr(parsing, "WORKER_STACK", parsing.RESERVE)
    calls: list[int] = []
    real = parsing._run_on_own_thread

    def spy(stack: int, fn: Callable[[str], T], arg: str) -> T:
        calls.append(stack)
        return real(stack, fn, arg)

    monkeypatch.setattr(parsing, "_run_on_own_thread", spy)
    module = parsing.parse_module("x = " + " and ".join(["a"] * 20_000) + "\n")
    assert len(module.body) == 1 and calls == [parsing.stack_needed("x = " + " and ".join(["a"] * 20_000))]


# -- 5. syntax errors: CPython's message, wherever the error is -----------------------


@pytest.mark.parametrize("mode", MODES)
def test_a_syntax_error_outside_the_loader_is_reported_not_blamed_on_a_fix(tree: Path, mode: str) -> None:
    # Only the loader was parsed: check gave exit 1 with its finding, --fix blamed itself
    # ("internal error: a fix produced invalid code").
    (tree / "pkg" / "broken.py").write_text(LLAMA + "\n\ndef broken(:\n    pass\n")
    run = eagerlint(*mode_args(mode), "pkg", cwd=tree)
    expect(run, 2, "pkg/broken.py: syntax error: line 8, column 12: invalid syntax")
    good_file_handled(tree, run, mode)
    assert "def broken(:" in (tree / "pkg" / "broken.py").read_text()


@pytest.mark.parametrize("mode", MODES)
def test_a_tab_error_is_a_syntax_error(tree: Path, mode: str) -> None:
    source = LLAMA.replace("        return loader", "\treturn loader")
    (tree / "pkg" / "tabs.py").write_text(source)
    run = eagerlint(*mode_args(mode), "pkg", cwd=tree)
    expect(run, 2, "pkg/tabs.py: syntax error: line 5, column 1: inconsistent use of tabs and spaces")
    good_file_handled(tree, run, mode)


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b"def load_weights(self, w):\n    x = '\xff'\n", "pkg/bad.py: syntax error: cannot decode as utf-8"),
        (b"def load_weights(self, w):\n    x = 1\x00\n", "pkg/bad.py: syntax error: source code string"),
    ],
    ids=["undecodable", "null byte"],
)
def test_bytes_that_are_not_python_text(tree: Path, data: bytes, line: str) -> None:
    (tree / "pkg" / "bad.py").write_bytes(data)
    run = eagerlint(*mode_args("check"), "pkg", cwd=tree)
    expect(run, 2, line)
    good_file_handled(tree, run, "check")


# -- 7. linear cost: checked by structure here, timed in bench/speed/bigfiles.py --------


def many_loaders(count: int) -> str:
    return "".join(
        f"def load_weights_{i}(weights: Iterable[tuple[str, torch.Tensor]]):\n"
        f"    kept = [w for _, w in weights]\n    for w in kept:\n        w.copy_(w)\n\n\n"
        for i in range(count)
    )


def test_each_parsed_piece_is_indexed_once_for_positions(monkeypatch: pytest.MonkeyPatch) -> None:
    # Positions were found by scanning every parsed piece for every node: quadratic
    # (a generated 575 kB file with 1,000 classes took 34 s).
    from eagerlint.analysis import source
    from tests.helpers import run

    indexed: list[int] = []
    real = source.descendants

    def counting(node: Any) -> Any:
        indexed.append(id(node))
        return real(node)

    monkeypatch.setattr(source, "descendants", counting)
    result = run(many_loaders(200))
    assert len(result.findings) == 200
    assert [f.location.row for f in result.findings] == [2 + 6 * i for i in range(200)]
    assert len(indexed) == len(set(indexed)) <= 200


def test_fast_positions_agree_with_libcst_metadata(fixtures: Path) -> None:
    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider

    from eagerlint.analysis.source import positions

    for path in sorted(fixtures.glob("*.py")):
        module = cst.parse_module(path.read_text())
        expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
        assert dict(positions(module)) == dict(expected), path.name


def test_a_fix_is_checked_over_the_blocks_it_touched(monkeypatch: pytest.MonkeyPatch) -> None:
    # --fix re-parsed the whole module with libcst (~12 s/MB) to check its output.
    from eagerlint import parsing
    from eagerlint.pipeline import FixMode
    from tests.helpers import run

    checked: list[str] = []
    real = parsing.check_syntax

    def spy(text: str, filename: str) -> None:
        checked.append(text)
        real(text, filename)

    monkeypatch.setattr(parsing, "check_syntax", spy)
    rest = "".join(f"def other_{i}(x):\n    return x + {i}\n\n\n" for i in range(500))
    result = run(LLAMA + "\n\n" + rest, FixMode.SAFE)
    assert result.fixed_source is not None and FIXED_LINE in result.fixed_source
    assert len(checked) == 2 and checked[0] == LLAMA + "\n\n" + rest  # the file, then the fix
    assert checked[1] == LLAMA.replace("[self.permute(name, w) for name, w in weights]", FIXED_LINE[10:])


def test_outline_lookups_find_the_first_block_of_a_name() -> None:
    from eagerlint.outline import outline

    shape = outline(
        "def f():\n    pass\ndef f():\n    pass\nclass C:\n    def m(self): pass\n    def m(self): pass\n"
    )
    assert shape.function("f") is shape.blocks[0]
    c = shape.cls("C")
    assert c is not None and c.method("m") is c.children[0] and shape.function("g") is None


# -- 9. one definition of a line: \r, \n, \r\n ----------------------------------------


@pytest.mark.parametrize("mode", ["check", "fix"])
def test_a_form_feed_line_does_not_end_a_function(tree: Path, mode: str) -> None:
    # The outline took a line holding a form feed for code at column 0: the method
    # ended there, and the finding said "not used" with no fix.
    source = LLAMA.replace("        weights = [", "\f\n        weights = [").replace("class", "\fclass")
    (tree / "pkg" / "llama.py").write_text(source)
    run = eagerlint(*mode_args(mode), "pkg", cwd=tree)
    expect(run, 1, None)
    if mode == "check":
        assert "pkg/llama.py:5:19: EL001 [*] List comprehension" in run.stdout
    else:
        assert (tree / "pkg" / "llama.py").read_text() == source.replace("= [self", "= (self").replace(
            "weights]", "weights)"
        )


def test_the_code_frame_counts_lines_as_python_does(tree: Path) -> None:
    # str.splitlines also splits on \x0c, \x1c-\x1e, \x85, \u2028: the frame showed
    # the wrong line.
    comment = "    # a\x1cb\x1dc\x1ed\x85e\u2028f\u2029g\x0bh\x0ci\n"
    (tree / "pkg" / "llama.py").write_text(LLAMA.replace("    def load", comment + "    def load"))
    run = eagerlint("check", "--no-cache", "pkg", cwd=tree)
    expect(run, 1, None)
    assert "5 |         weights = [self.permute(name, w) for name, w in weights]" in run.stdout


@pytest.mark.parametrize("ending", ["\r", "\r\n"])
def test_old_mac_and_windows_line_endings(tree: Path, ending: str) -> None:
    (tree / "pkg" / "llama.py").write_bytes(LLAMA.replace("\n", ending).encode())
    quiet = LLAMA.replace("weights]\n", "weights]  # noqa: EL001\n")
    (tree / "pkg" / "quiet.py").write_bytes(quiet.replace("\n", ending).encode())
    run = eagerlint("check", "--no-cache", "--output-format", "concise", "pkg", cwd=tree)
    expect(run, 1, None)
    assert REPORTED in run.stdout and "quiet.py" not in run.stdout  # its noqa line is silenced
    fixed = eagerlint("check", "--fix", "--no-cache", "pkg", cwd=tree)
    expect(fixed, 1, None)
    data = (tree / "pkg" / "llama.py").read_bytes()
    assert (
        data == LLAMA.replace("[self", "(self").replace("weights]", "weights)").replace("\n", ending).encode()
    )
