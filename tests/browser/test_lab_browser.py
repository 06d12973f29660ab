"""The kernel extension in a real JupyterLab, driven in headless Chromium: ``jupyter lab`` started
from the venv on 127.0.0.1 (a token, a free port, every Jupyter/IPython folder under tmp) in a temp
Git repository holding an example flow notebook; the test opens it, runs all cells from the Run menu,
waits for the flow card and the ``%nbops`` panel (real ipywidgets views, not "Loading widget..."),
clicks Validate, YAML and Commit, and checks what the page shows and what Git holds. Screenshots and
the server's log go to test-artifacts/<test>/. The server is shut down by its PID and no process of
it (kernels included) may be left running."""
from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest
from chromium import artifacts_dir, chromium_executable, chromium_session
from conftest import write_notebook

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NAMESPACE = "acme.lab"
NOTEBOOK = "notebooks/sales_report.ipynb"
FLOW_FILE = "_flows/sales_report.yml"
HEADER = "%%flow\nschedule: '0 6 * * 1-5'\ntimezone: Europe/Paris\nlabels:\n  team: sales\n"
DESCRIPTION = "# Sales report\n\nRevenue of one region over the last days, and its best products."
PARAMS = ("region = 'eu'  # sales region\n"
          "top_n: int = 5  # products in the ranking\n"
          "threshold = 0.25  # alert level\n")
BODY = "print(f'top {top_n} products in {region} above {threshold}')\n"
MESSAGE = "sales report: weekly totals from the panel"

