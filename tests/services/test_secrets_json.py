"""Secrets anywhere in a notebook's JSON (issue 12, item 2): cell and notebook metadata, attachments,
output metadata and data, nested lists, key names, repeated keys. Each is found by ``nbops secrets``,
fails ``nbops check`` (exit 8) and is refused by ``nbops commit`` (exit 3), on a real repository.
Images, widget buffers and Plotly arrays are no findings; a PATH matching no file is an error.

Every fake secret is assembled at run time, so this file holds no literal a secret scanner would stop.
"""
from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import NAMESPACE, Repo

from kernel_ext.adapters.secrets import notebook_json, scan_notebook

GITHUB = "ghp_1a2B3c4D5e6F7g8H9" + "i0JkLmNoPqRsTuVwXyZ"
AWS_KEY = "AKIA" + "IOSFODNN7EXAMPLE"
PW = "q8Zr3LmN0vXy7" + "TbK2wPd5sHj"
RAWS = (GITHUB, AWS_KEY, PW)

Notebook = dict[str, Any]


def code_cell(nb: Notebook) -> dict[str, Any]:
    return next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))


def cell_metadata(nb: Notebook) -> None:
    code_cell(nb)["metadata"]["custom"] = {"token": PW}


def notebook_metadata(nb: Notebook) -> None:
    nb["metadata"]["authors"] = [{"name": "Ana Lyst", "token": PW}]


def attachment(nb: Notebook) -> None:
    markdown = next(c for c in nb["cells"] if c["cell_type"] == "markdown")
    markdown["attachments"] = {"setup.txt": {"text/plain": f"aws_access_key_id = {AWS_KEY}\n"}}


def output_metadata(nb: Notebook) -> None:
    code_cell(nb)["outputs"] = [{"output_type": "display_data", "data": {"text/plain": "<Response 200>"},
                                 "metadata": {"request": {"headers": {"password": PW}}}}]


def output_json_data(nb: Notebook) -> None:
    code_cell(nb)["outputs"] = [{"output_type": "display_data", "metadata": {},
                                 "data": {"application/vnd.acme.config+json": {"api_key": PW}}}]


def nested_list(nb: Notebook) -> None:
    nb["metadata"]["connections"] = [["warehouse", [{"name": "prod", "secret": PW}]]]


def key_name(nb: Notebook) -> None:
    code_cell(nb)["metadata"][GITHUB] = True


def repeated_key(nb: Notebook) -> None:
    nb["metadata"]["service"] = {"token": PW}  # written below with a second "token" after it


# place → (how to put it there, the location printed, strip_outputs)
PLACES: dict[str, tuple[Callable[[Notebook], None], str, bool]] = {
    "cell_metadata": (cell_metadata, "(cell 1, cells[1].metadata.custom.token): Secret Assignment", True),
    "notebook_metadata": (notebook_metadata, "(metadata.authors[0].token): Secret Assignment", True),
    "attachment": (attachment, '(cell 0, cells[0].attachments["setup.txt"]["text/plain"]): AWS Access Key', True),
    "output_metadata": (output_metadata, "(cell 1, cells[1].outputs[0].metadata.request.headers.password)", False),
    "output_json_data": (output_json_data,
                         '(cell 1, cells[1].outputs[0].data["application/vnd.acme.config+json"].api_key)', False),
    "nested_list": (nested_list, "(metadata.connections[0][1][0].secret): Secret Keyword", True),
    "key_name": (key_name, '(cell 1, cells[1].metadata["ghp_****"]): GitHub Token', True),
    "repeated_key": (repeated_key, "(metadata.service.token): Secret Assignment", False),
}


def leaky(repo: Repo, place: str) -> Path:
    put, _, strip = PLACES[place]
    if not strip:
        (repo.root / "pyproject.toml").write_text(f'[tool.nbops]\nnamespace = "{NAMESPACE}"\nstrip_outputs = false\n')
    (repo.root / "README.md").write_text("flows\n")
    repo.git("add", "-A")
    repo.git("commit", "-qm", "start")
    path = repo.nb("leak.ipynb", params="limit = 10\n")
    assert repo.cli("export").code == 0
    nb = json.loads(path.read_text())
    put(nb)
    text = json.dumps(nb, indent=1)
    if place == "repeated_key":  # json.loads keeps the last one; Git commits both
        text = text.replace(f'"token": "{PW}"', f'"token": "{PW}", "token": "x"')
    path.write_text(text)
    return path


@pytest.mark.parametrize("place", list(PLACES))
def test_a_secret_anywhere_in_the_json_is_found_fails_check_and_is_refused(repo: Repo, place: str) -> None:
    leaky(repo, place)
    start = repo.git("rev-parse", "HEAD")
    found = repo.cli("secrets")
    assert found.code == 3 and f"notebooks/leak.ipynb {PLACES[place][1]}" in found.out, found.out
    check = repo.cli("check")
    assert check.code == 8 and "[secret] notebooks/leak.ipynb" in check.out, check.out
    commit = repo.cli("commit")
    assert commit.code == 3 and "notebooks/leak.ipynb" in commit.err, commit.err
    assert repo.git("rev-parse", "HEAD") == start
    for text in (found.out, found.err, check.out, check.err, commit.out, commit.err):
        assert not any(raw in text for raw in RAWS)


