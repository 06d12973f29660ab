"""The secret scanner: detect-secrets plus notebook rules, the allow-list, and redaction of secret inputs.

Real notebooks and files in temp folders, no mocks. Every fake secret is assembled at run time, so this
file itself holds no literal a secret scanner (nbops' or a Git host's) would stop.
"""
from __future__ import annotations

import base64
import dataclasses
import json
import logging
import os
import random
import socket
import struct
import time
import zlib
from pathlib import Path
from typing import Any

import nbformat
import pytest
from conftest import Repo

from kernel_ext.adapters.secrets import Finding, notebook_json, scan_notebook, scan_text
from kernel_ext.adapters.project import find_project
from kernel_ext.errors import NbopsError
from kernel_ext.services.scan import (
    ALLOWLIST_FILE,
    format_findings,
    load_allowlist,
    redact_secret_parameters,
    refuse_secrets,
    scan_paths,
    write_allowlist,
)

AWS_KEY = "AKIA" + "IOSFODNN7EXAMPLE"
AWS_SK = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY"
GITHUB = "ghp_1a2B3c4D5e6F7g8H9" + "i0JkLmNoPqRsTuVwXyZ"
SLACK = "xoxb-123456789012-" + "1234567890123-" + "AbCdEfGhIjKl" + "MnOpQrStUvWx"
PW = "q8Zr3LmN0vXy7" + "TbK2wPd5sHj"
KEY_BODY = [base64.b64encode(random.Random(line).randbytes(48)).decode() for line in range(3)]  # 64 characters
PEM = "\n".join(["-----BEGIN RSA " + "PRIVATE KEY-----", *KEY_BODY, "-----END RSA " + "PRIVATE KEY-----"])

# kind → (lines holding the secret, detector name expected, raw strings that must appear in no field)
SECRETS: dict[str, tuple[str, str, list[str]]] = {
    "aws": (f'aws_access_key_id = "{AWS_KEY}"', "AWS Access Key", [AWS_KEY]),
    "github": (f'token = "{GITHUB}"', "GitHub Token", [GITHUB]),
    "private_key": (PEM, "Private Key", KEY_BODY),
    "slack": (f'slack_bot = "{SLACK}"', "Slack Token", [SLACK]),
    "password": (f'db_password = "{PW}"', "Secret Keyword", [PW]),
}


def notebook(path: Path, cells: list[Any], metadata: dict[str, Any] | None = None) -> Path:
    node = nbformat.v4.new_notebook(cells=cells, metadata=metadata or {})
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(node, path)
    return path


def scan_file(path: Path, display: str) -> list[Finding]:
    return scan_notebook(notebook_json(path.read_text(encoding="utf-8"), display), display)


def code(source: str, outputs: list[Any] | None = None, tags: list[str] | None = None) -> Any:
    cell = nbformat.v4.new_code_cell(source, outputs=outputs or [])
    if tags:
        cell.metadata["tags"] = tags
    return cell


def place(location: str, snippet: str, tmp_path: Path) -> tuple[list[Finding], int | None, str, int]:
    """Put ``snippet`` in one kind of place; return the findings and where they must point."""
    md = nbformat.v4.new_markdown_cell
    if location == "source":
        cells, expected = [md("# Load"), code("import os\nx = 1\n" + snippet)], (1, "source", 3)
    elif location == "output":
        streams = [nbformat.v4.new_output("stream", name="stdout", text=t)
                   for t in ("connecting...\n", "config loaded\n" + snippet + "\n")]
        cells, expected = [code("print(config)", streams)], (0, "output", 3)
    elif location == "traceback":
        error = nbformat.v4.new_output("error", ename="ValueError", evalue="bad credentials", traceback=[
            "\x1b[0;31m-----------------------------------------------------------\x1b[0m",
            "\x1b[0;32m----> 1\x1b[0m connect(\n\x1b[1;32m" + snippet + "\x1b[0m)"])
        cells, expected = [md("# Load"), code("x = 1"), code("connect(...)", [error])], (2, "traceback", 4)
    elif location == "markdown":
        cells, expected = [code("x = 1"), md("# Setup\n\nUse these credentials:\n" + snippet)], (1, "markdown", 4)
    elif location == "parameters":
        cells = [md("# Flow"), code('region = "eu"\nlimit = 10\n' + snippet, tags=["parameters"])]
        expected = (1, "parameters", 3)
    else:  # a Kestra flow with an inline Python script
        script = "\n".join("      " + line for line in snippet.split("\n"))
        path = tmp_path / "_flows" / "load.yml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("id: load\nnamespace: acme.data\ntasks:\n  - id: run\n"
                        "    type: io.kestra.plugin.scripts.python.Script\n    script: |\n" + script + "\n")
        return scan_text(path.read_text(), "_flows/load.yml"), None, "text", 7
    return scan_file(notebook(tmp_path / "nb.ipynb", cells), "notebooks/nb.ipynb"), *expected