LAB_LOAD = 120_000  # ms: JupyterLab's first load on a small CI machine
KERNEL = 90_000  # ms: a kernel starting, then running the notebook
ACTION = 30_000  # ms: one panel button's round trip through the kernel
SERVER_START = 60  # s
FOREIGN_SERVER_EXTENSIONS = ("ploomber", "ploomber_extension", "jupyterlab_jupytext", "nbclassic")
FOREIGN_LAB_EXTENSIONS = ("ploomber-extension", "jupyterlab-jupytext")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def lab_repo(tmp_path: Path) -> Path:
    """A Git repository (one initial commit) with the example flow notebook, not yet committed."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "lab@example.com")
    git(root, "config", "user.name", "Lab Test")
    (root / "pyproject.toml").write_text(f'[tool.nbops]\nnamespace = "{NAMESPACE}"\n')
    (root / ".gitignore").write_text(".ipynb_checkpoints/\n.nbops/\n")
    git(root, "add", "pyproject.toml", ".gitignore")
    git(root, "commit", "-qm", "initial commit")
    write_notebook(root / NOTEBOOK, [
        ("code", "%load_ext kernel_ext", ["skip-execution"]),
        ("code", HEADER, ["skip-execution"]),
        ("markdown", DESCRIPTION, []),
        ("code", PARAMS, ["parameters"]),
        ("code", BODY, []),
        ("code", "%nbops", ["skip-execution"]),
    ])
    return root


@dataclass
class Lab:
    url: str  # base URL, ending in /
    token: str
    pid: int
    log: Path

    def api(self, path: str) -> Any:
        request = urllib.request.Request(f"{self.url}{path}", headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=5) as response:  # 127.0.0.1 only
            return json.load(response)

    def page_url(self, path: str) -> str:
        return f"{self.url}lab/tree/{path}?token={self.token}"


def lab_environment(home: Path) -> dict[str, str]:
    """Jupyter's config, data and runtime folders and IPython's under ``home``: nothing of the user's
    (no lab-setup block, no settings) is read, nothing is written outside tmp. Kernelspecs and
    labextensions (the ipywidgets manager) are still found in the venv's share/jupyter, which Jupyter
    always searches (sys.prefix); JUPYTER_PATH names it too, for clarity."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JPY_", "NBOPS_"))}
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        folder = home / name.lower()
        folder.mkdir(parents=True, exist_ok=True)
        env[name] = str(folder)
    env["JUPYTER_PATH"] = str(Path(sys.prefix) / "share" / "jupyter")
    config = Path(env["JUPYTER_CONFIG_DIR"])
    # what CI installs (.[test]) and no more: extensions of other tools in a developer's venv are off
    (config / "jupyter_server_config.json").write_text(json.dumps(
        {"ServerApp": {"jpserver_extensions": {name: False for name in FOREIGN_SERVER_EXTENSIONS}}}))
    (config / "labconfig").mkdir()
    (config / "labconfig" / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {name: True for name in FOREIGN_LAB_EXTENSIONS}}))
    # no news, no update check: JupyterLab asks nothing of the Internet (and the guard would record it)
    settings = config / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"checkForUpdates": False, "fetchNews": "false"}))
    return env


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (the server shuts its kernels down), then SIGKILL if it hangs."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@contextlib.contextmanager
def jupyter_lab(root: Path, home: Path, artifacts: Path) -> Iterator[Lab]:
    """``jupyter lab`` from the venv, serving ``root``; shut down by its PID, leaving no process."""
    port, token = free_port(), secrets.token_hex(16)
    log = home / "jupyter-lab.log"
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
               "--ServerApp.terminals_enabled=False", "--LabApp.news_url=None",
               *(["--allow-root"] if os.geteuid() == 0 else []),  # CI containers run as root
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    env = lab_environment(home)
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
    lab = Lab(f"http://127.0.0.1:{port}/", token, process.pid, log)
    descendants: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + SERVER_START
        while True:
            if process.poll() is not None:
                pytest.fail(f"jupyter lab exited ({process.returncode}):\n{log.read_text()[-3000:]}")
            try:
                lab.api("api/status")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    pytest.fail(f"jupyter lab did not answer in {SERVER_START}s:\n{log.read_text()[-3000:]}")
                time.sleep(0.25)
        yield lab
    finally:
        # the server's kernels, seen while it still runs: none may survive its shutdown
        with contextlib.suppress(psutil.NoSuchProcess):
            descendants = psutil.Process(process.pid).children(recursive=True)
        _stop(process)
        left = [p for p in descendants if _alive(p)]
        for leftover in left:  # never leak a kernel, but fail the test below
            with contextlib.suppress(psutil.NoSuchProcess):
                leftover.kill()
        artifacts.mkdir(parents=True, exist_ok=True)
        shutil.copy(log, artifacts / "jupyter-lab.log")
    assert process.returncode is not None  # the server itself: ended and reaped by _stop
    assert descendants, "no kernel was seen under the server"
    assert left == [], f"processes left after the server's shutdown: {[p.pid for p in left]}"


def element_screenshot(page: Any, locator: Any, path: Path) -> Path:
    """All of ``locator``: JupyterLab scrolls inside the notebook, so the window grows to hold it."""
    size = page.viewport_size
    box = locator.bounding_box()
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], int(box["height"]) + 250)})
    try:
        locator.scroll_into_view_if_needed()
        locator.screenshot(path=str(path))
    finally:
        page.set_viewport_size(size)
    return path


