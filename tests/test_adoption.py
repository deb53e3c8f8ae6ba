"""Adopting eagerlint on a tree that has findings: `--add-noqa` and the baseline.

Both on small trees, and on a copy of the whole vLLM 0.33.0 package (its wheel, from
bench/vllm_source.py): after either, `check` exits 0, and a new `list(weights)` in a
`load_weights` fails the run with that one finding.
"""

from __future__ import annotations

import ast
import json
import shutil
import sys
from pathlib import Path

import pytest

from tests.test_cli import LLAMA, eagerlint

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import vllm_source  # noqa: E402

NEW_KEEP = "weights = list(weights)"


def findings(*args: str, cwd: Path) -> tuple[int, list[dict[str, object]]]:
    r = eagerlint("check", *args, "--output-format", "json", cwd=cwd)
    assert "Traceback" not in r.stderr, r.stderr
    return r.returncode, json.loads(r.stdout)


def add_keep(path: Path, cls: str) -> int:
    """Insert `weights = list(weights)` as the first statement of `cls.load_weights`;
    its row."""
    text = path.read_text()
    tree = ast.parse(text)
    node = next(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == cls)
    method = next(m for m in node.body if isinstance(m, ast.FunctionDef) and m.name == "load_weights")
    first = method.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):  # a docstring
        first = method.body[1]
    lines = text.splitlines(keepends=True)
    lines.insert(first.lineno - 1, " " * first.col_offset + NEW_KEEP + "\n")
    path.write_text("".join(lines))
    return first.lineno


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "llama.py").write_text(LLAMA)
    (tmp_path / "pkg" / "other.py").write_text(
        "class Other:\n"
        "    def load_weights(self, weights):\n"
        "        kept = sorted(weights)  # noqa: E501\n"
        "        return self.l.load_weights(kept)\n"
        "\n"
        "\n"
        "class More:\n"
        "    def load_weights(self, weights):\n"
        "        return self.l.load_weights(  # a reason\n"
        "            sorted(weights)\n"
        "        )\n"
    )
    return tmp_path


def test_add_noqa_names_each_code_on_its_line_and_is_idempotent(tree: Path) -> None:
    r = eagerlint("check", "--add-noqa", "pkg", cwd=tree)
    assert r.returncode == 0 and "Added 3 noqa directives." in r.stderr, r.stderr
    other = (tree / "pkg" / "other.py").read_text().splitlines()
    # Merged into the other tool's directive; after another comment; on the statement's first line.
    assert other[2] == "        kept = sorted(weights)  # noqa: E501, EL002"
    assert other[8] == "        return self.l.load_weights(  # a reason  # noqa: EL002"
    assert other[9] == "            sorted(weights)"
    llama = (tree / "pkg" / "llama.py").read_text()
    assert llama == LLAMA.replace("for name, w in weights]\n", "for name, w in weights]  # noqa: EL001\n")
    before = {p.name: p.read_bytes() for p in (tree / "pkg").iterdir()}
    again = eagerlint("check", "--add-noqa", "pkg", cwd=tree)
    assert again.returncode == 0 and "Added 0 noqa directives." in again.stderr
    assert {p.name: p.read_bytes() for p in (tree / "pkg").iterdir()} == before
    assert findings("pkg", cwd=tree) == (0, [])


def test_add_noqa_keeps_line_endings_and_encoding(tmp_path: Path) -> None:
    source = "# -*- coding: latin-1 -*-\n# caf\xe9\n" + LLAMA
    (tmp_path / "m.py").write_bytes(source.replace("\n", "\r\n").encode("latin-1"))
    assert eagerlint("check", "--add-noqa", "m.py", cwd=tmp_path).returncode == 0
    data = (tmp_path / "m.py").read_bytes()
    assert data == (
        source.replace("weights]\n", "weights]  # noqa: EL001\n").replace("\n", "\r\n").encode("latin-1")
    )


def loader(*body: str) -> str:
    """A class whose `load_weights` holds `body`, one line each."""
    return "class M:\n    def load_weights(self, weights):\n" + "".join(f"        {b}\n" for b in body)


def test_a_line_that_cannot_hold_a_comment_puts_it_where_the_statement_can(tmp_path: Path) -> None:
    load = "return self.l.load_weights(kept)"
    (tmp_path / "m.py").write_text(loader("kept = \\", "    sorted(weights)", load))
    r = eagerlint("check", "--add-noqa", "m.py", cwd=tmp_path)
    # The statement's first line ends with a backslash: the code goes on the reported line.
    assert r.returncode == 0 and "Added 1 noqa directive." in r.stderr
    assert "sorted(weights)  # noqa: EL002\n" in (tmp_path / "m.py").read_text()
    # Neither line can end in a comment (a string, then a backslash): the code goes
    # where the continuation ends, which silences it there (ruff's mapping).
    inside = loader('kept = sorted(weights) if """', '""" else \\', "    ()", load)
    (tmp_path / "m.py").write_text(inside)
    r = eagerlint("check", "--add-noqa", "m.py", cwd=tmp_path)
    assert r.returncode == 0 and "Added 1 noqa directive." in r.stderr and "warning" not in r.stderr
    assert (tmp_path / "m.py").read_text() == inside.replace("    ()\n", "    ()  # noqa: EL002\n")
    assert findings("m.py", cwd=tmp_path) == (0, [])
    again = eagerlint("check", "--add-noqa", "m.py", cwd=tmp_path)
    assert "Added 0 noqa directives." in again.stderr


