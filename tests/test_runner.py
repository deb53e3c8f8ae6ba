"""Findings and fixes do not depend on how a run is organised: serial or pooled,
cold or warm cache, one file at a time or the whole tree."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from eagerlint import runner
from eagerlint.cache import CACHE_DIR, Cache
from eagerlint.config import Settings
from eagerlint.model import FileResult
from eagerlint.pipeline import FixMode

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "tree"
    shutil.copytree(FIXTURES / "cross", root)
    for fixture in FIXTURES.glob("EL[0-9][0-9][0-9].py"):
        shutil.copy(fixture, root / fixture.name)
    (root / "clean.py").write_text("def f(x):\n    return [i for i in x]\n")
    monkeypatch.chdir(root)
    return root


def files(root: Path) -> list[Path]:
    return sorted(p.relative_to(root) for p in root.rglob("*.py"))


def summary(results: list[FileResult]) -> dict[str, list[tuple[str, int, int, str]]]:
    return {
        r.filename: [(f.code, f.location.row, f.location.column, f.message) for f in r.findings]
        for r in results
    }


def run(root: Path, **kwargs: object) -> list[FileResult]:
    results, _ = runner.run(files(root), Settings(root=root), FixMode.NONE, **kwargs)  # type: ignore[arg-type]
    return results


def test_serial_and_pooled_agree(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "POOL_THRESHOLD", 2)
    serial = run(tree, use_cache=False, jobs=1)
    pooled = run(tree, use_cache=False, jobs=2)
    assert summary(serial) == summary(pooled)
    assert sum(len(r.findings) for r in serial) > 20


@pytest.mark.parametrize("threshold", [2, 10_000], ids=["early pool used", "early pool not needed"])
@pytest.mark.parametrize("use_cache", [False, True], ids=["no cache", "cold cache"])
def test_a_pool_started_before_reading_changes_nothing(
    tree: Path, monkeypatch: pytest.MonkeyPatch, threshold: int, use_cache: bool
) -> None:
    for i in range(30):  # enough files for two workers (one per ten files to read)
        (tree / f"plain_{i}.py").write_text("x = 1\n")
    hour_ago = time.time() - 3600  # not "racy": a warm run knows the files by stat
    for path in tree.rglob("*.py"):
        os.utime(path, (hour_ago, hour_ago))
    serial = run(tree, use_cache=False, jobs=1)
    started: list[int] = []
    real = runner._started

    def spy(workers: int, init: runner.WorkerArgs) -> object:
        started.append(workers)
        return real(workers, init)

    monkeypatch.setattr(runner, "_started", spy)
    monkeypatch.setattr(runner, "EARLY_POOL", 1)
    monkeypatch.setattr(runner, "POOL_THRESHOLD", threshold)
    early = run(tree, use_cache=use_cache, jobs=2)
    assert started == [2]
    assert summary(early) == summary(serial)
    assert [r.filename for r in early] == [r.filename for r in serial]
    if use_cache:  # a warm run knows every file by stat: no pool is started for it
        warm = run(tree, use_cache=True, jobs=2)
        assert started == [2]
        assert summary(warm) == summary(serial)


def test_cold_and_warm_agree(tree: Path) -> None:
    cold = run(tree, use_cache=True, jobs=1)
    assert (tree / CACHE_DIR / ".gitignore").read_text().endswith("*\n")
    warm = run(tree, use_cache=True, jobs=1)
    assert summary(cold) == summary(warm)
    assert summary(cold) == summary(run(tree, use_cache=False, jobs=1))


def analyses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the files the runner analyses from now on."""
    calls: list[str] = []
    real = runner.check_bytes

    def counting(data: bytes, name: str, *args: object, **kwargs: object) -> FileResult:
        calls.append(name)
        return real(data, name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(runner, "check_bytes", counting)
    return calls


def test_warm_run_reads_results_from_the_cache(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run(tree, use_cache=True, jobs=1)
    calls = analyses(monkeypatch)
    run(tree, use_cache=True, jobs=1)
    assert calls == []


def test_a_changed_helper_in_another_file_invalidates_its_callers(tree: Path) -> None:
    model = Path("enginepkg/model.py")
    before = {
        f.location.row
        for r in run(tree, use_cache=True, jobs=1)
        if Path(r.filename) == model
        for f in r.findings
    }
    text = (tree / model).read_text().splitlines()
    row = next(i for i, line in enumerate(text, 1) if "split_by_prefix(weights, " in line)
    assert row in before  # split_by_prefix(...) drains
    helpers = tree / "enginepkg" / "loader_utils.py"
    # The helper now streams: its caller's cached finding must not survive.
    helpers.write_text(
        helpers.read_text().replace(
            "            inside.append((name, weight))", "            yield name, weight"
        )
    )
    after = {
        f.location.row
        for r in run(tree, use_cache=True, jobs=1)
        if Path(r.filename) == model
        for f in r.findings
    }
    assert row not in after


def test_one_file_at_a_time_agrees_with_the_whole_tree(tree: Path) -> None:
    whole = summary(run(tree, use_cache=False, jobs=1))
    for path in files(tree):
        if path.parent != Path("."):
            continue  # cross-module findings need their helpers in the run
        alone, _ = runner.run([path], Settings(root=tree), FixMode.NONE, use_cache=False, jobs=1)
        assert summary(alone) == {str(path): whole[str(path)]}


def age(root: Path, seconds: int = 3600) -> None:
    """Backdate every file, as if the tree was checked out an hour ago."""
    for path in root.rglob("*.py"):
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - seconds * 1_000_000_000))


