"""`nbops export` through the CLI in real temp Git repositories: conversion and bad input."""
from __future__ import annotations

import json
import shlex

import pytest
import yaml

from conftest import ROOT, Repo, write_notebook
from kernel_ext.core.tasks import PARAMS_TO_YAML


def flow_of(repo: Repo, relative: str) -> dict:
    return yaml.safe_load((repo.root / "_flows" / relative).read_text())


def test_a_notebook_with_only_parameters_is_a_flow(repo: Repo) -> None:
    repo.nb("Daily Sales-Report.ipynb", params="day = '2024-01-01'  # the day\n", title="# Daily sales\n\nHow we sold.")
    result = repo.cli("export")
    assert result.code == 0, result.err
    flow = flow_of(repo, "daily_sales_report.yml")
    assert flow["id"] == "daily_sales_report" and flow["namespace"] == "acme.data"
    assert flow["description"] == "# Daily sales\n\nHow we sold."
    assert flow["inputs"] == [{"id": "day", "type": "DATE", "description": "the day", "defaults": "2024-01-01"}]


def test_sub_folders_are_child_namespaces_and_sub_folders_of_flows(repo: Repo) -> None:
    repo.nb("finance/eu/monthly.ipynb", "id: monthly_eu\n")
    assert repo.cli("export").code == 0
    assert flow_of(repo, "finance/eu/monthly_eu.yml")["namespace"] == "acme.data.finance.eu"


def test_parameters_reach_papermill_through_a_json_file_never_the_shell(repo: Repo) -> None:
    repo.nb("evil.ipynb", params="name = \"x'; rm -rf / #\"  # $(reboot)\n")
    assert repo.cli("export").code == 0
    task = flow_of(repo, "evil.yml")["tasks"][0]
    convert, papermill = task["commands"]
    for command in (convert, papermill):
        assert "rm -rf" not in command and "reboot" not in command and "inputs" not in command
    assert shlex.split(convert) == ["python", "-c", PARAMS_TO_YAML]  # params.json, read as JSON, for papermill
    assert "--parameters_file params.yaml" in papermill
    assert task["inputFiles"]["params.json"] == '{"name": {{ (inputs.name ?? null) | toJson }}}'


def test_header_keys_become_kestra_keys(repo: Repo) -> None:
    header = ("schedule: '0 6 * * *'\ntimezone: Europe/Paris\nafter: ingest\nlabels: {team: a}\n"
              "timeout: PT1H\nretry: {type: constant, interval: PT1M, maxAttempt: 2}\nrequirements: [pandas>=2]\n"
              "outputs: {rows: INT}\nkestra: {disabled: true}\n")
    repo.nb("report.ipynb", header)
    assert repo.cli("export").code == 0, repo.cli("export").err
    flow = flow_of(repo, "report.yml")
    task = flow["tasks"][0]
    assert [t["id"] for t in flow["triggers"]] == ["schedule", "upstream"]
    assert flow["triggers"][1]["preconditions"]["flows"][0] == {"namespace": "acme.data", "flowId": "ingest",
                                                                "states": ["SUCCESS"]}
    assert task["timeout"] == "PT1H" and task["retry"]["maxAttempt"] == 2
    assert "pandas>=2" in task["inputFiles"]["requirements.txt"]
    assert flow["outputs"] == [{"id": "rows", "type": "INT", "value": "{{ outputs.run_notebook.vars.rows }}"}]
    assert flow["labels"] == {"team": "a"} and flow["disabled"] is True


def test_missing_skip_tags_are_added_and_reported(repo: Repo) -> None:
    path = write_notebook(repo.root / "notebooks" / "untagged.ipynb", [
        ("code", "%load_ext kernel_ext", []), ("code", "%%flow\nid: untagged\n", []),
        ("code", "x = 1", ["parameters"])])
    result = repo.cli("export")
    assert result.code == 0 and "tagged notebooks/untagged.ipynb cells [0, 1]" in result.out
    cells = json.loads(path.read_text())["cells"]
    assert cells[0]["metadata"]["tags"] == ["skip-execution"] == cells[1]["metadata"]["tags"]
    assert repo.cli("check").code == 0


