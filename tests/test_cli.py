"""The command line, through a real subprocess: exit codes, formats, fixing, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

LLAMA = """\
class CausalLM:
    def load_weights(self, weights):
        loader = AutoWeightsLoader(self)
        weights = [self.permute(name, w) for name, w in weights]
        return loader.load_weights(weights)

    def permute(self, name, w):
        return name, w.transpose(0, 1)
"""
CLEAN = "def f(x):\n    return [i for i in x]\n"


def eagerlint(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    return subprocess.run(
        [sys.executable, "-m", "eagerlint", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "llama.py").write_text(LLAMA)
    (tmp_path / "pkg" / "clean.py").write_text(CLEAN)
    return tmp_path


def test_findings_exit_1_and_concise_format(project: Path) -> None:
    r = eagerlint("check", "--output-format", "concise", cwd=project)
    assert r.returncode == 1, r.stderr
    assert "pkg/llama.py:4:19: EL001 [*] List comprehension" in r.stdout
    assert "Found 1 error." in r.stdout


def test_clean_tree_exits_0(project: Path) -> None:
    r = eagerlint("check", "pkg/clean.py", cwd=project)
    assert r.returncode == 0
    assert "All checks passed!" in r.stdout


def test_bare_form_means_check(project: Path) -> None:
    r = eagerlint("--output-format", "concise", "pkg", cwd=project)
    assert r.returncode == 1 and "EL001" in r.stdout


def test_exit_zero(project: Path) -> None:
    assert eagerlint("check", "--exit-zero", cwd=project).returncode == 0


def test_json_contract(project: Path) -> None:
    r = eagerlint("check", "--output-format", "json", cwd=project)
    data = json.loads(r.stdout)
    assert len(data) == 1
    item = data[0]
    assert {"code", "name", "message", "filename", "location", "end_location", "fix", "flow"} <= set(item)
    assert item["code"] == "EL001" and item["name"] == "weights-comprehension"
    assert item["filename"] == "pkg/llama.py"
    assert item["location"] == {"row": 4, "column": 19}
    assert item["end_location"] == {"row": 4, "column": 65}
    assert item["fix"]["applicability"] == "safe"
    assert item["fix"]["edits"] == [
        {"content": "(", "location": {"row": 4, "column": 19}, "end_location": {"row": 4, "column": 20}},
        {"content": ")", "location": {"row": 4, "column": 64}, "end_location": {"row": 4, "column": 65}},
    ]
    assert [s["row"] for s in item["flow"]] == [2, 4]
    assert all(set(s) == {"filename", "row", "column", "note"} for s in item["flow"])


def test_diff_writes_nothing(project: Path) -> None:
    r = eagerlint("check", "--diff", cwd=project)
    assert r.returncode == 1
    assert "-        weights = [self.permute(name, w) for name, w in weights]" in r.stdout
    assert "+        weights = (self.permute(name, w) for name, w in weights)" in r.stdout
    assert (project / "pkg" / "llama.py").read_text() == LLAMA


def test_fix_rewrites_then_second_run_is_clean(project: Path) -> None:
    r = eagerlint("check", "--fix", cwd=project)
    assert r.returncode == 0, r.stdout + r.stderr  # everything was fixed (ruff's exit code)
    assert "Found 1 error (1 fixed, 0 remaining)." in r.stdout
    assert (
        "weights = (self.permute(name, w) for name, w in weights)"
        in (project / "pkg" / "llama.py").read_text()
    )
    again = eagerlint("check", "--fix", cwd=project)
    assert again.returncode == 0 and "All checks passed!" in again.stdout


def test_fix_keeps_crlf_and_encoding(tmp_path: Path) -> None:
    source = "# -*- coding: latin-1 -*-\n# caf\xe9\n" + LLAMA
    path = tmp_path / "m.py"
    path.write_bytes(source.replace("\n", "\r\n").encode("latin-1"))
    assert eagerlint("check", "--fix", "--exit-non-zero-on-fix", "m.py", cwd=tmp_path).returncode == 1
    data = path.read_bytes()
    assert b"caf\xe9" in data and b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    assert b"weights = (self.permute" in data


def test_stdin(project: Path) -> None:
    r = eagerlint(
        "check", "-", "--stdin-filename", "x/llama.py", "--output-format", "concise", cwd=project, stdin=LLAMA
    )
    assert r.returncode == 1 and r.stdout.startswith("x/llama.py:4:19: EL001")
    fixed = eagerlint("check", "-", "--fix", cwd=project, stdin=LLAMA)
    assert "weights = (self.permute(name, w) for name, w in weights)" in fixed.stdout
    # What remains goes to stderr, as ruff does: here nothing, said so.
    assert fixed.returncode == 0 and "Found 1 error (1 fixed, 0 remaining)." in fixed.stderr, fixed.stderr
    kept = "def load_weights(self, weights):\n    return list(weights)\n"
    left = eagerlint("check", "-", "--fix", "--output-format", "concise", cwd=project, stdin=kept)
    assert left.returncode == 1 and left.stdout == kept
    assert left.stderr.startswith("-:2:12: EL002"), left.stderr


def test_missing_path_is_an_error_but_others_are_checked(project: Path) -> None:
    r = eagerlint("check", "nope.py", "pkg", "--output-format", "concise", cwd=project)
    assert r.returncode == 2
    assert "nope.py" in r.stderr and "Traceback" not in r.stderr
    assert "EL001" in r.stdout


def test_syntax_error_is_one_line(project: Path) -> None:
    (project / "pkg" / "broken.py").write_text("def load_weights(self, weights):\n    return [\n")
    r = eagerlint("check", "pkg", "--output-format", "concise", cwd=project)
    assert r.returncode == 2
    errors = [line for line in r.stderr.splitlines() if "broken.py" in line]
    assert len(errors) == 1 and "syntax error" in errors[0]
    assert "Traceback" not in r.stderr and "EL001" in r.stdout


def test_undecodable_file(project: Path) -> None:
    (project / "pkg" / "bad.py").write_bytes(b"def load_weights(self, weights):\n    x = '\xff\xfe'\n")
    r = eagerlint("check", "pkg/bad.py", cwd=project)
    assert r.returncode == 2 and "bad.py" in r.stderr and "Traceback" not in r.stderr


def test_unreadable_file(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Root reads every file, so the permission error is simulated in-process.
    from eagerlint import cli

    real = Path.read_bytes

    def deny(self: Path) -> bytes:
        if self.name == "llama.py":
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.chdir(project)
    monkeypatch.setattr(Path, "read_bytes", deny)
    assert cli.main(["check", "pkg"]) == 2
    err = capsys.readouterr().err
    assert "pkg/llama.py: read error: Permission denied" in err


def test_unknown_option_is_a_usage_error(project: Path) -> None:
    r = eagerlint("check", "--frobnicate", cwd=project)
    assert r.returncode == 2 and "unrecognized arguments: --frobnicate" in r.stderr


def test_unknown_selector(project: Path) -> None:
    r = eagerlint("check", "--select", "XX9", cwd=project)
    assert r.returncode == 2 and "unknown rule selector `XX9`" in r.stderr


def test_select_and_ignore(project: Path) -> None:
    assert eagerlint("check", "--select", "EL002", cwd=project).returncode == 0
    assert eagerlint("check", "--ignore", "EL001", cwd=project).returncode == 0
    assert eagerlint("check", "--select", "EL", "--ignore", "EL002", cwd=project).returncode == 1


def test_statistics(project: Path) -> None:
    r = eagerlint("check", "--statistics", cwd=project)
    assert r.stdout.splitlines()[0] == "1\tEL001\t[*] weights-comprehension"


def test_quiet(project: Path) -> None:
    r = eagerlint("check", "--quiet", "--output-format", "concise", cwd=project)
    assert r.stdout.strip().splitlines() == [
        "pkg/llama.py:4:19: EL001 [*] List comprehension materializes the whole weight stream: "
        "the whole checkpoint sits in host RAM at once, once per tensor-parallel worker"
    ]


def test_show_flow(project: Path) -> None:
    r = eagerlint("check", "--show-flow", cwd=project)
    assert "1. pkg/llama.py:2:28: load_weights parameter `weights` of load_weights()" in r.stdout


def test_rule_docs(project: Path) -> None:
    one = eagerlint("rule", "EL003", cwd=project)
    assert one.returncode == 0 and one.stdout.startswith("# weights-drain-loop (EL003)")
    assert "## Fix safety" in one.stdout
    every = eagerlint("rule", "--all", cwd=project)
    assert all(code in every.stdout for code in ("EL001", "EL002", "EL003", "EL004"))
    assert eagerlint("rule", "EL999", cwd=project).returncode == 2


def test_no_cache_is_accepted(project: Path) -> None:
    assert eagerlint("check", "--no-cache", cwd=project).returncode == 1


def test_unsafe_fixes_only_with_flag(tmp_path: Path) -> None:
    src = (
        "class M:\n    def load_weights(self, weights):\n"
        "        ws = [w for w in weights]\n        self.custom(ws)\n"
    )
    (tmp_path / "m.py").write_text(src)
    r = eagerlint("check", "--fix", "m.py", cwd=tmp_path)
    assert r.returncode == 1 and (tmp_path / "m.py").read_text() == src
    assert "1 hidden fix can be enabled with `--unsafe-fixes`." in r.stdout
    # With --unsafe-fixes, --fix would apply it: marked and counted fixable (as ruff does).
    shown = eagerlint("check", "--unsafe-fixes", "--output-format", "concise", "m.py", cwd=tmp_path)
    assert "EL001 [*]" in shown.stdout and "[*] 1 fixable with the `--fix` option." in shown.stdout
    assert "hidden fix" not in shown.stdout
    eagerlint("check", "--fix", "--unsafe-fixes", "m.py", cwd=tmp_path)
    assert "ws = (w for w in weights)" in (tmp_path / "m.py").read_text()


def test_extend_select_turns_on_a_default_off_rule(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(
        "class M:\n"
        "    def load_weights(self, weights):\n"
        "        for name, w in weights:\n"
        "            if name.endswith('.bias'):\n"
        "                self.pending[name] = w\n"
    )
    assert eagerlint("check", "m.py", cwd=tmp_path).returncode == 0
    r = eagerlint("check", "m.py", "--extend-select", "EL010", "--output-format", "concise", cwd=tmp_path)
    assert (
        r.returncode == 1
        and "m.py:5:17: EL010 A view of a streamed tensor is kept in `self.pending`" in r.stdout
    )
    assert eagerlint("check", "m.py", "--select", "EL", cwd=tmp_path).returncode == 0
    assert eagerlint("check", "m.py", "--select", "EL010", cwd=tmp_path).returncode == 1


# -- issue 12, item 5: the command line's polish ------------------------------------


def test_no_all_checks_passed_after_an_error(project: Path) -> None:
    missing = eagerlint("check", "nope.py", "pkg/clean.py", cwd=project)
    assert missing.returncode == 2 and "All checks passed!" not in missing.stdout
    (project / "pkg" / "broken.py").write_text("def load_weights(self, weights):\n    return [\n")
    broken = eagerlint("check", "pkg/broken.py", "pkg/clean.py", cwd=project)
    assert broken.returncode == 2 and "syntax error" in broken.stderr
    assert "All checks passed!" not in broken.stdout


def test_singular_and_plural(project: Path) -> None:
    assert "Found 1 error.\n" in eagerlint("check", cwd=project).stdout
    (project / "pkg" / "second.py").write_text(LLAMA)
    assert "Found 2 errors.\n" in eagerlint("check", cwd=project).stdout
    assert "Found 2 errors (2 fixed, 0 remaining).\n" in eagerlint("check", "--fix", cwd=project).stdout


def test_findings_are_sorted_by_path_line_and_column_whatever_the_argument_order(project: Path) -> None:
    (project / "pkg" / "a.py").write_text(LLAMA + "\n\n" + LLAMA.replace("CausalLM", "Other"))
    one = eagerlint("check", "pkg/llama.py", "pkg/a.py", "--output-format", "concise", cwd=project)
    other = eagerlint("check", "pkg/a.py", "pkg/llama.py", "--output-format", "concise", cwd=project)
    heads = [line.split(": ")[0] for line in one.stdout.splitlines() if ": EL" in line]
    assert heads == ["pkg/a.py:4:19", "pkg/a.py:14:19", "pkg/llama.py:4:19"]
    assert one.stdout == other.stdout


@pytest.mark.parametrize(
    ("flag", "env", "coloured"),
    [
        ("always", {}, True),
        ("never", {"FORCE_COLOR": "1"}, False),
        ("auto", {}, False),  # a pipe is no terminal
        ("auto", {"FORCE_COLOR": "1"}, True),
        ("auto", {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),
    ],
)
def test_colour(
    project: Path, flag: str, env: dict[str, str], coloured: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    r = eagerlint("check", "--color", flag, cwd=project)
    assert ("\033[" in r.stdout) is coloured
    if coloured:
        assert "\033[1m\033[31mEL001\033[0m" in r.stdout
    json_out = eagerlint("check", "--color", flag, "--output-format", "json", cwd=project)
    assert "\033[" not in json_out.stdout


@pytest.mark.parametrize(("flag", "coloured"), [("auto", False), ("always", True)])
def test_a_report_file_gets_colour_only_when_asked(
    project: Path, flag: str, coloured: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # FORCE_COLOR (set in CI for its logs) wrote escape codes into the -o file.
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    r = eagerlint("check", "--color", flag, "-o", "report.txt", cwd=project)
    written = (project / "report.txt").read_text()
    assert r.returncode == 1 and "pkg/llama.py" in written
    assert ("\033[" in written) is coloured


def test_colour_on_a_terminal(project: Path) -> None:
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # the child: eagerlint with its output on the terminal
        os.chdir(project)
        os.environ.pop("NO_COLOR", None)
        os.environ.pop("FORCE_COLOR", None)
        os.environ["TERM"] = "xterm"
        os.environ["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
        os.execv(sys.executable, [sys.executable, "-m", "eagerlint", "check"])
    out = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.waitpid(pid, 0)
    assert b"\033[1m\033[31mEL001\033[0m" in out


def test_each_file_takes_its_nearest_configuration(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.eagerlint]\nselect = ["EL"]\n')
    sub = project / "pkg" / "sub"
    sub.mkdir()
    (sub / "llama.py").write_text(LLAMA)
    (sub / "pyproject.toml").write_text('[tool.eagerlint]\nignore = ["EL001"]\n')
    other = project / "other"
    other.mkdir()
    (other / "llama.py").write_text(LLAMA)
    (other / "skipped").mkdir()
    (other / "skipped" / "llama.py").write_text(LLAMA)
    (other / "eagerlint.toml").write_text('extend-exclude = ["skipped/"]\n')
    for args in (("check",), ("check", "pkg/sub/llama.py", "pkg/llama.py", "other")):
        r = eagerlint(*args, "--output-format", "concise", cwd=project)
        files = {line.split(":")[0] for line in r.stdout.splitlines() if ": EL" in line}
        assert files == {"pkg/llama.py", "other/llama.py"}, r.stdout
    # From inside the subproject, and with --config, which settles every file.
    assert eagerlint("check", cwd=sub).returncode == 0
    forced = eagerlint("check", "--config", "pyproject.toml", "--output-format", "concise", cwd=project)
    assert "pkg/sub/llama.py:4:19: EL001" in forced.stdout


def test_a_broken_nested_configuration_is_an_error(project: Path) -> None:
    sub = project / "pkg" / "sub"
    sub.mkdir()
    (sub / "llama.py").write_text(LLAMA)
    (sub / "pyproject.toml").write_text("[tool.eagerlint\n")
    r = eagerlint("check", "--output-format", "concise", cwd=project)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    errors = [line for line in r.stderr.splitlines() if "pyproject.toml" in line]
    assert len(errors) == 1 and "invalid TOML" in errors[0]
    assert "pkg/llama.py:4:19: EL001" in r.stdout  # the rest is still checked


def test_statistics_as_json(project: Path) -> None:
    r = eagerlint("check", "--statistics", "--output-format", "json", cwd=project)
    assert json.loads(r.stdout) == [
        {"code": "EL001", "name": "weights-comprehension", "count": 1, "fixable": True}
    ]


@pytest.mark.parametrize("form", ["sarif", "github"])
def test_statistics_in_a_format_that_cannot_hold_them(project: Path, form: str) -> None:
    # They were printed as text under a SARIF or GitHub request; ruff refuses it.
    r = eagerlint("check", "--statistics", "--output-format", form, cwd=project)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.strip() == (
        f"eagerlint: error: --statistics cannot be written as {form}"
        " (it can as full, concise, json, json-lines)"
    )


def test_a_path_with_no_python_files_is_warned_of(tmp_path: Path) -> None:
    # "All checks passed!" alone for a folder of no Python files hid a mistyped path.
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.txt").write_text("x = [w for w in weights]\n")
    r = eagerlint("check", "docs", cwd=tmp_path)
    assert r.returncode == 0
    assert r.stderr == "eagerlint: warning: No Python files found under the given path(s)\n"
    quiet = eagerlint("check", "-q", "docs", cwd=tmp_path)
    assert quiet.returncode == 0 and quiet.stderr == ""
    (tmp_path / "docs" / "a.py").write_text("x = 1\n")
    assert eagerlint("check", "docs", cwd=tmp_path).stderr == ""  # a file without weights is a file


def test_show_fixes(project: Path) -> None:
    (project / "pkg" / "second.py").write_text(LLAMA)
    r = eagerlint("check", "--fix", "--show-fixes", cwd=project)
    assert r.returncode == 0
    assert (
        "Fixed 2 errors:\n"
        "- pkg/llama.py:\n    1 \N{MULTIPLICATION SIGN} EL001 (weights-comprehension)\n"
        "- pkg/second.py:\n    1 \N{MULTIPLICATION SIGN} EL001 (weights-comprehension)\n"
    ) in r.stdout


def test_extend_select_adds_to_the_configured_selection(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.eagerlint]\nselect = ["EL002"]\n')
    assert eagerlint("check", cwd=project).returncode == 0
    assert eagerlint("check", "--extend-select", "EL001", cwd=project).returncode == 1
    bad = eagerlint("check", "--extend-select", "XX1", cwd=project)
    assert bad.returncode == 2 and "--extend-select" in bad.stderr


def test_exit_non_zero_on_fix(project: Path) -> None:
    assert eagerlint("check", "--fix", "--exit-non-zero-on-fix", cwd=project).returncode == 1
    # Nothing left to rewrite: 0 either way.
    assert eagerlint("check", "--fix", "--exit-non-zero-on-fix", cwd=project).returncode == 0


def test_a_mistyped_command_is_an_error_with_a_suggestion(project: Path) -> None:
    r = eagerlint("chek", cwd=project)
    assert r.returncode == 2
    assert r.stderr.strip() == "eagerlint: error: unknown command `chek` (did you mean `check`?)"
    (project / "chek").mkdir()  # a folder of that name is a path
    assert eagerlint("chek", cwd=project).returncode == 0
    # A word that looks like a path is one, even when it is missing.
    missing = eagerlint("chec.py", cwd=project)
    assert missing.returncode == 2 and "chec.py" in missing.stderr and "did you mean" not in missing.stderr


def test_help_lists_formats_exit_codes_and_the_rules(project: Path) -> None:
    for args in (("--help",), ("check", "--help")):
        r = eagerlint(*args, cwd=project)
        assert r.returncode == 0
        assert "full, concise, json" in r.stdout and "sarif" in r.stdout
        assert "exit codes:" in r.stdout and "  2  a usage or configuration error" in r.stdout
        assert "eagerlint rule --all" in r.stdout


def test_stdin_takes_the_config_and_imports_of_the_file_it_names(tmp_path: Path) -> None:
    # ruff's convention: --stdin-filename settles the configuration (the nearest one
    # above that file, not the current folder's), and the file's imports resolve in
    # the tree around it, as they would for the file on disk.
    pkg = tmp_path / "sub" / "pkg"
    pkg.mkdir(parents=True)
    (tmp_path / "sub" / "pyproject.toml").write_text('[tool.eagerlint]\nignore = ["EL001"]\n')
    (pkg / "__init__.py").write_text("")
    (pkg / "helpers.py").write_text("def keep_all(items):\n    return list(items)\n")
    source = (
        "from pkg.helpers import keep_all\n\n\n"
        "class M:\n"
        "    def load_weights(self, weights):\n"
        "        kept = keep_all(weights)\n"
        "        return self.loader.load_weights(kept)\n"
    )
    named = eagerlint(
        "check",
        "-",
        "--stdin-filename",
        "sub/pkg/m.py",
        "--output-format",
        "concise",
        "--select",
        "EL001,EL004",
        cwd=tmp_path,
        stdin=source,
    )
    assert "sub/pkg/m.py:6:16: EL004" in named.stdout, named.stdout + named.stderr
    ignored = eagerlint(
        "check",
        "-",
        "--stdin-filename",
        "sub/pkg/m.py",
        "--output-format",
        "concise",
        cwd=tmp_path,
        stdin=LLAMA,
    )
    assert ignored.returncode == 0 and "EL001" not in ignored.stdout, ignored.stdout
    # Without a name, the current folder's settings (none here): EL001 is reported.
    unnamed = eagerlint("check", "-", "--output-format", "concise", cwd=tmp_path, stdin=LLAMA)
    assert unnamed.returncode == 1 and "EL001" in unnamed.stdout


@pytest.fixture
def gc_thresholds() -> Iterator[None]:
    import gc

    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


@pytest.mark.usefixtures("gc_thresholds")
def test_as_a_program_it_collects_cycles_less_often(monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    from eagerlint import cli

    gc.set_threshold(700, 10, 10)
    assert cli.main(["rule", "EL001"]) == 0  # called by another program: its collector is its own
    assert gc.get_threshold() == (700, 10, 10)
    monkeypatch.setattr(sys, "argv", ["eagerlint", "rule", "EL001"])
    assert cli.main() == 0
    assert gc.get_threshold() == (200_000, 30, 30)


@pytest.mark.parametrize("where", [".", ""])
def test_a_configuration_warns_once_however_its_folder_is_named(tmp_path: Path, where: str) -> None:
    # The current folder's configuration, reached again as `.` while the tree is walked.
    (tmp_path / "pyproject.toml").write_text("[tool.eagerlint]\nfrobnicate = 1\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text("def load_weights(self, weights):\n    return list(weights)\n")
    done = eagerlint("check", "--exit-zero", *([where] if where else []), cwd=tmp_path)
    warnings = [line for line in done.stderr.splitlines() if "unknown key `frobnicate`" in line]
    assert len(warnings) == 1, done.stderr
