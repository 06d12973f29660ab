"""The panel's Git and parameter parts, driven in-process (ipywidgets work without a front-end)
against real Git repositories and a real bare remote."""
from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

from conftest import Repo, clone

from kernel_ext.core.param_values import TextValue
from kernel_ext.lab.actions import Target
from kernel_ext.lab.panel import Panel
from kernel_ext.lab.param_widgets import values_of


def panel_for(path: Path | None) -> Panel:
    return Panel(Target.of(path))


def test_push_then_sync_shows_the_plan_and_waits_for_confirm(repo: Repo, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    repo.git("remote", "add", "origin", str(remote))
    mine = repo.nb("sales.ipynb", "labels: {team: a}\n", params="n = 1\n")
    repo.git("add", "pyproject.toml")
    repo.git("commit", "-qm", "config")
    panel = panel_for(mine)
    panel.view.commit_message.value = "first"
    panel.click("commit")
    panel.click("push")
    state = panel.state()
    assert state["message"].startswith("pushed ") and "ADDED      _flows/sales.yml" in state["output"], state
    theirs = clone(remote, tmp_path / "theirs")  # someone else changes the flow and pushes
    theirs.nb("sales.ipynb", "labels: {team: b}\n", params="n = 2\n")
    assert theirs.cli("commit", "-m", "n=2").code == 0 and theirs.cli("push").code == 0

    panel.click("sync")
    state = panel.state()
    assert state["confirm_visible"] and "UPDATED     notebooks/sales.ipynb" in state["output"]
    assert "nothing changed yet" in state["message"] and "n = 1" in mine.read_text()  # a plan only
    panel.click("confirm")
    state = panel.state()
    assert not state["confirm_visible"] and state["message"].startswith("in sync with origin/main"), state
    assert "n = 2" in mine.read_text() and "team: b" in (repo.root / "_flows" / "sales.yml").read_text()
    assert state["params"] == {"n": "2"}  # re-validated after the sync: the new default


def test_push_without_a_remote_is_a_readable_message(repo: Repo) -> None:
    panel = panel_for(repo.nb("a.ipynb", "labels: {a: b}\n"))
    panel.click("commit")
    panel.click("push")
    state = panel.state()
    assert state["error"] and "no remote 'origin'" in state["message"] and "git remote add origin" in state["message"]
    assert "Traceback" not in state["message"]


def test_diff_shows_the_notebooks_change_against_head(repo: Repo) -> None:
    path = repo.nb("a.ipynb", "labels: {a: b}\n", params="n = 1\n")
    panel = panel_for(path)
    panel.click("commit")
    repo.nb("a.ipynb", "labels: {a: b}\n", params="n = 5\n")
    panel.click("diff")
    state = panel.state()
    assert state["output_kind"] == "diff" and "-n = 1" in state["output"] and "+n = 5" in state["output"]
    assert state["message"] == "1 file(s) differ from HEAD"


def test_commit_from_the_panel_with_nothing_new_says_so(repo: Repo) -> None:
    panel = panel_for(repo.nb("a.ipynb", "labels: {a: b}\n"))
    panel.click("commit")
    first = repo.git("rev-parse", "HEAD")
    panel.click("commit")
    assert "nothing to commit" in panel.state()["message"] and repo.git("rev-parse", "HEAD") == first


def test_parameters_get_widgets_matching_their_types(repo: Repo) -> None:
    params = ("from typing import Literal\nn: int = 2\nrate = 0.5\nflag = True\nday = '2024-01-31'\n"
              "mode: Literal['a', 'b'] = 'b'\ntags = ['x']\nname = 'eu'\nlimit: int\n")
    panel = panel_for(repo.nb("p.ipynb", "labels: {a: b}\n", params=params))
    kinds = {name: type(w).__name__ for name, w in panel.view.params.items()}
    assert kinds == {"n": "IntText", "rate": "FloatText", "flag": "Checkbox", "day": "DatePicker",
                     "mode": "Dropdown", "tags": "Text", "name": "Text", "limit": "Text"}
    panel.view.params["day"].value = dt.date(2024, 2, 29)
    panel.view.params["limit"].value = "7"
    values = values_of(panel.view.params)
    assert values["day"] == "2024-02-29" and values["limit"] == "7" and isinstance(values["limit"], TextValue)
    assert values["n"] == 2 and values["mode"] == "b" and values["tags"] == '["x"]'
    panel.view.params["limit"].value = ""
    assert "limit" not in values_of(panel.view.params)  # empty: not given, the run says it is required


def test_a_required_input_left_empty_stops_the_run_with_a_message(repo: Repo) -> None:
    panel = panel_for(repo.nb("p.ipynb", "labels: {a: b}\n", params="limit: int\n"))
    panel.click("run")
    panel.wait(60)
    state = panel.state()
    assert state["error"] and "required input 'limit' (INT) has no value" in state["message"]
    assert state["run_status"] == "ERROR" and not (repo.root / ".nbops" / "runs").exists()


def test_without_a_notebook_the_panel_says_how_to_name_one(tmp_path: Path) -> None:
    state = panel_for(None).state()
    assert state["error"] and "%nbops --notebook PATH" in state["message"] and state["disabled"]["commit"]