def test_files_hidden_or_underscored_are_not_flows(repo: Repo) -> None:
    repo.nb("_helper.ipynb")
    repo.nb(".ipynb_checkpoints/a-checkpoint.ipynb")
    repo.nb("real.ipynb")
    assert repo.cli("export").code == 0
    assert list(repo.files()) == ["_flows/real.yml"]


def _assert_nothing_written(repo: Repo, before: dict[str, bytes], notebooks: dict[str, bytes]) -> None:
    assert repo.files() == before
    assert repo.files("notebooks") == notebooks


BAD_HEADERS = [
    ("id: [\n", "invalid YAML", 2),
    ("schedul: '0 6 * * *'\n", "unknown key 'schedul' (did you mean 'schedule'?)", 2),
    ("id: ../x\n", "'../x' is not valid", 2),
    ("id: a/b\n", "'a/b' is not valid", 2),
    ("id: /etc/passwd\n", "is not valid", 2),
    ("id: \"x\\ny\"\n", "is not valid", 2),
    ("id: -lead\n", "is not valid", 2),
    ("namespace: other.ns\n", "differs from 'acme.data'", 2),
    ("x: !!python/object/apply:os.system ['touch /tmp/pwned']\n", "is not allowed", 2),
    ("schedule: '0 25 * * *'\n", "not a valid cron", 2),
    ("steps: [../escape.ipynb]\n", "relative path inside", 2),
    ("steps: [missing.ipynb]\n", "was not found", 2),
    ("requirements: ['--index-url http://evil']\n", "not a package requirement", 2),
    ("inputs: {nope: {type: INT}}\n", "does not define", 2),
    ("timeout: 1h\n", "ISO-8601", 2),
]


@pytest.mark.parametrize("header,message,line", BAD_HEADERS, ids=[h[1][:30] for h in BAD_HEADERS])
def test_bad_headers_name_notebook_cell_and_field_and_write_nothing(repo: Repo, header: str, message: str,
                                                                    line: int) -> None:
    repo.nb("good.ipynb")
    repo.nb("bad.ipynb", header)
    before, notebooks = repo.files(), repo.files("notebooks")
    result = repo.cli("export")
    assert result.code == 3
    assert message in result.out
    assert "notebooks/bad.ipynb (cell 0" in result.out
    assert "nothing written" in result.out
    _assert_nothing_written(repo, before, notebooks)


def test_alias_bomb_in_a_header(repo: Repo) -> None:
    bomb = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{n}: &{n} [{','.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True))
    repo.nb("bomb.ipynb", bomb)
    result = repo.cli("export")
    assert result.code == 3 and "alias bomb" in result.out


def test_huge_header_is_refused(repo: Repo) -> None:
    repo.nb("huge.ipynb", "description: '" + "x" * 70_000 + "'\n")
    result = repo.cli("export")
    assert result.code == 3 and "larger than 64 KiB" in result.out


@pytest.mark.parametrize("text,message", [
    ('{"cells": [', "not valid notebook JSON"),
    ('{"nbformat": 3, "worksheets": []}', "nbformat 3"),
    ('{"nbformat": 4, "cells": [{"cell_type": "nope"}]}', "cell_type"),
    ('[1, 2]', "not an nbformat 4 notebook"),
    ('\xff\xfe', "not valid notebook JSON"),
])
def test_unreadable_notebooks(repo: Repo, text: str, message: str) -> None:
    (repo.root / "notebooks").mkdir()
    (repo.root / "notebooks" / "broken.ipynb").write_text(text, encoding="latin-1")
    result = repo.cli("export")
    assert result.code == 3 and "notebooks/broken.ipynb" in result.out
    assert message in result.out or "not UTF-8" in result.out


