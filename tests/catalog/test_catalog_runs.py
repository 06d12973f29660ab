"""The catalog's last runs and executed notebook come from real `nbops run` executions, and
`nbops catalog serve` rebuilds when a notebook changes."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from conftest import Repo
from test_catalog import build, content, page, site

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _fixed_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1704067200")
    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")


def test_last_runs_and_the_executed_notebook_come_from_the_history(repo: Repo) -> None:
    site(repo, notebooks=True)
    repo.nb("sales.ipynb", "schedule: '0 6 * * *'\n", params="region = 'eu'\nfail = False\n",
            body="print('total for', region, 'is', 42)\nassert not fail, 'the sales feed is empty'\n")
    repo.git("add", "-A")
    repo.git("commit", "-qm", "sales")
    assert repo.cli("run", "sales", "-p", "fail=true").code == 10
    assert repo.cli("run", "sales", "-p", "region=us").code == 0
    html = content(page(build(repo), "catalog/acme.data/sales/index.html"))
    rows = re.findall(r"<tr>\s*<td>(SUCCESS|FAILED)</td>(.*?)</tr>", html, re.DOTALL)
    assert [status for status, _ in rows] == ["SUCCESS", "FAILED"]  # newest first
    assert "region=us" in rows[0][1] and "fail=true" in rows[1][1]
    assert "AssertionError: the sales feed is empty" in rows[1][1] and "cell " in rows[1][1]
    assert re.search(r"\d+\.\d s", rows[0][1])  # the duration
    assert '<div class="nbops-notebook"' in html and "total for us is 42" in html  # the last executed notebook
    assert "SUCCESS" in content(page(repo.root / "site", "catalog/index.html"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return str(response.read().decode("utf-8"))


def _wait_for(url: str, text: str, seconds: float = 60.0) -> str:
    deadline, last = time.monotonic() + seconds, ""
    while time.monotonic() < deadline:
        try:
            last = _get(url)
            if text in last:
                return last
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{text!r} never appeared at {url}")


def test_serve_rebuilds_when_a_notebook_changes(repo: Repo) -> None:
    site(repo)
    repo.nb("live.ipynb", title="# Live flow\n\nFirst version.")
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen([sys.executable, "-m", "kernel_ext.cli", "-C", str(repo.root), "catalog", "serve",
                               "--dev-addr", f"127.0.0.1:{port}"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/catalog/acme.data/live/"
        _wait_for(url, "First version.")
        repo.nb("live.ipynb", title="# Live flow\n\nSecond version.")
        _wait_for(url, "Second version.")
    finally:
        server.terminate()
        server.wait(timeout=30)