def assert_hidden(findings: list[Finding], raws: list[str]) -> None:
    for finding in findings:
        assert "\x1b" not in finding.excerpt
        assert "****" in finding.excerpt or finding.excerpt.endswith("PRIVATE KEY-----")  # key body on later lines
        for field in dataclasses.astuple(finding):
            assert not any(raw in str(field) for raw in raws), f"secret leaked into {finding}"


@pytest.mark.parametrize("location", ["source", "output", "traceback", "markdown", "parameters", "flow"])
@pytest.mark.parametrize("kind", list(SECRETS))
def test_each_secret_is_found_in_each_place_located_and_masked(tmp_path: Path, kind: str, location: str) -> None:
    snippet, detector, raws = SECRETS[kind]
    findings, cell, where, line = place(location, snippet, tmp_path)
    assert [(f.cell, f.where, f.line, f.kind) for f in findings] == [(cell, where, line, detector)]
    assert findings[0].file == ("_flows/load.yml" if location == "flow" else "notebooks/nb.ipynb")
    assert findings[0].secret_hash == scan_text(snippet, "other.py")[0].secret_hash  # same secret, same hash
    assert_hidden(findings, raws)


def test_excerpts_keep_a_known_prefix_only_and_mask_every_secret_on_the_line() -> None:
    [github] = scan_text(f'token = "{GITHUB}"', "a.py")
    assert github.excerpt == 'token = "ghp_****"'
    findings = scan_text(f'connect("{AWS_KEY}", aws_secret_access_key="{AWS_SK}", db_password="{PW}")',
                         "a.py")
    assert len(findings) == 3 and len({f.secret_hash for f in findings}) == 3
    [excerpt] = {f.excerpt for f in findings}
    assert excerpt.count("****") == 3 and '"AKIA****"' in excerpt and '"wJal****"' in excerpt and '"****")' in excerpt
    assert_hidden(findings, [AWS_KEY, AWS_SK, PW])


def test_notebook_rules_on_top_of_detect_secrets() -> None:
    bearer = scan_text(f'headers = {{"Authorization": "Bearer {PW}"}}', "a.py")
    assert [f.kind for f in bearer] == ["Bearer Token"]
    named = scan_text(f'api_token: str = "{PW}"  # from the vault', "a.ipynb", where="parameters")
    assert [f.kind for f in named] == ["Secret Assignment"]
    # a key is a key inside a call too (detect-secrets' indirect-reference filter would drop the whole line)
    assert [f.kind for f in scan_text(f'boto3.client("s3", aws_access_key_id="{AWS_KEY}")', "a.py")] == \
        ["AWS Access Key"]
    [url] = scan_text('engine = create_engine("postgresql://etl:' + PW + '@db.example.com/sales")', "a.py")
    assert url.kind == "Basic Auth Credentials"
    assert url.excerpt == 'engine = create_engine("postgresql://etl:****@db.example.com/sales")'
    other = "ghp" + "_" + "Z" * 8 + GITHUB[12:]
    hashes = {scan_text(f'token = "{token}"', "a.py")[0].secret_hash for token in (GITHUB, other)}
    assert len(hashes) == 2  # detect-secrets alone reports only "ghp" for every GitHub token


