"""The hooks through real pre-commit, in a scratch git repository, with the README's snippet.

pre-commit installs a hook repository from a git URL at a `rev`; a local path works as
the URL.  The hook repository here is a snapshot of this worktree's package files (so
the code under test is what is on disk, committed or not), committed with a fixed
identity and date, so the same files give the same commit and pre-commit reuses the
environment it built for it (PRE_COMMIT_HOME is kept under ~/.cache/eagerlint).  The
first run builds that environment: pip installs eagerlint from the snapshot, and its
dependencies from the package index.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import KEEP_ALL_HELPER
from tests.test_cli import LLAMA

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import vllm_source  # noqa: E402

# What pip needs to install eagerlint, and the hooks' manifest.
PACKAGE_FILES = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "eagerlint")
FIXED_DATE = "2026-12-01T00:00:00+00:00"

CALLER_BEFORE = """\
from helper import keep_all


class Llama:
    def load_weights(self, weights):
        for name, w in weights:
            self.params[name].copy_(w)
"""
CALLER_AFTER = """\
from helper import keep_all


class Llama:
    def load_weights(self, weights):
        for name, w in keep_all(weights):
            self.params[name].copy_(w)
"""


def fixable(n: object) -> str:
    """A module with one finding that has a safe fix."""
    return LLAMA.replace("class CausalLM:", f"class CausalLM{n}:")


def git(*args: str, cwd: Path) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "eagerlint tests",
        "GIT_AUTHOR_EMAIL": "tests@eagerlint.invalid",
        "GIT_COMMITTER_NAME": "eagerlint tests",
        "GIT_COMMITTER_EMAIL": "tests@eagerlint.invalid",
        "GIT_AUTHOR_DATE": FIXED_DATE,
        "GIT_COMMITTER_DATE": FIXED_DATE,
    }
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def snippet() -> str:
    """The README's pre-commit configuration, as written there."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### pre-commit") :]
    found = re.search(r"```yaml\n(.*?)```", section, flags=re.S)
    assert found is not None
    return found.group(1)


def hook_repository(where: Path) -> tuple[Path, str]:
    """A git repository holding this worktree's package files; its path and commit."""
    where.mkdir()
    for name in PACKAGE_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, where / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, where / name)
    git("init", "-q", "-b", "main", cwd=where)
    git("add", "-A", cwd=where)
    git("commit", "-q", "-m", "eagerlint under test", cwd=where)
    return where, git("rev-parse", "HEAD", cwd=where)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("precommit")
    hooks, rev = hook_repository(base / "hooks")
    config = snippet()
    config, repos = re.subn(r"(?m)^(\s*- repo:\s*)\S+.*$", rf"\g<1>{hooks}", config)
    config, revs = re.subn(r"(?m)^(\s*rev:\s*)\S+.*$", rf"\g<1>{rev}", config)
    assert repos == revs == 1, config
    repo = base / "project"
    repo.mkdir()
    git("init", "-q", "-b", "main", cwd=repo)
    (repo / ".pre-commit-config.yaml").write_text(config)
    (repo / "helper.py").write_text(KEEP_ALL_HELPER)
    (repo / "llama.py").write_text(CALLER_BEFORE)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "start", cwd=repo)
    return repo


def pre_commit(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    home = vllm_source.cache_dir() / "pre-commit"
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_a_changed_caller_fails_with_its_unchanged_helper(scratch: Path) -> None:
    (scratch / "llama.py").write_text(CALLER_AFTER)
    git("add", "llama.py", cwd=scratch)
    try:
        r = pre_commit(cwd=scratch)  # the staged files: llama.py alone
    finally:
        git("checkout", "-q", "HEAD", "--", "llama.py", cwd=scratch)
    out = r.stdout
    assert r.returncode == 1, out + r.stderr
    assert re.search(r"^eagerlint\.+Failed$", out, flags=re.M), out
    assert re.search(r"^llama\.py:6:\d+: EL004 ", out, flags=re.M), out
    # helper.py was not passed: its own keep is not reported.
    assert not re.search(r"^helper\.py:", out, flags=re.M), out
    assert "Found 1 error." in out


def test_the_hook_runs_once_for_all_files(scratch: Path) -> None:
    for n in range(6):
        (scratch / f"model{n}.py").write_text(fixable(n))
    git("add", "-A", cwd=scratch)
    try:
        r = pre_commit("eagerlint", "--all-files", cwd=scratch)
    finally:
        git("reset", "-q", "--hard", "HEAD", cwd=scratch)
    out = r.stdout
    assert r.returncode == 1, out + r.stderr
    # Serial: one process, one summary; batches in parallel would print one each.
    assert re.findall(r"^Found \d+ errors?\.", out, flags=re.M) == ["Found 7 errors."], out
    assert set(re.findall(r"^(\w+\.py):", out, flags=re.M)) == {
        "helper.py",
        *(f"model{n}.py" for n in range(6)),
    }


def test_the_fix_hook_rewrites_and_reports(scratch: Path) -> None:
    (scratch / "model.py").write_text(fixable(""))
    git("add", "model.py", cwd=scratch)
    try:
        r = pre_commit("--hook-stage", "manual", "eagerlint-fix", "--files", "model.py", cwd=scratch)
        fixed = (scratch / "model.py").read_text()
    finally:
        git("reset", "-q", "--hard", "HEAD", cwd=scratch)
        (scratch / "model.py").unlink(missing_ok=True)
    out = r.stdout
    assert r.returncode == 1, out + r.stderr
    assert re.search(r"^eagerlint \(fix\)\.+Failed$", out, flags=re.M), out
    assert "files were modified by this hook" in out
    assert "Found 1 error (1 fixed, 0 remaining)." in out
    assert fixed == fixable("").replace(
        "[self.permute(name, w) for name, w in weights]", "(self.permute(name, w) for name, w in weights)"
    )
