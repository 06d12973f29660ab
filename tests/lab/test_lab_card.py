"""The %%flow card: the cell's current text checked against its notebook (no kernel needed)."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from conftest import Repo, write_notebook

from kernel_ext.adapters.project import find_project
from kernel_ext.lab.card import build_card, card_html, card_text
from kernel_ext.lab.header_check import check_cell, header_source

NOW = datetime(2024, 3, 4, 12, 0, tzinfo=UTC)  # a Monday
PARAMS = "region = 'eu'  # sales region\ntop_n: int = 5  # rows kept\nday = '2024-01-01'\n"


def card_for(path: Path | None, header: str, line: str = ""):
    project = find_project(path.parent) if path else None
    return build_card(check_cell(project, path, header_source(line, header)), NOW)


def test_the_cell_text_wins_over_the_saved_notebook(repo: Repo) -> None:
    path = repo.nb("sales.ipynb", "schedule: '0 1 * * *'\n", params=PARAMS)  # saved before the last edit
    card = card_for(path, "schedule: '0 6 * * 1-5'\ntimezone: Europe/Paris\nafter: load_sales\n")
    assert card.ok and (card.namespace, card.flow_id, card.notebook) == ("acme.data", "sales", "notebooks/sales.ipynb")
    (schedule,) = card.schedules
    assert schedule.cron == "0 6 * * 1-5" and schedule.words == "At 06:00, Monday through Friday"
    assert schedule.timezone == "Europe/Paris" and schedule.next_runs[0] == "2024-03-05T06:00:00+01:00"
    assert card.after == ("acme.data.load_sales",)
    rows = {r.name: (r.type, r.default, r.description, r.required) for r in card.inputs}
    assert rows == {"region": ("STRING", "eu", "sales region", True), "top_n": ("INT", "5", "rows kept", True),
                    "day": ("DATE", "2024-01-01", "", True)}
    text = card_text(card)
    assert "flow acme.data.sales: valid" in text and "input top_n: INT = 5  # rows kept" in text
    assert "At 06:00, Monday through Friday" in text


def test_an_input_without_a_default_shows_as_required(repo: Repo) -> None:
    path = repo.nb("manual.ipynb", "labels: {team: a}\n", params="limit: int  # how many rows\n")
    card = card_for(path, "labels: {team: a}\n")
    assert card.ok and card.inputs[0].required and card.inputs[0].default == ""
    assert "input limit: INT (required)  # how many rows" in card_text(card)
    assert "<em>required</em>" in card_html(card)


def test_an_invalid_header_lists_every_error_with_its_field_path(repo: Repo) -> None:
    path = repo.nb("sales.ipynb", "schedule: '0 6 * * *'\n")
    card = card_for(path, "id: Bad Id\nretry: {type: sometimes}\nshedule: '0 6 * * *'\ntimeout: soon\n")
    assert not card.ok
    assert {p.path for p in card.problems} == {"id", "retry.type", "shedule", "timeout"}
    assert all(p.line is not None for p in card.problems)  # lines in the cell, after the %%flow line
    text, html = card_text(card), card_html(card)
    assert f"{len(card.problems)} problem(s)" in text
    for problem in card.problems:
        assert f"  - {problem.path} (line {problem.line}): " in text and f"<code>{problem.path}</code>" in html
    assert "nbops-invalid" in html and "nbops-valid'" not in html
    assert "acme.data.sales" in text  # the id and namespace the notebook's name and folder give


def test_a_bad_schedule_names_the_field_and_hints_at_the_format(repo: Repo) -> None:
    path = repo.nb("sales.ipynb", "schedule: '0 6 * * *'\n")
    (problem,) = card_for(path, "schedule: '0 25 * * *'\n").problems
    assert problem.path == "schedule" and problem.line == 2 and "five fields" in (problem.hint or "")


def test_everything_from_the_notebook_is_escaped(repo: Repo) -> None:
    path = repo.nb("x.ipynb", "schedule: '0 6 * * *'\n", params="who = '<script>alert(1)</script>'  # <b>bold</b>\n",
                   title="# <img src=x onerror=alert(1)>")
    html = card_html(card_for(path, "labels: {team: a}\n"))
    assert "<script>" not in html and "<img" not in html and "<b>bold" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_without_a_notebook_the_header_alone_is_checked_and_said_so() -> None:
    card = card_for(None, "schedule: '0 6 * * *'\n")
    assert card.ok and card.note and "only the header was checked" in card.note and card.inputs == ()
    assert card.schedules[0].words == "At 06:00" and "note: the notebook is unknown" in card_text(card)
    assert [p.path for p in card_for(None, "foo: 1\n").problems] == ["foo"]


def test_a_notebook_saved_without_a_header_is_checked_with_the_cell(repo: Repo) -> None:
    path = repo.nb("plain.ipynb", None, params="n = 1\n")
    card = card_for(path, "id: renamed\n")
    assert card.ok and card.flow_id == "renamed" and [r.name for r in card.inputs] == ["n"]


def test_an_explicit_notebook_outside_the_repository_falls_back_to_the_header(tmp_path: Path, repo: Repo) -> None:
    outside = write_notebook(tmp_path / "elsewhere" / "x.ipynb", [("code", "n = 1", ["parameters"])])
    card = build_card(check_cell(find_project(repo.root), outside, header_source("", "id: x\n")), NOW)
    assert card.ok and card.note and "outside the repository" in card.note