def test_a_private_key_is_one_finding_hashed_by_its_body_in_pem_or_json() -> None:
    escaped = json.dumps({"type": "service_account", "private_key": PEM.replace("RSA ", "") + "\n"})
    [in_json] = scan_text(escaped, "key.json")
    [in_pem] = scan_text(PEM.replace("RSA ", ""), "key.pem")
    assert in_json.secret_hash == in_pem.secret_hash
    assert in_json.excerpt == '{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----****'
    assert in_pem.excerpt == "-----BEGIN PRIVATE KEY-----"  # the body is on the lines below, never shown
    assert_hidden([in_json], KEY_BODY)
    assert scan_text('if line.startswith("-----BEGIN RSA PRIVATE KEY-----"):\n    return True\n' * 3, "a.py") == []
    encrypted = PEM.replace("KEY-----\n", "KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00FF\n\n", 1)
    assert [f.kind for f in scan_text(encrypted, "id_rsa")] == ["Private Key"]


def test_a_secret_deep_in_a_very_long_line_is_found() -> None:
    line = "x" * 25_000 + f' aws="{AWS_KEY}" ' + "y" * 25_000
    [finding] = scan_text(line, "dump.json")
    assert finding.kind == "AWS Access Key" and len(finding.excerpt) < 200 and "AKIA****" in finding.excerpt


def png_base64() -> str:
    """A real, incompressible 48x48 PNG: its base64 is as random-looking as any token."""
    raw = b"".join(b"\x00" + os.urandom(48 * 3) for _ in range(48))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 48, 48, 8, 2, 0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    return base64.b64encode(png).decode()


def test_things_that_are_not_secrets_are_not_found(tmp_path: Path) -> None:
    image = png_base64()
    figure = nbformat.v4.new_output("display_data", data={
        "image/png": image, "text/plain": "<Figure size 640x480 with 1 Axes>",
        "text/html": f'<img src="data:image/png;base64,{image}"/>'})
    cells = [code('password = ""\ntoken = None\napi_key: str = None\npassword: str | None = None\n',
                  tags=["parameters"]),
             code("github_token = \"{{ secret('GITHUB_TOKEN') }}\"\n"
                  'commit = "3f786850e387550fdab836ed7e6dc881de23001b"\n'
                  'run_id = "6f1c2b7e-8d4a-4c3b-9e2f-1a0b5c6d7e8f"\n'
                  'secret_name = "prod-db-credentials-2024"\ntoken_url = "https://example.com/oauth/token"\n'
                  'password = os.environ["DB_PASSWORD"]\nSECRET = "SECRET"\nPRIVATE_KEY = "Private Key"\n'
                  'db_password = "xxxxxxxx"\nurl = "https://user:token@host/repo.git"\n', [figure]),
             nbformat.v4.new_markdown_cell("Read the key with `{{ secret('AWS_KEY') }}`; never paste it here.")]
    assert scan_file(notebook(tmp_path / "clean.ipynb", cells), "clean.ipynb") == []
    flow = ("id: load\nnamespace: acme.data\ntasks:\n  - id: q\n    type: io.kestra.plugin.jdbc.postgresql.Query\n"
            "    password: \"{{ secret('DB_PASSWORD') }}\"\n    username: null\n    password_file: /run/pw\n"
            "inputs:\n  - id: db_password\n    type: SECRET\n")
    assert scan_text(flow, "_flows/load.yml") == []


def test_papermill_parameters_in_notebook_metadata_are_scanned(tmp_path: Path) -> None:
    path = notebook(tmp_path / "run.ipynb", [code("x = 1")],
                    {"papermill": {"parameters": {"region": "eu", "api_token": GITHUB}}})
    [finding] = scan_file(path, "run.ipynb")
    # nbformat writes keys sorted: api_token is line 1
    assert (finding.cell, finding.where, finding.line, finding.kind) == (None, "parameters", 1, "GitHub Token")
    assert_hidden([finding], [GITHUB])


def test_a_broken_notebook_is_an_error_not_a_clean_scan(tmp_path: Path) -> None:
    with pytest.raises(NbopsError, match="not valid notebook JSON"):
        notebook_json('{"cells": [', "notebooks/cut.ipynb")
    with pytest.raises(NbopsError, match="not a notebook"):
        notebook_json("[]", "notebooks/list.ipynb")


def leaky_repo(repo: Repo) -> tuple[Path, Path]:
    one = repo.nb("sales/report.ipynb", params=f'aws_key = "{AWS_KEY}"\n')
    two = repo.root / "_flows" / "report.yml"
    two.parent.mkdir()
    two.write_text(f"id: report\nnamespace: acme.data\nvariables:\n  key: {AWS_KEY}\n")
    return one, two


