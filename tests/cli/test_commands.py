"""The commands layer: one table of commands shared by ``nbops`` and ``%nbops``, one table of exit
codes (documented in docs/cli.md), one mapping of errors to messages and exit codes."""
from __future__ import annotations

import ast
import io
import re
from dataclasses import replace

import pytest
from conftest import ROOT, Repo

from kernel_ext.commands.failure import message, report
from kernel_ext.commands.registry import COMMANDS
from kernel_ext.errors import ConfigError, ExitCode, InvalidError, NbopsError, Problem, UsageError


def _exit_code_rows() -> dict[int, str]:
    text = (ROOT / "docs" / "cli.md").read_text()
    section = text[text.index("## Exit codes"):]
    section = section[:section.index("\n## ", 1)]
    return {int(code): name for code, name in re.findall(r"^\| (\d+) \| `(\w+)` \|", section, re.MULTILINE)}


def test_the_docs_list_exactly_the_exit_codes() -> None:
    assert _exit_code_rows() == {int(code): code.name for code in ExitCode}


def test_every_command_is_documented() -> None:
    text = (ROOT / "docs" / "cli.md").read_text()
    assert [name for name in COMMANDS if f"## `nbops {name}`" not in text] == []


@pytest.mark.parametrize("package", ["lab", "catalog"])
def test_the_lab_and_the_plugin_import_no_cli_module(package: str) -> None:
    for path in (ROOT / "kernel_ext" / package).glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [f"{'.' * node.level}{node.module or ''}.{alias.name}" for alias in node.names]
                assert not any(re.search(r"(^|\.)cli(_\w+)?(\.|$)", n) for n in names), (path, names)
            elif isinstance(node, ast.Import):
                assert not any(re.search(r"\bcli\b", alias.name) for alias in node.names), path


def test_errors_are_one_tree_with_their_exit_codes() -> None:
    from kernel_ext.adapters.git import PushRejected
    from kernel_ext.core.yamlsafe import YamlProblem

    assert issubclass(YamlProblem, InvalidError) and YamlProblem(Problem("bad")).exit_code is ExitCode.INVALID
    assert issubclass(UsageError, ConfigError) and UsageError("x").exit_code is ExitCode.USAGE
    rejected = PushRejected("push to origin/main rejected: fetch first", branch="main", reason="fetch first",
                            hint="nbops sync, then push again")
    assert isinstance(rejected, NbopsError) and rejected.exit_code is ExitCode.REJECTED


def test_one_mapping_of_errors_to_messages_and_exit_codes() -> None:
    err = io.StringIO()
    assert report(NbopsError("no run history yet", hint="run one"), err) == 1
    assert err.getvalue() == "error: no run history yet\n    hint: run one\n"
    invalid = InvalidError("a.yml", [Problem("bad id", "id", line=2)])
    assert message(invalid) == "a.yml (line 2): id: bad id" and invalid.exit_code == 3


def test_runs_target_is_required_in_a_terminal_only(capsys: pytest.CaptureFixture[str]) -> None:
    from kernel_ext.cli import main
    from kernel_ext.lab.linemagic import parse

    with pytest.raises(SystemExit) as exited:
        main(["run", "-p", "x=1"])
    assert exited.value.code == ExitCode.USAGE and "required: NOTEBOOK|FLOW_ID" in capsys.readouterr().err
    args, default_target = parse("run -p x=1")
    assert default_target and args.target is None


def test_a_line_magic_shows_an_error_as_nbops_does_with_its_exit_code(
        repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from kernel_ext.adapters.git import PushRejected
    from kernel_ext.commands import registry
    from kernel_ext.lab.linemagic import nbops_line

    def rejected(project: object, args: object, out: object) -> int:
        raise PushRejected("push to origin/main rejected: fetch first", branch="main", reason="fetch first",
                           hint="nbops sync, then push again")

    monkeypatch.setitem(registry.COMMANDS, "push", replace(registry.COMMANDS["push"], handler=rejected))
    nbops_line(None, f"--notebook {repo.nb('a.ipynb', 'labels: {a: b}')} push")
    assert capsys.readouterr().err == ("error: push to origin/main rejected: fetch first\n"
                                       "    hint: nbops sync, then push again\n"
                                       "(exit code 7, as `nbops push` would return)\n")
