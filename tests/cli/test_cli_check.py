"""`nbops check`, `validate` and `new` through the CLI in real temp Git repositories."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import Repo, write_notebook

HAND_WRITTEN = """id: hand_made
namespace: acme.data
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: Hello
"""


def exported(repo: Repo) -> Repo:
    repo.nb("report.ipynb")
    assert repo.cli("export").code == 0
    repo.git("add", "-A")
    repo.git("commit", "-qm", "flows")
    return repo


def test_clean_repository_passes(repo: Repo) -> None:
    exported(repo)
    result = repo.cli("check")
    assert result.code == 0 and "check: 1 notebooks, 1 flow files, for Kestra 1.3: ok" in result.out


def test_drift_is_reported_with_a_diff(repo: Repo) -> None:
    exported(repo)
    repo.nb("report.ipynb", params="x = 2\n")
    result = repo.cli("check")
    assert result.code == 4 and "[drift] _flows/report.yml" in result.out
    assert "-  defaults: 1\n+  defaults: 2" in result.out


def test_hand_edited_generated_flow_is_drift(repo: Repo) -> None:
    exported(repo)
    path = repo.root / "_flows" / "report.yml"
    path.write_text(path.read_text().replace("python:3.12-slim", "python:3.13-slim"))
    assert repo.cli("check").code == 4


def test_missing_flow_is_drift(repo: Repo) -> None:
    exported(repo)
    repo.nb("new_one.ipynb")
    result = repo.cli("check")
    assert result.code == 4 and "_flows/new_one.yml" in result.out and "is missing" in result.out


def test_orphan_flow(repo: Repo) -> None:
    exported(repo)
    (repo.root / "notebooks" / "report.ipynb").unlink()
    result = repo.cli("check")
    assert result.code == 5 and "[orphan] _flows/report.yml" in result.out


def test_untagged_header(repo: Repo) -> None:
    write_notebook(repo.root / "notebooks" / "report.ipynb",
                   [("code", "%%flow\nid: report\n", []), ("code", "x = 1", ["parameters"])])
    (repo.root / "_flows").mkdir()
    from kernel_ext.adapters.project import find_project
    from kernel_ext.services.project_flows import convert_all
    from kernel_ext.core.emit import render_flow
    conv = convert_all(find_project(repo.root))[0]
    (repo.root / "_flows" / "report.yml").write_text(render_flow(conv.document, conv.notebook.path))
    result = repo.cli("check")
    assert result.code == 6 and "lack the skip-execution tag" in result.out


def test_invalid_notebook_wins_over_drift(repo: Repo) -> None:
    exported(repo)
    repo.nb("broken.ipynb", "id: [\n")
    repo.nb("report.ipynb", params="x = 3\n")
    data = json.loads(repo.cli("check", "--json").out)
    assert data["exit_code"] == 3 and repo.cli("check").code == 3
    assert {f["kind"] for f in data["findings"]} == {"invalid", "drift"}


def test_hand_written_flows_are_first_class(repo: Repo) -> None:
    exported(repo)
    (repo.root / "_flows" / "hand_made.yml").write_text(HAND_WRITTEN)
    assert repo.cli("check").code == 0
    (repo.root / "_flows" / "hand_made.yml").write_text(HAND_WRITTEN.replace("message", "mesage"))
    result = repo.cli("check")
    assert result.code == 3 and "_flows/hand_made.yml (line 6): tasks[0].mesage: unknown key" in result.out


def test_check_json_is_machine_readable(repo: Repo) -> None:
    exported(repo)
    data = json.loads(repo.cli("check", "--json").out)
    assert data == {"ok": True, "exit_code": 0, "notebooks": 1, "flows": 1, "kestra_version": "1.3",
                    "not_checked_out": [], "findings": []}


def test_validate_any_kestra_yaml(repo: Repo, tmp_path: Path) -> None:
    good = tmp_path / "good.yml"
    good.write_text(HAND_WRITTEN)
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nnamespace: Bad\ntasks:\n  - id: a.b\n    type: io.kestra.plugin.core.log.Log\n")
    result = repo.cli("validate", str(good), str(bad))
    assert result.code == 3 and "1 valid, 1 invalid, for Kestra 1.3" in result.out
    assert "bad.yaml (line 2): namespace:" in result.out
    assert "bad.yaml (line 4): tasks[0].id:" in result.out
    assert "bad.yaml (line 4): tasks[0]: missing required key 'message'" in result.out
    data = json.loads(repo.cli("validate", "--json", str(tmp_path)).out)
    assert [f["valid"] for f in data["files"]] == [False, True]


def test_validate_defaults_to_the_flows_folder(repo: Repo) -> None:
    exported(repo)
    result = repo.cli("validate")
    assert result.code == 0 and "1 valid, 0 invalid, for Kestra 1.3" in result.out


def test_new_notebook_from_the_template_exports_and_checks(repo: Repo) -> None:
    result = repo.cli("new", "finance/monthly_report")
    assert result.code == 0 and "created notebooks/finance/monthly_report.ipynb" in result.out
    assert repo.cli("export").code == 0
    assert repo.cli("check").code == 0
    again = repo.cli("new", "finance/monthly_report")
    assert again.code == 3 and "never overwrites" in again.err


@pytest.mark.parametrize("name", ["../escape", "/abs", "Upper", "a/../../b", "_hidden"])
def test_new_refuses_bad_names(repo: Repo, name: str) -> None:
    result = repo.cli("new", name)
    assert result.code == 2 and "is not a notebook name" in result.err
    assert not (repo.root / "notebooks").exists() or not list((repo.root / "notebooks").rglob("*.ipynb"))


def test_new_from_flow_reproduces_inputs_and_triggers(repo: Repo, tmp_path: Path) -> None:
    source = tmp_path / "orders.yml"
    source.write_text("""id: orders_sync
