"""The bad-input catalogue: every input that once crashed, hid an error or harmed a file.

Each case runs eagerlint on a tree that holds the bad input and one good file
with a fixable finding (`pkg/llama.py`), and checks the documented exit code,
exactly one line on stderr (none where the input is not an error), no
traceback, and that the good file is still reported or fixed.  Cases run
through a real subprocess where a crash is what is being ruled out, in-process
(with monkeypatching) where the error needs a permission root always has; the
real-permission variants are skipped as root, and pass as a plain user:

    setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp \
        PYTHONPATH=.:.venv/lib/python3.11/site-packages python3.11 -m pytest \
        -p no:cacheprovider --basetemp=/tmp/as-nobody tests/test_bad_input.py
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
        weights = [(name, w.float()) for name, w in weights]
        return loader.load_weights(weights)
"""
FIXED_LINE = "weights = ((name, w.float()) for name, w in weights)"
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


def raw_eagerlint(*args: str, cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "PYTHONPATH": path}
    return subprocess.run(
        [sys.executable, "-m", "eagerlint", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        env=env,
        timeout=300,
    )


def eagerlint(*args: str, cwd: Path, stdin: bytes | None = None) -> Run:
    done = raw_eagerlint(*args, cwd=cwd, stdin=stdin)
    return Run(done.returncode, done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace"))


def mode_args(mode: str) -> tuple[str, ...]:
    # --diff's own summary goes to stderr (as ruff's does): --quiet leaves only errors there.
    # --fix exits 0 once everything is fixed (ruff's rule); here 1 says a file was rewritten.
    flags = {"check": (), "fix": ("--fix", "--exit-non-zero-on-fix"), "diff": ("--diff", "--quiet")}[mode]
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
    flat = (tree / "pkg" / "flat.py").read_text()
    if mode == "check":
        assert "pkg/flat.py:4:19: EL001" in run.stdout
    elif mode == "fix":  # its whole text was never given to libcst, even to check the fix
        assert FIXED_LINE in flat and flat.endswith(f"X = {chain}\n")
    else:
        assert "+++ b/pkg/flat.py\n@@ -1,7 +1,7 @@" in run.stdout


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


def test_a_worker_process_that_dies_takes_only_its_file(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # multiprocessing.Pool waited forever for the files of a worker that died (killed
    # for memory, a crash in native code): the run hung.
    import signal

    from eagerlint import runner
    from eagerlint.config import Settings
    from eagerlint.pipeline import FixMode

    for i in range(runner.POOL_THRESHOLD):
        (tree / "pkg" / f"copy_{i:02}.py").write_text(LLAMA)
    (tree / "pkg" / "zz_dies.py").write_text(LLAMA)
    real = runner.check_bytes

    def dies(data: bytes, name: str, *args: Any, **kwargs: Any) -> Any:
        if name.endswith("zz_dies.py"):
            os.kill(os.getpid(), signal.SIGKILL)
        return real(data, name, *args, **kwargs)

    monkeypatch.setattr(runner, "check_bytes", dies)
    files = sorted((tree / "pkg").glob("*.py"))
    results, _ = runner.run(files, Settings(root=tree), FixMode.NONE, use_cache=False, jobs=2)
    errors = [(Path(r.filename).name, r.error.message) for r in results if r.error is not None]
    assert errors == [("zz_dies.py", "the process checking it died (killed, or out of memory)")]
    assert sum(len(r.findings) for r in results) == len(files) - 1


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

    from eagerlint.analysis.positions import code_ranges

    for path in sorted(fixtures.glob("*.py")):
        module = cst.parse_module(path.read_text())
        expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
        assert code_ranges(module) == dict(expected), path.name


def test_positions_fall_back_to_libcst_metadata_when_its_codegen_changes(
    fixtures: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import libcst as cst

    from eagerlint.analysis import positions

    module = cst.parse_module((fixtures / "EL001.py").read_text())
    fast = dict(positions.spans(module))

    def changed(*args: Any, **kwargs: Any) -> Any:
        raise AttributeError("before_codegen")

    monkeypatch.setattr(positions, "_State", changed)
    assert dict(positions.spans(module)) == fast


def handing_on(count: int) -> str:
    """`count` fixable loaders, each handing its list to a helper of its own."""
    loaders = "".join(
        f"def load_part_{i}(weights: Iterable[tuple[str, torch.Tensor]]) -> None:\n"
        f"    order = tuple(range({i}))\n    kept = [w for _, w in weights]\n    copy_part_{i}(kept)\n\n\n"
        for i in range(count)
    )
    helpers = "".join(
        f"def copy_part_{i}(items):\n    for w in items:\n        w.copy_(w)\n\n\n" for i in range(count)
    )
    return loaders + helpers


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text handed to libcst (`parsing.parse_module`), in order."""
    from eagerlint import parsing

    texts: list[str] = []
    real = parsing.parse_module

    def parse(text: str) -> Any:
        texts.append(text)
        return real(text)

    monkeypatch.setattr(parsing, "parse_module", parse)
    return texts


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text handed to CPython's syntax check (`parsing.check_syntax`), in order."""
    from eagerlint import parsing

    texts: list[str] = []
    real = parsing.check_syntax

    def spy(text: str, filename: str) -> None:
        texts.append(text)
        real(text, filename)

    monkeypatch.setattr(parsing, "check_syntax", spy)
    return texts


def test_judging_each_fix_does_not_redo_the_module(
    monkeypatch: pytest.MonkeyPatch, parsed: list[str]
) -> None:
    # Each fix is judged on the module as it would be after it; that module's
    # builtin-shadowing scan (a regex over the whole text) and the parse of every
    # helper the edit did not touch were redone per fix: quadratic in a big file.
    from eagerlint.analysis import source
    from tests.helpers import run

    scanned: list[int] = []
    real_scan = source.shadowed_builtins

    def scan(text: str) -> frozenset[str]:
        scanned.append(len(text))
        return real_scan(text)

    monkeypatch.setattr(source, "shadowed_builtins", scan)
    result = run(handing_on(40))
    assert len(result.findings) == 40 and all(f.fix is not None for f in result.findings)
    helpers = [t for t in parsed if t.startswith("def copy_part_")]
    assert len(helpers) == 40 == len(set(helpers))  # each helper once, never again per fix
    assert len(parsed) == 40 + 40 + 40  # every loader, every helper, every loader as fixed
    assert len(scanned) == 1


def test_the_fix_loop_parses_what_its_fixes_did_not_change_once(parsed: list[str]) -> None:
    # The second round of the fix loop re-parsed every function of the fixed file.
    from eagerlint.pipeline import FixMode
    from tests.helpers import run

    result = run(handing_on(40), FixMode.SAFE)
    assert result.applied_fixes == 40 and not result.findings
    # Round one: every loader, every helper, every loader as its fix leaves it (to
    # judge the fix); round two reads those same texts and parses none of them again.
    assert len(parsed) == 40 + 40 + 40 == len(set(parsed))


def test_the_fix_loop_parses_functions_of_one_text_once_each(parsed: list[str]) -> None:
    # Methods of the same text in several classes are several trees; the second round
    # took the first's parse again and parsed all the others anew.
    from eagerlint.pipeline import FixMode
    from tests.helpers import run

    method = (
        "    def load_weights(self, weights):\n        for name, w in weights:\n"
        "            self.load(name, w)\n"
    )
    classes = "".join(f"\n\nclass Model{i}:\n{method}" for i in range(5))
    result = run(handing_on(2) + classes, FixMode.SAFE)
    assert result.applied_fixes == 2 and not result.findings
    same = [t for t in parsed if "self.load(name, w)" in t]
    assert len(same) == 5 and len(set(same)) == 1  # one parse per method, in round one only
    assert len(parsed) == 2 + 2 + 2 + 5


def test_a_loop_is_followed_through_once_for_its_drain_and_its_keeps(monkeypatch: pytest.MonkeyPatch) -> None:
    from eagerlint.analysis import keeps
    from tests.helpers import run

    followed: list[int] = []
    real = keeps._iteration_paths

    def spy(loop: Any, context: Any) -> Any:
        followed.append(id(loop))
        return real(loop, context)

    monkeypatch.setattr(keeps, "_iteration_paths", spy)
    # No drain on the default path: the loop is then asked what it keeps for a loader.
    source = (
        "def load_weights(self, weights):\n    backbone = []\n    for name, w in weights:\n"
        "        if name.startswith('lm.'):\n            backbone.append((name, w))\n"
        "    return self.model.load_weights(backbone)\n"
    )
    assert [f.code for f in run(source).findings] == ["EL003"]
    assert len(followed) == len(set(followed)) > 0


def test_the_report_splits_a_file_into_lines_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from eagerlint import cli, outline

    text = "from collections.abc import Iterable\n\nimport torch\n\n\n" + handing_on(30)
    (tmp_path / "m.py").write_text(text)
    monkeypatch.chdir(tmp_path)
    split: list[int] = []
    real = outline.split_lines

    def spy(chunk: str) -> list[str]:
        split.append(len(chunk))
        return real(chunk)

    monkeypatch.setattr(outline, "split_lines", spy)
    assert cli.main(["check", "--no-cache", "m.py"]) == 1
    assert capsys.readouterr().out.count("EL001") >= 30
    assert split.count(len(text)) <= 2  # the outline's, the report's; not once per finding


def test_a_fix_is_checked_over_the_blocks_it_touched(checked: list[str]) -> None:
    # --fix re-parsed the whole module with libcst (~12 s/MB) to check its output.
    from eagerlint.pipeline import FixMode
    from tests.helpers import run

    rest = "".join(f"def other_{i}(x):\n    return x + {i}\n\n\n" for i in range(500))
    result = run(LLAMA + "\n\n" + rest, FixMode.SAFE)
    assert result.fixed_source is not None and FIXED_LINE in result.fixed_source
    assert len(checked) == 2 and checked[0] == LLAMA + "\n\n" + rest  # the file, then the fix
    assert checked[1] == LLAMA.replace("[(name, w.float()) for name, w in weights]", FIXED_LINE[10:])


def test_fixes_far_apart_are_checked_block_by_block(checked: list[str]) -> None:
    # Two fixes at either end of a file had everything between them checked again.
    from eagerlint.pipeline import FixMode
    from tests.helpers import run

    rest = "".join(f"def other_{i}(x):\n    return x + {i}\n\n\n" for i in range(500))
    # Each loop turned generator adds a line, so the last fix is shifted by five.
    loops = "".join(
        f"class CausalLM{i}:\n    def load_weights(self, weights):\n        kept = []\n"
        "        for item in weights:\n            kept.append(item)\n"
        "        return self.loader.load_weights(kept)\n\n\n"
        for i in range(5)
    )
    result = run(loops + rest + LLAMA.replace("CausalLM", "OtherLM"), FixMode.SAFE)
    assert result.fixed_source is not None and result.applied_fixes == 6
    fixed = [t for t in checked[1:] if "load_weights" in t]
    assert len(checked) == 7 and len(fixed) == 6  # the file, then each fixed class alone
    assert [t.split(":")[0] for t in fixed] == [f"class CausalLM{i}" for i in range(5)] + ["class OtherLM"]
    assert all(t in result.fixed_source and "other_" not in t for t in fixed)


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
        assert (tree / "pkg" / "llama.py").read_text() == source.replace("= [(name", "= ((name").replace(
            "weights]", "weights)"
        )


def test_the_code_frame_counts_lines_as_python_does(tree: Path) -> None:
    # str.splitlines also splits on \x0c, \x1c-\x1e, \x85, \u2028: the frame showed
    # the wrong line.
    comment = "    # a\x1cb\x1dc\x1ed\x85e\u2028f\u2029g\x0bh\x0ci\n"
    (tree / "pkg" / "llama.py").write_text(LLAMA.replace("    def load", comment + "    def load"))
    run = eagerlint("check", "--no-cache", "pkg", cwd=tree)
    expect(run, 1, None)
    assert "5 |         weights = [(name, w.float()) for name, w in weights]" in run.stdout


@pytest.mark.parametrize("ending", ["\r", "\r\n"])
def test_old_mac_and_windows_line_endings(tree: Path, ending: str) -> None:
    (tree / "pkg" / "llama.py").write_bytes(LLAMA.replace("\n", ending).encode())
    quiet = LLAMA.replace("weights]\n", "weights]  # noqa: EL001\n")
    (tree / "pkg" / "quiet.py").write_bytes(quiet.replace("\n", ending).encode())
    run = eagerlint("check", "--no-cache", "--output-format", "concise", "pkg", cwd=tree)
    expect(run, 1, None)
    assert REPORTED in run.stdout and "quiet.py" not in run.stdout  # its noqa line is silenced
    fixed = eagerlint("check", "--fix", "--exit-non-zero-on-fix", "--no-cache", "pkg", cwd=tree)
    expect(fixed, 1, None)
    data = (tree / "pkg" / "llama.py").read_bytes()
    assert data == FIXED.replace("\n", ending).encode()


# -- 8. writes that keep what is around the file --------------------------------------

FIXED = LLAMA.replace("[(name, w.float()) for name, w in weights]", FIXED_LINE[10:])


def fix_in_process(tree: Path, capsys: pytest.CaptureFixture[str], *paths: str) -> tuple[int, list[str]]:
    from eagerlint import cli

    os.chdir(tree)
    code = cli.main(
        ["check", "--fix", "--exit-non-zero-on-fix", "--no-cache", "--output-format", "concise", *paths]
    )
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return code, out.err.splitlines()


def test_a_symlink_is_followed_and_its_target_fixed(tree: Path) -> None:
    (tree / "pkg" / "link.py").symlink_to("llama.py")
    run = eagerlint(*mode_args("fix"), "pkg/link.py", cwd=tree)
    expect(run, 1, None)
    assert (tree / "pkg" / "link.py").is_symlink() and (tree / "pkg" / "llama.py").read_text() == FIXED


def test_a_hard_linked_file_is_rewritten_in_place(tree: Path) -> None:
    os.link(tree / "pkg" / "llama.py", tree / "other.py")
    inode = (tree / "other.py").stat().st_ino
    run = eagerlint(*mode_args("fix"), "pkg/llama.py", cwd=tree)
    expect(run, 1, None)
    assert (tree / "other.py").read_text() == FIXED
    assert (tree / "pkg" / "llama.py").stat().st_ino == inode and (tree / "other.py").stat().st_nlink == 2


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file another owner needs root")
def test_owner_group_and_mode_are_kept(tree: Path) -> None:
    path = tree / "pkg" / "llama.py"
    os.chown(path, 1234, 2345)
    path.chmod(0o640)
    run = eagerlint(*mode_args("fix"), "pkg", cwd=tree)
    expect(run, 1, None)
    info = path.stat()
    assert path.read_text() == FIXED and (info.st_uid, info.st_gid, info.st_mode & 0o7777) == (
        1234,
        2345,
        0o640,
    )


def test_an_owner_the_process_cannot_give_is_kept_by_writing_in_place(
    tree: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # As a plain user, a group-writable file of someone else would become the user's.
    path = tree / "pkg" / "llama.py"
    inode = path.stat().st_ino
    monkeypatch.setattr(os, "fstat", lambda fd: os.stat_result((0o100600, 0, 0, 1, 999, 999, 0, 0, 0, 0)))

    def refuse(fd: int, uid: int, gid: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "fchown", refuse)
    assert fix_in_process(tree, capsys, "pkg") == (1, [])
    assert path.read_text() == FIXED and path.stat().st_ino == inode


def unwritable(monkeypatch: pytest.MonkeyPatch, names: set[str]) -> None:
    """No temporary file in any folder, and no write to the files named: what a plain
    user sees in a folder and files they may not write (root may write anything)."""
    import tempfile

    def no_temp(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied")

    real_open = Path.open

    def guarded(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if self.name in names and mode != "rb" and "r" in mode and "+" in mode:
            raise PermissionError(13, "Permission denied")
        return real_open(self, mode, *args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", no_temp)
    monkeypatch.setattr(Path, "open", guarded)


def test_fix_in_a_folder_the_user_cannot_write(
    tree: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Some files were written, then a traceback, and no report.  Now a writable file in
    # an unwritable folder is rewritten in place, one that is not writable is named.
    (tree / "pkg" / "locked.py").write_text(LLAMA)
    unwritable(monkeypatch, {"locked.py"})
    code, errors = fix_in_process(tree, capsys, "pkg")
    assert (code, errors) == (2, ["eagerlint: error: pkg/locked.py: write error: Permission denied"])
    assert (tree / "pkg" / "llama.py").read_text() == FIXED and (
        tree / "pkg" / "locked.py"
    ).read_text() == LLAMA


def test_the_report_names_the_findings_of_a_file_that_was_not_written(
    tree: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from eagerlint import cli

    unwritable(monkeypatch, {"llama.py"})
    os.chdir(tree)
    assert cli.main(["check", "--fix", "--no-cache", "--output-format", "concise", "pkg"]) == 2
    out = capsys.readouterr()
    assert REPORTED in out.out and "Found 1 error." in out.out and "fixed" not in out.out


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into any folder")
def test_fix_in_a_folder_the_user_really_cannot_write(tree: Path) -> None:
    (tree / "pkg" / "locked.py").write_text(LLAMA)
    (tree / "pkg" / "locked.py").chmod(0o444)
    (tree / "pkg").chmod(0o555)
    try:
        run = eagerlint(*mode_args("fix"), "pkg", cwd=tree)
    finally:
        (tree / "pkg").chmod(0o755)
    expect(run, 2, "pkg/locked.py: write error: Permission denied")
    good_file_handled(tree, run, "fix")


def test_a_failed_write_in_place_puts_the_original_back(
    tree: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    os.link(tree / "pkg" / "llama.py", tree / "other.py")  # hard links: written in place

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    code, errors = fix_in_process(tree, capsys, "pkg")
    assert (code, errors) == (2, ["eagerlint: error: pkg/llama.py: write error: No space left on device"])
    assert (tree / "other.py").read_text() == LLAMA


def test_a_file_changed_while_eagerlint_ran_is_not_overwritten(tree: Path) -> None:
    from eagerlint.writeback import WriteError, write_fixed

    path = tree / "pkg" / "llama.py"
    with pytest.raises(WriteError, match="changed on disk while eagerlint ran"):
        write_fixed(path, b"what was read before", FIXED.encode())
    assert path.read_text() == LLAMA


@pytest.mark.parametrize(
    "data",
    [
        b"\xef\xbb\xbf" + LLAMA.encode(),
        b"# -*- coding: latin-1 -*-\n# caf\xe9\n" + LLAMA.encode(),
        LLAMA.replace("\n", "\r\n").encode(),
        LLAMA.rstrip("\n").encode(),
    ],
    ids=["BOM", "latin-1 cookie", "CRLF", "no final newline"],
)
def test_stdin_fix_writes_back_the_bytes_it_read_except_the_edit(tree: Path, data: bytes) -> None:
    # It dropped the BOM and re-encoded latin-1 as UTF-8 under a latin-1 cookie.
    run = raw_eagerlint("check", "--fix", "-", cwd=tree, stdin=data)
    # ruff's convention (astral-sh/ruff#7838): the summary goes to stderr, nothing remains.
    assert (run.returncode, run.stderr) == (0, b"Found 1 error (1 fixed, 0 remaining).\n")
    assert run.stdout == data.replace(b"[(name, w.float()) for name, w in weights]", FIXED_LINE[10:].encode())


def test_stdin_fix_echoes_undecodable_input_as_it_was(tree: Path) -> None:
    # It echoed the input with U+FFFD in place of the bytes it could not decode.
    data = b"def load_weights(self, weights):\n    x = '\xff'\n"
    raw = subprocess.run(
        [sys.executable, "-m", "eagerlint", "check", "--fix", "-"],
        input=data,
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=tree,
        check=False,
    )
    assert raw.stdout == data and raw.returncode == 2
    assert raw.stderr.decode().splitlines() == [
        "eagerlint: error: -: syntax error: cannot decode as utf-8: byte 42"
    ]


@pytest.mark.parametrize(
    "data",
    [
        b"\xef\xbb\xbf" + LLAMA.encode(),
        b"# -*- coding: latin-1 -*-\n# caf\xe9\n" + LLAMA.encode(),
        LLAMA.replace("\n", "\r\n").encode(),
        LLAMA.rstrip("\n").encode(),
    ],
    ids=["BOM", "latin-1 cookie", "CRLF", "no final newline"],
)
def test_the_diff_applies_to_exactly_what_fix_writes(tree: Path, data: bytes) -> None:
    (tree / "pkg" / "llama.py").write_bytes(data)
    diff = raw_eagerlint("check", "--diff", "--no-cache", "pkg", cwd=tree).stdout
    subprocess.run(["patch", "-s", "-p1", "--binary"], input=diff, cwd=tree, check=True)
    patched = (tree / "pkg" / "llama.py").read_bytes()
    (tree / "pkg" / "llama.py").write_bytes(data)
    expect(eagerlint(*mode_args("fix"), "pkg", cwd=tree), 1, None)
    assert patched == (tree / "pkg" / "llama.py").read_bytes() != data


# -- 4. every OS error is one line, exit 2, and the rest goes on ----------------------


@pytest.mark.parametrize("mode", MODES)
def test_a_symlink_loop_in_a_walked_folder(tree: Path, mode: str) -> None:
    # A traceback from discover: OSError: Too many levels of symbolic links.
    (tree / "pkg" / "loop.py").symlink_to("loop.py")
    (tree / "pkg" / "dir_loop").symlink_to("dir_loop")  # a folder symlink: not followed
    run = eagerlint(*mode_args(mode), "pkg", cwd=tree)
    expect(run, 2, "pkg/loop.py: read error: Too many levels of symbolic links (os error 40)")
    good_file_handled(tree, run, mode)


def test_a_named_symlink_loop(tree: Path) -> None:
    (tree / "loop").symlink_to("loop")
    run = eagerlint(*mode_args("check"), "loop", "pkg", cwd=tree)
    expect(run, 2, "loop: read error: Too many levels of symbolic links (os error 40)")
    good_file_handled(tree, run, "check")


@pytest.mark.parametrize("mode", MODES)
def test_a_fifo_named_on_the_command_line(tree: Path, mode: str) -> None:
    # It was silently skipped (and reading it would block the run).
    os.mkfifo(tree / "pkg" / "pipe.py")
    run = eagerlint(*mode_args(mode), "pkg/pipe.py", "pkg/llama.py", cwd=tree)
    expect(run, 2, "pkg/pipe.py: read error: not a regular file or folder (a FIFO)")
    good_file_handled(tree, run, mode)


def test_a_character_device_named_on_the_command_line(tree: Path) -> None:
    run = eagerlint(*mode_args("check"), os.devnull, "pkg", cwd=tree)
    expect(run, 2, f"{os.devnull}: read error: not a regular file or folder (a character device)")
    good_file_handled(tree, run, "check")


def check_in_process(
    tree: Path, capsys: pytest.CaptureFixture[str], *paths: str
) -> tuple[int, list[str], str]:
    from eagerlint import cli

    os.chdir(tree)
    code = cli.main(["check", "--no-cache", "--output-format", "concise", *paths])
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return code, out.err.splitlines(), out.out


def denied(monkeypatch: pytest.MonkeyPatch, owner: Any, method: str, name: str) -> None:
    """`owner.method(path, ...)` raises EACCES for paths named `name`, as for a plain user."""
    real = getattr(owner, method)

    def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
        if Path(str(self)).name == name and os.path.lexists(str(self)):
            raise PermissionError(13, "Permission denied")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(owner, method, guarded)


def test_a_named_file_under_a_folder_the_user_cannot_search(
    tree: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A traceback: Path.exists() raises PermissionError (only a missing file is False).
    (tree / "locked").mkdir()
    (tree / "locked" / "model.py").write_text(LLAMA)
    denied(monkeypatch, Path, "stat", "model.py")
    code, errors, out = check_in_process(tree, capsys, "locked/model.py", "pkg")
    assert (code, errors) == (
        2,
        ["eagerlint: error: locked/model.py: read error: Permission denied (os error 13)"],
    )
    assert REPORTED in out


@pytest.mark.skipif(os.geteuid() == 0, reason="root searches any folder")
def test_a_named_file_under_a_folder_the_user_really_cannot_search(tree: Path) -> None:
    (tree / "locked").mkdir()
    (tree / "locked" / "model.py").write_text(LLAMA)
    (tree / "locked").chmod(0o600)
    try:
        run = eagerlint(*mode_args("check"), "locked/model.py", "pkg", cwd=tree)
    finally:
        (tree / "locked").chmod(0o755)
    expect(run, 2, "locked/model.py: read error: Permission denied (os error 13)")
    good_file_handled(tree, run, "check")


def test_a_folder_that_cannot_be_listed(
    tree: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # It was skipped silently: its files were never checked, and nothing said so.
    (tree / "pkg" / "private").mkdir()
    real = os.scandir

    def guarded(path: Any) -> Any:
        if Path(path).name == "private":
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(os, "scandir", guarded)
    code, errors, out = check_in_process(tree, capsys, "pkg")
    assert (code, errors) == (
        2,
        ["eagerlint: error: pkg/private: read error: cannot list: Permission denied (os error 13)"],
    )
    assert REPORTED in out


@pytest.mark.skipif(os.geteuid() == 0, reason="root lists any folder")
def test_a_folder_that_really_cannot_be_listed(tree: Path) -> None:
    (tree / "pkg" / "private").mkdir(mode=0o300)
    try:
        run = eagerlint(*mode_args("check"), "pkg", cwd=tree)
    finally:
        (tree / "pkg" / "private").chmod(0o755)
    expect(run, 2, "pkg/private: read error: cannot list: Permission denied (os error 13)")
    good_file_handled(tree, run, "check")


def test_a_file_that_cannot_be_read(
    tree: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tree / "pkg" / "secret.py").write_text(LLAMA)
    denied(monkeypatch, Path, "read_bytes", "secret.py")
    code, errors, out = check_in_process(tree, capsys, "pkg")
    assert (code, errors) == (2, ["eagerlint: error: pkg/secret.py: read error: Permission denied"])
    assert REPORTED in out


def test_a_gitignore_that_cannot_be_read(
    tree: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Ignoring it silently would check the files it excludes.
    (tree / "pkg" / ".gitignore").write_text("generated/\n")
    denied(monkeypatch, Path, "read_text", ".gitignore")
    code, errors, out = check_in_process(tree, capsys, "pkg")
    assert (code, errors) == (
        2,
        ["eagerlint: error: pkg/.gitignore: read error: cannot read: Permission denied (os error 13)"],
    )
    assert REPORTED not in out  # the folder it would have filtered is not guessed at


def test_the_current_folder_removed_is_one_line(tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    script = f"import os, runpy, sys; os.chdir({str(gone)!r}); os.rmdir({str(gone)!r}); "
    script += "sys.argv = ['eagerlint', 'check', '.']; runpy.run_module('eagerlint', run_name='__main__')"
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert done.returncode == 2 and done.stderr.splitlines() == [
        "eagerlint: error: No such file or directory (os error 2)"
    ]


# -- 6. configuration: a pyproject.toml on the way up that cannot be read is an error --


@pytest.mark.parametrize("mode", MODES)
def test_a_broken_pyproject_is_not_skipped_for_a_parent(tree: Path, mode: str) -> None:
    # It was skipped, and the parent's ignore hid the finding: exit 0.
    (tree / "pyproject.toml").write_text('[tool.eagerlint]\nignore = ["EL001"]\n')
    (tree / "pkg" / "pyproject.toml").write_text("[tool.eagerlint\nselect =\n")
    run = eagerlint(*mode_args(mode), "llama.py", cwd=tree / "pkg")
    expect(run, 2, "pkg/pyproject.toml: invalid TOML: Expected ']' at the end of a table declaration")
    assert (tree / "pkg" / "llama.py").read_text() == LLAMA  # nothing was done under a wrong config


def test_a_pyproject_that_cannot_be_read_is_an_error(
    tree: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tree / "pkg" / "pyproject.toml").write_text("[tool.eagerlint]\n")
    denied(monkeypatch, Path, "read_text", "pyproject.toml")
    code, errors, _ = check_in_process(tree / "pkg", capsys, "llama.py")
    assert code == 2 and len(errors) == 1
    assert errors[0].endswith("pkg/pyproject.toml: cannot read: Permission denied")


def test_a_pyproject_that_is_not_utf8_is_an_error(tree: Path) -> None:
    (tree / "pkg" / "pyproject.toml").write_bytes(b"[tool.eagerlint]\n# caf\xe9\n")
    run = eagerlint(*mode_args("check"), "llama.py", cwd=tree / "pkg")
    expect(run, 2, "pkg/pyproject.toml: cannot read: 'utf-8' codec can't decode byte 0xe9")


def test_a_text_too_long_for_libcst_is_one_line(
    tree: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # libcst's trees take up to 1.4 KiB per character: a giant text would take the
    # memory of the machine, and a killed worker would stall the pool.
    from eagerlint import parsing

    monkeypatch.setattr(parsing, "MAX_TEXT", 1000)
    (tree / "pkg" / "table.py").write_text(loader_with("x = [" + ", ".join(["1"] * 400) + "]"))
    code, errors, out = check_in_process(tree, capsys, "pkg")
    assert code == 2 and len(errors) == 1
    assert errors[0].startswith(
        "eagerlint: error: pkg/table.py: cannot analyse: libcst is given at most 1,000 "
    )
    assert REPORTED in out