@pytest.mark.parametrize("cells,message", [
    ([("code", "%%flow\n", []), ("code", "%%flow\n", []), ("code", "x = 1", ["parameters"])], "2 %%flow cells"),
    ([("code", "x = 1", ["parameters"]), ("code", "y = 1", ["parameters"])], "2 cells tagged 'parameters'"),
    ([("code", "x = 1\nimport os\ny = os.getcwd()", ["parameters"])], "line 3"),
])
def test_cell_structure_problems(repo: Repo, cells: list, message: str) -> None:
    write_notebook(repo.root / "notebooks" / "nb.ipynb", cells)
    result = repo.cli("export")
    assert result.code == 3 and message in result.out and "(cell" in result.out


def test_two_notebooks_claiming_one_flow_both_named(repo: Repo) -> None:
    repo.nb("a.ipynb", "id: same\n")
    repo.nb("b.ipynb", "id: same\n")
    result = repo.cli("export")
    assert result.code == 3
    assert "notebooks/a.ipynb: id: flow acme.data.same is also claimed by notebooks/b.ipynb" in result.out
    assert "notebooks/b.ipynb: id: flow acme.data.same is also claimed by notebooks/a.ipynb" in result.out
    assert repo.files() == {}


def test_a_hand_written_flow_is_never_overwritten(repo: Repo) -> None:
    (repo.root / "_flows").mkdir()
    (repo.root / "_flows" / "mine.yml").write_text("id: mine\nnamespace: acme.data\ntasks: []\n")
    repo.nb("mine.ipynb")
    result = repo.cli("export")
    assert result.code == 3 and "is a hand-written flow" in result.out
    assert (repo.root / "_flows" / "mine.yml").read_text().startswith("id: mine")


def test_keep_going_writes_the_valid_ones_and_says_so(repo: Repo) -> None:
    repo.nb("good.ipynb")
    repo.nb("bad.ipynb", "id: ../x\n")
    result = repo.cli("export", "--keep-going")
    assert result.code == 3
    assert "1 written, 0 unchanged, 1 failed and skipped (--keep-going)" in result.out
    assert list(repo.files()) == ["_flows/good.yml"]


def test_dry_run_writes_nothing(repo: Repo) -> None:
    repo.nb("good.ipynb")
    result = repo.cli("export", "--dry-run")
    assert result.code == 0 and "would write _flows/good.yml" in result.out and repo.files() == {}
    assert "1 to write, 0 unchanged" in result.out


def test_export_of_explicit_paths(repo: Repo) -> None:
    repo.nb("a.ipynb")
    repo.nb("sub/b.ipynb")
    assert repo.cli("export", str(repo.root / "notebooks" / "sub")).code == 0
    assert list(repo.files()) == ["_flows/sub/b.yml"]
    outside = repo.root.parent / "outside.ipynb"
    outside.write_text("{}")
    result = repo.cli("export", str(outside))
    assert result.code == 2 and "is outside the repository" in result.err
    assert "no such file" in repo.cli("export", str(repo.root / "notebooks" / "nope.ipynb")).err
    assert "is outside the repository" in repo.cli("export", str(repo.root.parent)).err


def test_symlinked_notebook_leading_outside_is_refused(repo: Repo) -> None:
    target = write_notebook(repo.root.parent / "secret.ipynb", [("code", "x = 1", ["parameters"])])
    (repo.root / "notebooks").mkdir()
    (repo.root / "notebooks" / "link.ipynb").symlink_to(target)
    repo.nb("fine.ipynb")
    result = repo.cli("export")
    assert result.code == 3 and "notebooks/link.ipynb: is outside the repository" in result.out
    assert repo.files() == {}
    assert repo.cli("export", "--keep-going").code == 3 and list(repo.files()) == ["_flows/fine.yml"]


def test_json_output(repo: Repo) -> None:
    repo.nb("good.ipynb")
    repo.nb("bad.ipynb", "id: ../x\n")
    data = json.loads(repo.cli("export", "--json").out)
    assert data["aborted"] is True and data["written"] == []
    problem = data["failed"][0]["problems"][0]
    assert data["failed"][0]["notebook"] == "notebooks/bad.ipynb"
    assert problem["path"] == "id" and problem["cell"] == 0 and problem["line"] == 2