namespace: acme.data.sales
description: Sync orders.
labels: {team: sales}
inputs:
  - id: day
    type: DATE
    defaults: "2024-01-01"
    description: Day to sync
  - id: mode
    type: SELECT
    values: [full, delta]
    defaults: delta
  - id: batch
    type: INT
    min: 1
    max: 1000
    defaults: 100
  - id: token
    type: SECRET
    required: false
  - id: window
    type: DURATION
    defaults: PT1H
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: hi
triggers:
  - id: nightly
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 2 * * *"
    timezone: UTC
""")
    result = repo.cli("new", "--from-flow", str(source))
    assert result.code == 0 and "created notebooks/sales/orders_sync.ipynb" in result.out
    assert repo.cli("export").code == 0
    import yaml
    original = yaml.safe_load(source.read_text())
    produced = yaml.safe_load((repo.root / "_flows" / "sales" / "orders_sync.yml").read_text())
    for key in ("id", "namespace", "description", "labels", "inputs"):
        assert produced[key] == original[key], key
    assert produced["triggers"][0]["cron"] == "0 2 * * *" and produced["triggers"][0]["timezone"] == "UTC"


def test_new_from_an_invalid_flow_says_why(repo: Repo, tmp_path: Path) -> None:
    source = tmp_path / "bad.yml"
    source.write_text("id: x\nnamespace: a\n")
    result = repo.cli("new", "--from-flow", str(source))
    assert result.code == 3 and "missing required key 'tasks'" in result.err


def test_bad_configuration_is_a_usage_error(repo: Repo) -> None:
    (repo.root / "pyproject.toml").write_text('[tool.nbops]\nnamespace = "Bad NS"\n')
    result = repo.cli("check")
    assert result.code == 2 and "is not a Kestra namespace" in result.err
    (repo.root / "pyproject.toml").write_text('[tool.nbops]\nnamspace = "a"\n')
    assert "unknown key 'namspace'" in repo.cli("check").err


def test_hand_written_flow_in_a_notebooks_place(repo: Repo) -> None:
    repo.nb("report.ipynb")
    (repo.root / "_flows").mkdir()
    (repo.root / "_flows" / "report.yml").write_text(HAND_WRITTEN.replace("hand_made", "report"))
    result = repo.cli("check")
    assert result.code == 3 and "export will not overwrite it" in result.out


def test_a_renamed_notebook_takes_over_its_flow_file(repo: Repo) -> None:
    repo.nb("old_name.ipynb", "id: sales\n")
    assert repo.cli("export").code == 0
    (repo.root / "notebooks" / "old_name.ipynb").rename(repo.root / "notebooks" / "new_name.ipynb")
    result = repo.cli("check")
    assert result.code == 4 and "[drift] _flows/sales.yml" in result.out  # export will fix it
    assert repo.cli("export").code == 0 and repo.cli("check").code == 0
    assert "from notebooks/new_name.ipynb" in (repo.root / "_flows" / "sales.yml").read_text()


def test_a_flow_file_of_another_living_notebook_is_a_conflict(repo: Repo) -> None:
    repo.nb("a.ipynb", "id: sales\n")
    assert repo.cli("export").code == 0
    repo.nb("a.ipynb", "id: other\n")  # a now makes another flow, b claims the old file
    repo.nb("b.ipynb", "id: sales\n")
    result = repo.cli("check")
    assert result.code == 3 and "generated from notebooks/a.ipynb" in result.out
    assert repo.cli("export").code == 3


def test_validate_a_missing_path_is_a_usage_error(repo: Repo) -> None:
    result = repo.cli("validate", str(repo.root / "nope.yml"))
    assert result.code == 2 and "no such file or folder" in result.err


def test_problems_of_the_finished_flow_point_at_the_header_line(repo: Repo) -> None:
    repo.nb("b.ipynb", "labels: {x: y}\ninputs:\n  n: {min: 'a'}\n", params="n = 3\n")
    result = repo.cli("export")
    assert "notebooks/b.ipynb (cell 0, line 3): inputs[0].min: expected a whole number" in result.out


def test_imports_of_kernel_ext_in_any_form_count() -> None:
    from kernel_ext.core.notebook import Cell, CellKind, NotebookSource

    def imports(source: str) -> bool:
        return NotebookSource("n.ipynb", (Cell(0, CellKind.CODE, source),)).imports_kernel_ext()

    assert imports("import os, kernel_ext") and imports("import kernel_ext as k") and imports("from kernel_ext import output")
    assert not imports("# import kernel_ext") and not imports("import kernel_extra")


def test_a_secret_fails_the_gate(repo: Repo) -> None:
    exported(repo)
    key = "AKIA" + "IOSFODNN7EXAMPLE"
    repo.nb("report.ipynb", body=f"aws_access_key_id = '{key}'\n")
    assert repo.cli("export").code == 0
    result = repo.cli("check")
    assert result.code == 8 and "[secret] notebooks/report.ipynb" in result.out and key not in result.out