def test_panel_validates_previews_yaml_and_commits_in_jupyterlab(lab_repo: Path, tmp_path: Path,
                                                                  request: pytest.FixtureRequest) -> None:
    chromium_executable()  # skip (locally) or fail (CI) before starting a server for nothing
    from playwright.sync_api import expect

    artifacts = artifacts_dir(request.node.name)
    with jupyter_lab(lab_repo, tmp_path / "home", artifacts) as lab, \
            chromium_session(tmp_path, request.node.name) as browser:
        specs = lab.api("api/kernelspecs")
        assert "python3" in specs["kernelspecs"], specs
        page = browser.page
        page.goto(lab.page_url(NOTEBOOK), wait_until="domcontentloaded")
        notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")
        expect(notebook.locator(".jp-Cell")).to_have_count(6, timeout=LAB_LOAD)
        expect(page.locator(".jp-StatusBar-TextItem", has_text="| Idle")).to_be_visible(
            timeout=KERNEL)
        browser.screenshot("1-notebook-opened")

        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()

        card = notebook.locator(".nbops-card")
        expect(card.locator(".nbops-flow-id")).to_have_text(f"{NAMESPACE}.sales_report", timeout=KERNEL)
        expect(card.locator(".nbops-status")).to_contain_text("valid")
        rows = card.locator("tr.nbops-input")
        expect(rows).to_have_count(3)
        assert [r.split("\t") for r in rows.all_inner_texts()] == [
            ["region", "STRING", "eu", "sales region"], ["top_n", "INT", "5", "products in the ranking"],
            ["threshold", "FLOAT", "0.25", "alert level"]]
        # the card's own style wins over JupyterLab's right-aligned output tables
        assert rows.first.locator("td").first.evaluate("td => getComputedStyle(td).textAlign") == "left"
        expect(card.locator(".nbops-schedule")).to_contain_text("At 06:00, Monday through Friday")
        # the description keeps its lines (Markdown source), not one run-on line
        assert card.locator(".nbops-description").inner_text().startswith("# Sales report\n\nRevenue")
        panel = notebook.locator(".nbops-panel")
        expect(panel).to_be_visible(timeout=KERNEL)  # the widget view itself, from the ipywidgets manager
        expect(notebook).not_to_contain_text("Loading widget")
        browser.screenshot("2-card")
        element_screenshot(page, card, artifacts / "2-card-element.png")

        buttons = {name: panel.locator(f"button.nbops-{name}") for name in ("validate", "yaml", "commit")}
        for name, text in (("validate", "Validate"), ("yaml", "YAML"), ("commit", "Commit")):
            expect(buttons[name]).to_have_text(text)
            expect(buttons[name]).to_be_enabled()
        message, output = panel.locator(".nbops-message"), panel.locator(".nbops-output")
        expect(message).to_have_text(f"valid: flow {NAMESPACE}.sales_report")  # validated when shown

        buttons["yaml"].click()
        expect(output).to_contain_text("id: sales_report", timeout=ACTION)
        expect(output).to_contain_text(f"namespace: {NAMESPACE}")
        expect(output).to_contain_text("cron: 0 6 * * 1-5")
        expect(message).to_have_text("the Kestra flow this notebook exports to")
        browser.screenshot("3-panel-yaml")
        element_screenshot(page, panel, artifacts / "3-panel-yaml-element.png")

        buttons["validate"].click()  # the message goes back from YAML's to Validate's
        expect(message).to_have_text(f"valid: flow {NAMESPACE}.sales_report", timeout=ACTION)
        expect(panel.locator(".nbops-reason")).to_have_text("")  # nothing disabled, nothing to explain

        box = panel.locator(".nbops-commit-message input")
        box.click()
        page.keyboard.type(MESSAGE)  # key events: the Text widget syncs its value to the kernel
        buttons["commit"].click()
        expect(message).to_contain_text("committed ", timeout=ACTION)
        head = git(lab_repo, "rev-parse", "HEAD").strip()
        expect(message).to_have_text(f"committed {head[:12]}: {MESSAGE}\n  {FLOW_FILE}\n  {NOTEBOOK}")
        expect(box).to_have_value("")  # cleared for the next commit
        browser.screenshot("4-panel-commit")
        element_screenshot(page, panel, artifacts / "4-panel-commit-element.png")

        assert git(lab_repo, "log", "--format=%s", "-1").strip() == MESSAGE
        assert git(lab_repo, "show", "--name-only", "--format=", "HEAD").split() == [FLOW_FILE, NOTEBOOK]
        assert f"namespace: {NAMESPACE}" in git(lab_repo, "show", f"HEAD:{FLOW_FILE}")
        assert git(lab_repo, "rev-list", "--count", "HEAD").strip() == "2"
        expect(notebook).not_to_contain_text("Traceback")
        expect(page.locator(".jp-Dialog")).to_have_count(0)  # e.g. no "file changed on disk"
        assert browser.console_errors == [], browser.console_errors
        assert browser.blocked == [], f"requests left 127.0.0.1: {browser.blocked}"