def test_optional_parameters_keep_their_default(repo: Repo) -> None:
    repo.nb("opt.ipynb", params="from typing import Optional\nregion: Optional[str] = 'eu'\nday: str | None = None\n")
    assert repo.cli("export").code == 0
    inputs = flow_of(repo, "opt.yml")["inputs"]
    assert inputs == [{"id": "region", "type": "STRING", "required": False, "defaults": "eu"},
                      {"id": "day", "type": "STRING", "required": False}]


def test_problem_lines_point_into_the_header_cell(repo: Repo) -> None:
    repo.nb("ns.ipynb", "labels: {a: b}\nnamespace: acme.other\n")
    result = repo.cli("export")
    assert "notebooks/ns.ipynb (cell 0, line 3): namespace: namespace 'acme.other' differs" in result.out


def test_kestra_passthrough_cannot_move_the_flow(repo: Repo) -> None:
    repo.nb("moved.ipynb", "kestra: {namespace: other.ns, disabled: true}\n")
    result = repo.cli("export")
    assert result.code == 3 and "kestra.namespace cannot be set" in result.out and repo.files() == {}


def test_only_real_imports_ship_the_outputs_helper_and_nbops_is_never_a_requirement(repo: Repo) -> None:
    """nbops is not published: a requirement of that name could not install, or install anyone's
    package. The helper travels with the task instead, as kernel_ext.py (kernel_ext/runtime.py)."""
    repo.nb("commented.ipynb", body="# import kernel_ext  (not used)\nprint(1)\n")
    repo.nb("imports.ipynb", body="from kernel_ext import output\noutput(rows=1)\n")
    assert repo.cli("export").code == 0
    commented, imports = (flow_of(repo, f"{n}.yml")["tasks"][0]["inputFiles"] for n in ("commented", "imports"))
    assert "kernel_ext.py" not in commented
    assert imports["kernel_ext.py"] == (ROOT / "kernel_ext" / "runtime.py").read_text(encoding="utf-8")
    for files in (commented, imports):
        assert "nbops" not in files["requirements.txt"].split()


def test_configured_requirements_add_to_papermill(repo: Repo) -> None:
    (repo.root / "pyproject.toml").write_text('[tool.nbops]\nnamespace = "acme.data"\nrequirements = ["pandas"]\n')
    repo.nb("r.ipynb", "requirements: [polars]\n")
    assert repo.cli("export").code == 0
    requirements = flow_of(repo, "r.yml")["tasks"][0]["inputFiles"]["requirements.txt"]
    from kernel_ext.core.requirements import RUNNER_PINS

    assert requirements == "".join(f"{r}\n" for r in (*RUNNER_PINS, "pandas", "polars"))


def test_explicit_step_notebooks_are_not_exported_as_flows(repo: Repo) -> None:
    repo.nb("_step.ipynb")
    result = repo.cli("export", str(repo.root / "notebooks" / "_step.ipynb"))
    assert result.code == 2 and "is not a flow notebook" in result.err and repo.files() == {}


def test_steps_hand_files_to_later_steps_through_kestra_outputs(repo: Repo) -> None:
    header = ("steps:\n  - {notebook: _a.ipynb, produces: [out/a.csv]}\n"
              "  - parallel: [{notebook: _b.ipynb, produces: [out/b.csv]}, _c.ipynb]\n  - _d.ipynb\n")
    repo.nb("pipe/main.ipynb", header, params="day = '2024-01-01'\n")
    for name in "abcd":
        repo.nb(f"pipe/_{name}.ipynb", params="day = '2024-01-01'\n")
    assert repo.cli("export").code == 0
    a, parallel, d = flow_of(repo, "pipe/main.yml")["tasks"]
    b, c = parallel["tasks"]
    assert a["outputFiles"] == ["a.output.ipynb", "out/a.csv"]
    assert b["inputFiles"]["out/a.csv"] == "{{ outputs.a.outputFiles['out/a.csv'] }}" == c["inputFiles"]["out/a.csv"]
    assert "out/b.csv" not in c["inputFiles"]  # same parallel group: not available yet
    assert d["inputFiles"]["out/b.csv"] == "{{ outputs.b.outputFiles['out/b.csv'] }}"