def test_warm_run_reads_only_the_files_it_shows(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    age(tree)
    cold = run(tree, use_cache=True, jobs=1)
    reads: list[str] = []
    real = runner._read

    def counting(path: Path) -> object:
        reads.append(str(path))
        return real(path)

    monkeypatch.setattr(runner, "_read", counting)
    warm = run(tree, use_cache=True, jobs=1)
    assert summary(warm) == summary(cold)
    with_findings = sorted(r.filename for r in warm if r.findings)
    assert len(with_findings) > 5
    assert sorted(reads) == with_findings  # for their code frames; nothing else is read


def test_an_edited_file_is_read_and_checked_again(tree: Path) -> None:
    age(tree)
    before = summary(run(tree, use_cache=True, jobs=1))
    assert before["EL001.py"]
    (tree / "EL001.py").write_text("def load_weights(self, weights):\n    return self.loader.load(weights)\n")
    after = summary(run(tree, use_cache=True, jobs=1))
    assert after["EL001.py"] == []
    assert {k: v for k, v in after.items() if k != "EL001.py"} == {
        k: v for k, v in before.items() if k != "EL001.py"
    }


def test_an_edit_that_restores_size_and_mtime_is_seen(tree: Path) -> None:
    # `cp -p`, `touch -r` and archives can set an old mtime back: ctime still moves.
    age(tree)
    path = tree / "EL001.py"
    before = summary(run(tree, use_cache=True, jobs=1))["EL001.py"]
    assert before
    text = path.read_text()
    st = path.stat()
    listed = 'renamed = [(n.replace("model.", ""), w) for n, w in weights]'
    assert listed in text
    path.write_text(text.replace(listed, "renamed = " + "(" + listed[11:-1] + ")"))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns
    assert summary(run(tree, use_cache=True, jobs=1))["EL001.py"] != before


def test_files_modified_within_the_racy_window_are_not_remembered_by_stat(tree: Path) -> None:
    cache = Cache(tree, Settings(root=tree), time.time_ns())
    fresh, old = str(tree / "EL001.py"), str(tree / "EL002.py")
    st = os.stat(old)
    os.utime(old, ns=(st.st_atime_ns, st.st_mtime_ns - 10 * 1_000_000_000))
    for path in (fresh, old):
        _, stat = cache.lookup(path)
        cache.remember(path, stat, "digest", True)
    assert set(cache.known) == {old}


def test_a_module_that_appears_later_invalidates_results_that_missed_it(tree: Path) -> None:
    helpers = tree / "enginepkg" / "loader_utils.py"
    moved = tree.parent / "loader_utils.py"
    helpers.rename(moved)
    run(tree, use_cache=True, jobs=1)
    moved.rename(helpers)
    assert summary(run(tree, use_cache=True, jobs=1)) == summary(run(tree, use_cache=False, jobs=1))


def test_a_file_alone_is_judged_as_in_the_whole_run_cached_or_not(tree: Path) -> None:
    # Its helpers are read from the project root although they are not in the run.
    model = Path("enginepkg/model.py")
    alone, _ = runner.run([model], Settings(root=tree), FixMode.NONE, use_cache=True, jobs=1)
    whole = summary(run(tree, use_cache=True, jobs=1))
    assert whole[str(model)] and whole == summary(run(tree, use_cache=False, jobs=1))
    assert summary(alone) == {str(model): whole[str(model)]}
    again, _ = runner.run([model], Settings(root=tree), FixMode.NONE, use_cache=True, jobs=1)
    assert summary(again) == summary(alone)


def test_a_cached_result_names_the_file_as_this_run_spells_it(tree: Path) -> None:
    run(tree, use_cache=True, jobs=1)
    spelled = [tree / p for p in files(tree)]
    results, _ = runner.run(spelled, Settings(root=tree), FixMode.NONE, use_cache=True, jobs=1)
    assert [r.filename for r in results] == [str(p) for p in spelled]
    assert all(f.filename == r.filename for r in results for f in r.findings)


def test_entries_of_deleted_files_are_dropped(tree: Path) -> None:
    age(tree)
    run(tree, use_cache=True, jobs=1)
    gone = tree / "EL001.py"
    cache = Cache(tree, Settings(root=tree), time.time_ns())
    assert str(gone) in cache.entries and str(gone) in cache.known
    gone.unlink()
    (tree / "EL002.py").write_text((tree / "EL002.py").read_text() + "\n")  # something to save
    run(tree, use_cache=True, jobs=1)
    cache = Cache(tree, Settings(root=tree), time.time_ns())
    assert str(gone) not in cache.entries and str(gone) not in cache.known
    assert str(tree / "EL003.py") in cache.entries


@pytest.mark.parametrize("mode", [FixMode.SAFE, FixMode.UNSAFE])
def test_a_warm_fix_analyses_only_the_files_with_a_fix_to_apply(
    tree: Path, mode: FixMode, monkeypatch: pytest.MonkeyPatch
) -> None:
    age(tree)
    cold, _ = runner.run(files(tree), Settings(root=tree), mode, use_cache=False, jobs=1)
    run(tree, use_cache=True, jobs=1)  # a check fills the cache
    analysed = analyses(monkeypatch)
    warm, _ = runner.run(files(tree), Settings(root=tree), mode, use_cache=True, jobs=1)
    # The same results, fixed text included, from analysing only what has a fix to apply.
    assert [(r.filename, r.findings, r.fixed_source) for r in warm] == [
        (r.filename, r.findings, r.fixed_source) for r in cold
    ]
    fixable = sorted(
        r.filename
        for r in cold
        if any(f.fix and mode.allows(f.fix.applicability) for f in r.findings) or r.fixed_source
    )
    assert sorted(analysed) == fixable and 0 < len(fixable) < len([r for r in cold if r.findings])
