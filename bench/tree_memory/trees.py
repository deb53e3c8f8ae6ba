"""Fix a whole vLLM release with eagerlint and list the functions the fix changed.

Standard library only (plus the eagerlint of this checkout, run as a subprocess).

    python bench/tree_memory/trees.py --version 0.23.0 --out changes.json

For each level, ``fix`` (``eagerlint check --fix``) and ``unsafe`` (``--fix
--unsafe-fixes``), a copy of the release's ``vllm/`` (bench/vllm_source.py) is
written under $EAGERLINT_CACHE/tree-memory/<key>/<level>/ and fixed in place; the key
hashes the eagerlint sources, so a changed eagerlint gets fresh trees and an
unchanged one reuses them. Then every file that differs from stock is parsed on both
sides and compared function by function (the ``ast`` dump of each function, without
positions): a function whose dump differs, or that exists on one side only, is
changed; ``digest`` hashes its fixed dump, so two levels that changed a function alike
can be told from two that changed it differently. Qualified names follow
``co_qualname`` (``Cls.method``, ``fn.<locals>.inner``), so they can be matched with
the functions that ran.

The JSON written lists, per level, the tree's path and the changed functions, each
with the eagerlint findings (code, fix applicability) whose scope lies in it.
"""

from __future__ import annotations

import argparse
import ast
import filecmp
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import vllm_source  # noqa: E402

LEVELS: dict[str, list[str]] = {"fix": ["--fix"], "unsafe": ["--fix", "--unsafe-fixes"]}


def eagerlint(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "eagerlint", "check", "--no-cache", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def eagerlint_key() -> str:
    """A hash of the eagerlint sources: the fixed trees depend on nothing else."""
    h = hashlib.sha256()
    for file in sorted((ROOT / "eagerlint").rglob("*.py")):
        h.update(str(file.relative_to(ROOT)).encode() + b"\0" + file.read_bytes())
    return h.hexdigest()[:12]


def fixed_tree(src: Path, level: str, root: Path) -> Path:
    """``root/level/vllm``: the release's vllm/ fixed at that level (built once)."""
    out = root / level
    if (out / ".eagerlint-done").exists():
        return out
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(src / "vllm", tmp / "vllm")
    result = eagerlint(*LEVELS[level], "--quiet", "--exit-zero", "vllm", cwd=tmp)
    if result.returncode != 0:
        raise SystemExit(f"eagerlint {' '.join(LEVELS[level])} failed:\n{result.stderr}")
    (tmp / ".eagerlint-done").write_text(result.stdout)
    shutil.rmtree(out, ignore_errors=True)
    os.replace(tmp, out)
    return out


def functions(source: str) -> dict[str, str]:
    """``co_qualname``-style name -> ast dump without positions, for every function."""
    out: dict[str, str] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = prefix + child.name
                out[name] = ast.dump(child, include_attributes=False)
                visit(child, name + ".<locals>.")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return out


def changed_functions(stock: Path, fixed: Path) -> list[dict[str, str]]:
    out = []
    for file in sorted((fixed / "vllm").rglob("*.py")):
        rel = file.relative_to(fixed)
        twin = stock / rel
        if twin.is_file() and filecmp.cmp(file, twin, shallow=False):
            continue
        before = functions(twin.read_text(encoding="utf-8")) if twin.is_file() else {}
        after = functions(file.read_text(encoding="utf-8"))
        for name in sorted(before.keys() | after.keys()):
            if before.get(name) != after.get(name):
                digest = hashlib.sha256(after.get(name, "").encode()).hexdigest()[:12]
                out.append({"path": str(rel), "qualname": name, "digest": digest})
    return out


def findings(stock: Path) -> list[dict[str, Any]]:
    result = eagerlint("--output-format", "json", "--exit-zero", "vllm", cwd=stock)
    if result.returncode != 0:
        raise SystemExit(f"eagerlint failed on the stock tree:\n{result.stderr}")
    out: list[dict[str, Any]] = json.loads(result.stdout)
    return out


def in_scope(qualname: str, scope: str | None) -> bool:
    if not scope:
        return False
    plain = qualname.replace(".<locals>", "")
    return scope == plain or scope.startswith(plain + ".")


def changes(version: str) -> dict[str, Any]:
    stock = vllm_source.source(version)
    key = eagerlint_key()
    root = vllm_source.cache_dir() / "tree-memory" / f"{version}-{key}"
    found = findings(stock)
    levels: dict[str, Any] = {}
    for level in LEVELS:
        tree = fixed_tree(stock, level, root)
        funcs = changed_functions(stock, tree)
        for f in funcs:
            f["findings"] = [
                {
                    "code": x["code"],
                    "row": x["location"]["row"],
                    "fix": None if x["fix"] is None else x["fix"]["applicability"],
                }
                for x in found
                if x["filename"] == f["path"] and in_scope(f["qualname"], x.get("scope"))
            ]
        levels[level] = {"tree": str(tree), "functions": funcs}
    return {
        "version": version,
        "stock": str(stock),
        "eagerlint_key": key,
        "levels": levels,
        "findings": [
            {"path": x["filename"], "scope": x.get("scope"), "code": x["code"], "row": x["location"]["row"]}
            for x in found
        ],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--version", default="0.23.0")
    ap.add_argument("--out", type=Path, help="write the JSON here (default: stdout)")
    args = ap.parse_args()
    text = json.dumps(changes(args.version), indent=2)
    if args.out:
        args.out.write_text(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