def test_a_directive_at_the_end_of_a_continuation_silences_its_first_line(tmp_path: Path) -> None:
    # Written by hand where ruff reads it: the finding's line ends with a backslash.
    load = "return self.l.load_weights(kept)"
    (tmp_path / "m.py").write_text(loader("kept = sorted(weights) + \\", "    []  # noqa: EL002", load))
    assert findings("m.py", cwd=tmp_path) == (0, [])
    (tmp_path / "m.py").write_text(loader("kept = sorted(weights) + \\", "    []  # noqa: EL001", load))
    code, found = findings("m.py", cwd=tmp_path)
    assert code == 1 and sorted(f["code"] for f in found) == ["EL002", "EL100"]


def test_baseline_fails_only_new_findings(tree: Path) -> None:
    r = eagerlint("check", "--write-baseline", "eagerlint-baseline.json", "pkg", cwd=tree)
    assert r.returncode == 0 and "Wrote 3 findings to eagerlint-baseline.json." in r.stderr
    data = json.loads((tree / "eagerlint-baseline.json").read_text())
    assert [e["filename"] for e in data["findings"]] == ["pkg/llama.py", "pkg/other.py", "pkg/other.py"]
    assert findings("--baseline", "eagerlint-baseline.json", "pkg", cwd=tree) == (0, [])
    plain = eagerlint("check", "--baseline", "eagerlint-baseline.json", "pkg", cwd=tree)
    assert "3 findings in the baseline not shown." in plain.stdout
    # Lines added above move every finding: the baseline still holds them.
    (tree / "pkg" / "other.py").write_text("import os\n\n\n" + (tree / "pkg" / "other.py").read_text())
    row = add_keep(tree / "pkg" / "llama.py", "CausalLM")
    code, found = findings("--baseline", "eagerlint-baseline.json", "pkg", cwd=tree)
    assert code == 1
    assert [(f["filename"], f["location"]["row"], f["code"]) for f in found] == [
        ("pkg/llama.py", row, "EL002")
    ]
    # From a subfolder: fingerprints are relative to the project root.
    (tree / ".git").mkdir()
    sub = findings("--baseline", "../eagerlint-baseline.json", ".", cwd=tree / "pkg")
    assert [f["code"] for f in sub[1]] == ["EL002"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file (write one with --write-baseline)"),
        ("{", "not a baseline (invalid JSON"),
        ('{"format": "other"}', "not an eagerlint baseline"),
    ],
)
def test_a_bad_baseline_is_one_line(tree: Path, content: str | None, message: str) -> None:
    if content is not None:
        (tree / "b.json").write_text(content)
    r = eagerlint("check", "--baseline", "b.json", "pkg", cwd=tree)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    errors = r.stderr.strip().splitlines()
    assert len(errors) == 1 and errors[0].startswith(f"eagerlint: error: b.json: {message}"), errors
    assert "All checks passed!" not in r.stdout


@pytest.mark.parametrize(
    "args",
    [("--add-noqa", "--fix"), ("--add-noqa", "--diff"), ("--write-baseline", "a", "--baseline", "b")],
)
def test_adoption_options_that_do_not_go_together(tree: Path, args: tuple[str, ...]) -> None:
    r = eagerlint("check", *args, "pkg", cwd=tree)
    assert r.returncode == 2 and "cannot be combined" in r.stderr and "Traceback" not in r.stderr
    assert (tree / "pkg" / "llama.py").read_text() == LLAMA


# -- the whole of vLLM 0.33.0 ------------------------------------------------------


@pytest.fixture
def vllm(tmp_path: Path) -> Path:
    shutil.copytree(vllm_source.source("0.33.0") / "vllm", tmp_path / "vllm")
    return tmp_path


LLAMA_FILE = "vllm/model_executor/models/llama.py"


def test_add_noqa_on_vllm_then_only_a_new_keep_fails(vllm: Path) -> None:
    code, before = findings("vllm", cwd=vllm)
    assert code == 1 and len(before) >= 30
    r = eagerlint("check", "--add-noqa", "vllm", cwd=vllm)
    assert r.returncode == 0 and "warning" not in r.stderr, r.stderr
    assert findings("vllm", cwd=vllm) == (0, [])
    row = add_keep(vllm / LLAMA_FILE, "LlamaForCausalLM")
    code, after = findings("vllm", cwd=vllm)
    assert code == 1
    assert [(f["filename"], f["location"]["row"], f["code"]) for f in after] == [(LLAMA_FILE, row, "EL002")]


def test_a_baseline_of_vllm_then_only_a_new_keep_fails(vllm: Path) -> None:
    r = eagerlint("check", "--write-baseline", "baseline.json", "vllm", cwd=vllm)
    assert r.returncode == 0, r.stderr
    assert findings("--baseline", "baseline.json", "vllm", cwd=vllm) == (0, [])
    row = add_keep(vllm / LLAMA_FILE, "LlamaForCausalLM")
    code, after = findings("--baseline", "baseline.json", "vllm", cwd=vllm)
    assert code == 1
    assert [(f["filename"], f["location"]["row"], f["code"]) for f in after] == [(LLAMA_FILE, row, "EL002")]


def test_an_unknown_statement_row_maps_to_no_directive() -> None:
    # A finding without a statement row (0) was mapped to the file's first line that
    # can end in a comment, whose directive then silenced it.
    from eagerlint import suppress
    from eagerlint.model import Finding, Position

    source = "x = 1  # noqa: EL001\ny = [w for w in \\\n     weights]\n"
    finding = Finding(
        "EL001", "weights-comprehension", "m", "m.py", Position(2, 5), Position(3, 13), None, ()
    )
    assert suppress.apply([finding], source).kept == [finding]
    assert suppress.add_directives(source, [finding]).text.endswith("weights]  # noqa: EL001\n")