def test_scan_paths_reports_readable_lines_and_skips_binaries_and_big_files(
        repo: Repo, caplog: pytest.LogCaptureFixture) -> None:
    leaky_repo(repo)
    (repo.root / "logo.bin").write_bytes(b"\x89PNG\x00" + AWS_KEY.encode())
    (repo.root / "big.csv").write_text((f"{AWS_KEY}," + "x" * 100 + "\n") * 60_000)  # > 5 MB
    with caplog.at_level(logging.WARNING):
        findings = scan_paths(repo.root, [Path("notebooks"), Path("_flows"), repo.root / "logo.bin",
                                          Path("big.csv"), Path("deleted.yml")])
    assert "big.csv: not scanned for secrets" in caplog.text
    lines = format_findings(findings)
    assert lines[:2] == ['_flows/report.yml (line 4): AWS Access Key: key: AKIA****',
                         ('notebooks/sales/report.ipynb (cell 1, parameters, line 1): '
                          'AWS Access Key: aws_key = "AKIA****"')]
    assert len(lines) == 3 and "nbops secrets --accept" in lines[2] and ALLOWLIST_FILE in lines[2]
    assert all(AWS_KEY not in line for line in lines) and format_findings([]) == []


def test_a_commit_is_refused_for_the_secrets_in_the_bytes_it_commits(repo: Repo) -> None:
    def notebook_bytes(source: str) -> bytes:
        return json.dumps({"cells": [{"cell_type": "code", "source": source, "metadata": {}, "outputs": []}]}).encode()

    contents = {"notebooks/run.ipynb": notebook_bytes(f'x = 1\napi_token = "{GITHUB}"\n'), "gone.yml": None,
                "_flows/x.yml": f"key: {AWS_KEY}\n".encode(), "notebooks/clean.ipynb": notebook_bytes("x = 1\n")}
    with pytest.raises(NbopsError) as error:
        refuse_secrets(find_project(repo.root), contents)
    message = str(error.value)
    assert "_flows/x.yml (line 1): AWS Access Key" in message
    assert "notebooks/run.ipynb (cell 0, source, line 2): GitHub Token" in message
    assert "notebooks/clean.ipynb" not in message and GITHUB not in message and AWS_KEY not in message
    refuse_secrets(find_project(repo.root), {"notebooks/clean.ipynb": contents["notebooks/clean.ipynb"]})


def test_allow_list_by_file_and_hash_or_for_any_file(repo: Repo) -> None:
    leaky_repo(repo)
    paths = [Path("notebooks"), Path("_flows")]
    notebook_finding = scan_paths(repo.root, paths)[1]
    write_allowlist(repo.root, [notebook_finding], "documented example key")
    assert [f.file for f in scan_paths(repo.root, paths)] == ["_flows/report.yml"]  # same hash, other file
    data = json.loads((repo.root / ALLOWLIST_FILE).read_text())
    data["allowed"][0]["file"] = "*"
    (repo.root / ALLOWLIST_FILE).write_text(json.dumps(data))
    assert scan_paths(repo.root, paths) == [] and load_allowlist(repo.root).allows(notebook_finding)


@pytest.mark.parametrize("content, message", [
    ('{"version": 1, "allowed": [', "not valid JSON"),
    ('[]', '"version": 1'),
    ('{"version": 2, "allowed": []}', '"version": 1'),
    ('{"version": 1, "allowed": [{"secret_hash": "' + "a" * 64 + '"}]}', 'allowed[0] needs a "file"'),
    ('{"version": 1, "allowed": [{"file": "*", "secret_hash": "abc"}]}', "allowed[0].secret_hash"),
])
def test_a_malformed_allow_list_is_a_clear_error_naming_the_file(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / ALLOWLIST_FILE).write_text(content)
    with pytest.raises(NbopsError) as error:
        load_allowlist(tmp_path)
    assert error.value.file == ALLOWLIST_FILE and message in str(error.value) and ALLOWLIST_FILE in str(error.value)