def test_the_commit_scans_exactly_what_it_writes(repo: Repo) -> None:
    """Outputs stripped: their metadata is not committed, so it does not stop the commit; the bytes in
    HEAD are the scanned ones (no secret). Kept metadata is refused (above)."""
    path = leaky(repo, "output_metadata")
    (repo.root / "pyproject.toml").write_text(f'[tool.nbops]\nnamespace = "{NAMESPACE}"\n')
    result = repo.cli("commit")
    assert result.code == 0, result.err
    committed = repo.git("show", "HEAD:notebooks/leak.ipynb")
    assert PW not in committed and '"outputs": []' in committed and PW in path.read_text()
    assert scan_notebook(notebook_json(committed, "x.ipynb"), "x.ipynb") == []


def png() -> str:
    return base64.b64encode(b"\x89PNG\r\n\x1a\n" + os.urandom(3000)).decode()


def test_an_image_heavy_notebook_gives_no_false_positive(repo: Repo) -> None:
    path = repo.nb("figures.ipynb", params="limit = 10\n")
    nb = json.loads(path.read_text())
    cell = code_cell(nb)
    svg = f'<svg><image href="data:image/png;base64,{png()}"/></svg>'
    cell["outputs"] = [
        {"output_type": "display_data", "metadata": {"image/png": {"width": 640, "height": 480}},
         "data": {"image/png": png(), "image/jpeg": base64.b64encode(os.urandom(2000)).decode(),
                  "image/svg+xml": svg, "application/pdf": base64.b64encode(os.urandom(900)).decode(),
                  "text/plain": "<Figure size 640x480 with 1 Axes>"}},
        {"output_type": "display_data", "metadata": {},
         "data": {"application/vnd.plotly.v1+json": {"data": [{"type": "scatter", "x": {
             "dtype": "f8", "bdata": base64.b64encode(os.urandom(800)).decode()}}]},
             "application/vnd.jupyter.widget-view+json": {"model_id": os.urandom(16).hex(), "version_major": 2}}}]
    cell["id"] = "6f1c2b7e-8d4a-4c3b-9e2f-1a0b5c6d7e8f"
    markdown = next(c for c in nb["cells"] if c["cell_type"] == "markdown")
    markdown["attachments"] = {f"plot{i}.png": {"image/png": png()} for i in range(5)}
    nb["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {"version_major": 2, "state": {
        os.urandom(16).hex(): {"model_name": "ImageModel", "state": {"format": "png"},
                               "buffers": [{"encoding": "base64", "path": ["value"], "data": png()}]}}}}
    nb["metadata"]["colab"] = {"provenance": [], "authorship_tag": "ABX9TyMlqvLYrJp0gGgGt2sVXfm8"}
    nb["metadata"]["vscode"] = {"interpreter": {"hash": os.urandom(32).hex()}}
    path.write_text(json.dumps(nb, indent=1))
    assert scan_notebook(nb, "figures.ipynb") == []
    result = repo.cli("secrets")
    assert result.code == 0 and result.out.strip() == "no secrets found in 1 file(s)", result.out


def test_an_image_field_holding_text_is_still_scanned() -> None:
    nb = {"cells": [{"cell_type": "code", "source": "", "metadata": {}, "outputs": [
        {"output_type": "display_data", "metadata": {}, "data": {"image/png": f"token = '{GITHUB}'"}}]}]}
    [finding] = scan_notebook(nb, "x.ipynb")
    assert (finding.cell, finding.where, finding.kind) == (0, 'cells[0].outputs[0].data["image/png"]', "GitHub Token")


@pytest.mark.parametrize("args", [["nope.ipynb"], ["notebooks/nope"], ["empty"], ["nope", "--accept", "--reason", "x"]])
def test_secrets_on_a_path_matching_no_file_says_so(repo: Repo, args: list[str]) -> None:
    repo.nb("a.ipynb")
    (repo.root / "empty" / ".git").mkdir(parents=True)  # only a skipped folder inside
    result = repo.cli("secrets", *args)
    assert result.code == 2, (result.out, result.err)
    assert "no secrets found" not in result.out and f"{args[0]} " in result.err and "nothing was scanned" in result.err
    assert not (repo.root / ".nbops-secrets.json").exists()
    assert repo.cli("secrets", "notebooks/a.ipynb").out.strip() == "no secrets found in 1 file(s)"


def test_a_metadata_finding_can_be_accepted_by_file_and_hash(repo: Repo) -> None:
    leaky(repo, "key_name")
    assert repo.cli("secrets", "--accept", "--reason", "a revoked token kept as a fixture").code == 0
    assert GITHUB not in (repo.root / ".nbops-secrets.json").read_text()
    assert repo.cli("secrets").code == 0 and repo.cli("check").code == 0
    assert repo.cli("commit").code == 0