@pytest.mark.parametrize("produces", ["out/*.csv", "params.json", "../x.csv", "a'b.csv"])
def test_produced_files_must_be_plain_names(repo: Repo, produces: str) -> None:
    repo.nb("pipe/main.ipynb", f"steps:\n  - notebook: _a.ipynb\n    produces: [\"{produces}\"]\n")
    repo.nb("pipe/_a.ipynb")
    result = repo.cli("export")
    assert result.code == 3 and "steps:" in result.out


def test_untagged_step_notebooks_are_tagged_too(repo: Repo) -> None:
    repo.nb("pipe/main.ipynb", "steps: [_a.ipynb]\n")
    step = write_notebook(repo.root / "notebooks" / "pipe" / "_a.ipynb",
                          [("code", "%load_ext kernel_ext", []), ("code", "x = 1", ["parameters"])])
    (repo.root / "_flows").mkdir()
    assert repo.cli("export", "--dry-run").code == 0
    assert repo.cli("check").code == 4  # the flow is missing; the untagged step is reported as well
    assert "[untagged] notebooks/pipe/_a.ipynb" in repo.cli("check").out
    result = repo.cli("export")
    assert "tagged notebooks/pipe/_a.ipynb cells [0]" in result.out
    assert json.loads(step.read_text())["cells"][0]["metadata"]["tags"] == ["skip-execution"]
    assert repo.cli("check").code == 0


def test_input_keys_of_newer_kestra_are_kept(repo: Repo) -> None:
    repo.nb("new.ipynb", "inputs:\n  region:\n    type: SELECT\n    expression: \"{{ kv('regions') }}\"\n"
                         "  day:\n    prefill: '2024-01-02'\n", params="region = 'eu'\nday: str | None = None\n")
    assert repo.cli("export").code == 0, repo.cli("export").out
    region, day = flow_of(repo, "new.yml")["inputs"]
    assert region["expression"] == "{{ kv('regions') }}" and day["prefill"] == "2024-01-02"


def test_integer_bounds_must_be_numbers(repo: Repo) -> None:
    repo.nb("bounds.ipynb", "inputs: {n: {min: PT1M}}\n", params="n = 3\n")
    result = repo.cli("export")
    assert result.code == 3 and "inputs[0].min: expected a whole number" in result.out


def test_a_huge_notebook_is_refused_before_parsing(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    from kernel_ext.adapters import notebooks

    monkeypatch.setattr(notebooks, "MAX_NOTEBOOK_BYTES", 10_000)
    repo.nb("big.ipynb", body="x = '" + "y" * 20_000 + "'\n")
    result = repo.cli("export")
    assert result.code == 3 and "notebooks/big.ipynb: file is" in result.out and "more than the 10,000 bytes" in result.out


def test_every_command_has_help(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("export", "validate", "check", "new"):
        with pytest.raises(SystemExit) as info:
            repo.cli(command, "--help")
        assert info.value.code == 0
        assert f"usage: nbops {command}" in capsys.readouterr().out


def test_declared_step_outputs_feed_later_steps_in_kestra_too(repo: Repo) -> None:
    header = "steps:\n  - {notebook: _a.ipynb, outputs: [rows]}\n  - _b.ipynb\n"
    repo.nb("pipe/main.ipynb", header, params="day = '2024-01-01'\n")
    repo.nb("pipe/_a.ipynb", params="day = '2024-01-01'\n")
    repo.nb("pipe/_b.ipynb", params="rows = 0\nday = '2024-01-01'\n")
    assert repo.cli("export").code == 0
    a, b = flow_of(repo, "pipe/main.yml")["tasks"]
    assert b["inputFiles"]["params.json"] == ('{"rows": {{ outputs.a.vars.rows | toJson }}, '
                                              '"day": {{ (inputs.day ?? null) | toJson }}}')
    repo.nb("pipe/main.ipynb", "steps:\n  - {notebook: _a.ipynb, outputs: [not-a-name]}\n")
    assert "is not a parameter name" in repo.cli("export").out