def test_write_allowlist_is_deterministic_and_keeps_earlier_reasons(tmp_path: Path) -> None:
    findings = [f for text in (f'a = "{AWS_KEY}"', f'token = "{GITHUB}"', f'slack = "{SLACK}"')
                for f in scan_text(text, f"notebooks/{text[0]}.ipynb", cell=1, where="source")]
    one, two = tmp_path / "one", tmp_path / "two"
    write_allowlist(one, findings, "examples")
    write_allowlist(two, list(reversed(findings)) + findings[:1], "examples")
    assert (one / ALLOWLIST_FILE).read_bytes() == (two / ALLOWLIST_FILE).read_bytes()
    before = (one / ALLOWLIST_FILE).read_bytes()
    write_allowlist(one, findings, "another reason")  # nothing new: same bytes, first reasons kept
    assert (one / ALLOWLIST_FILE).read_bytes() == before and b"another reason" not in before
    assert all(load_allowlist(one).allows(f) for f in findings) and AWS_KEY.encode() not in before
    with pytest.raises(NbopsError, match="needs a reason"):
        write_allowlist(one, findings, "  ")


def executed(source: str | list[str]) -> dict[str, Any]:
    return {"nbformat": 4, "nbformat_minor": 5, "cells": [
        {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": 'api_token = ""\n', "outputs": []},
        {"cell_type": "code", "metadata": {"tags": ["injected-parameters"]}, "source": source, "outputs": []}],
        "metadata": {"papermill": {"parameters": {"api_token": GITHUB, "region": "eu", "db_password": PW}}}}


@pytest.mark.parametrize("as_list", [True, False])
def test_redaction_masks_secret_inputs_and_nothing_else(tmp_path: Path, as_list: bool) -> None:
    source = ["# Parameters\n", f'api_token = "{GITHUB}"\n', 'region = "eu"\n',
              f"db_password: str = '{PW}'  # from the vault\n", 'extra = {"k": [1,\n', ' 2]}\n']
    original = executed(source if as_list else "".join(source))
    redacted = redact_secret_parameters(original, {"api_token", "db_password", "extra", "absent"})
    cell = redacted["cells"][1]["source"]
    assert "".join(cell) == ('# Parameters\napi_token = "***"\nregion = "eu"\n'
                             'db_password: str = "***"  # from the vault\nextra = "***"\n')
    assert isinstance(cell, list) is as_list
    assert redacted["metadata"]["papermill"]["parameters"] == {"api_token": "***", "region": "eu", "db_password": "***"}
    assert redacted["cells"][0] == original["cells"][0] and GITHUB in json.dumps(original)  # a copy
    broken = redact_secret_parameters(executed(f'api_token = "{GITHUB}"\nif True\n'), {"api_token"})
    assert broken["cells"][1]["source"] == 'api_token = "***"\nif True\n'  # not Python: redacted line by line
    for data, leaks in ((original, True), (redacted, False)):
        (tmp_path / "run.ipynb").write_text(json.dumps(data))
        assert bool(scan_file(tmp_path / "run.ipynb", "run.ipynb")) is leaks


def test_the_scan_stays_offline_even_with_detect_secrets_verification_switched_on(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from detect_secrets.settings import transient_settings

    def refuse(*args: object) -> None:
        raise AssertionError("the secret scan opened a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    verify = {"path": "detect_secrets.filters.common.is_ignored_due_to_verification_policies", "min_level": 2}
    with transient_settings({"plugins_used": [{"name": "SlackDetector"}], "filters_used": [verify]}):
        assert [f.kind for f in scan_text(f'slack = "{SLACK}"\naws = "{AWS_KEY}"', "a.py")] == \
            ["Slack Token", "AWS Access Key"]


def test_a_two_thousand_cell_notebook_scans_quickly(tmp_path: Path) -> None:
    cells = []
    for i in range(2000):
        out = nbformat.v4.new_output("stream", name="stdout", text=f"row {i}: total={i * 3.5}\ndone\n")
        source = f'df_{i} = load("table_{i}", limit={i})\nresult = df_{i}.groupby("region").sum()\nprint(result)\n'
        cells.append(code(source + (f'key = "{AWS_KEY}"\n' if i == 1234 else ""), [out]))
    path = notebook(tmp_path / "big.ipynb", cells)
    start = time.perf_counter()
    findings = scan_file(path, "big.ipynb")
    elapsed = time.perf_counter() - start
    print(f"2,000-cell notebook ({path.stat().st_size:,} bytes) scanned in {elapsed:.2f} s")
    assert [(f.cell, f.line) for f in findings] == [(1234, 4)]
    assert elapsed < 10
