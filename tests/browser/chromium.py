"""Shared helpers for the browser tests: Debian's chromium driven by Playwright (never a downloaded
browser), a static HTTP server for a built site on 127.0.0.1, and a network guard that blocks and
records every request leaving 127.0.0.1 so a test can assert that the site fetched nothing from a CDN.

Locally the tests skip when chromium is missing; with CI set they fail instead.

Use from a test module::

    @pytest.fixture
    def browser(tmp_path, request):
        with chromium_session(tmp_path, request.node.name) as session:
            yield session
"""
from __future__ import annotations

import contextlib
import functools
import http.server
import os
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"  # gitignored; CI keeps it as the run's artifacts
MISSING = "Chromium not found: apt-get install -y chromium (the browser tests need Debian's chromium)"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LOCAL_HOSTS = {"127.0.0.1"}
INERT_SCHEMES = {"data", "blob", "about"}  # never touch the network

# Material renders Mermaid into a *closed* shadow root; forcing shadow roots open (test pages
# only) lets Playwright's selectors, which pierce open roots, see the rendered <svg>.
OPEN_SHADOW_ROOTS = """
(() => {
  const attach = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (init) { return attach.call(this, {...init, mode: "open"}); };
})();
"""


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def chromium_executable() -> str:
    """Path of Debian's chromium; skips the test locally, fails it in CI, when it is missing."""
    path = shutil.which("chromium")
    if path is None:
        if in_ci():
            pytest.fail(MISSING, pytrace=False)
        pytest.skip(MISSING)
    return path


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serve_site(site: Path) -> Iterator[str]:
    """Serve ``site`` on 127.0.0.1 (a free port, threaded, in-process); yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class BrowserSession:
    """A page plus what the network guard saw."""

    page: Any
    screenshots: Path
    requests: list[str] = field(default_factory=list)  # everything the page asked for
    blocked: list[str] = field(default_factory=list)  # the part that was not for 127.0.0.1
    console_errors: list[str] = field(default_factory=list)

    def screenshot(self, name: str) -> Path:
        """Save a full-page PNG under the test's artifacts folder and return its path."""
        self.screenshots.mkdir(parents=True, exist_ok=True)
        path = self.screenshots / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in INERT_SCHEMES or parts.hostname in LOCAL_HOSTS


def artifacts_dir(test_name: str) -> Path:
    return ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", test_name)


@contextlib.contextmanager
def chromium_session(tmp_path: Path, test_name: str) -> Iterator[BrowserSession]:
    """Chromium with a fresh profile under ``tmp_path``; requests off 127.0.0.1 aborted and recorded."""
    executable = chromium_executable()
    from playwright.sync_api import sync_playwright  # imported once chromium is known to exist

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=executable, headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1280, "height": 900}, service_workers="block")
        try:
            yield _guarded(context, artifacts_dir(test_name))
        finally:
            context.close()


def _guarded(context: Any, screenshots: Path) -> BrowserSession:
    page = context.pages[0] if context.pages else context.new_page()
    session = BrowserSession(page, screenshots)

    def route(route: Any) -> None:
        url = route.request.url
        session.requests.append(url)
        if is_local(url):
            route.continue_()
        else:
            session.blocked.append(url)
            route.abort("blockedbyclient")

    def console(message: Any) -> None:
        if message.type == "error":
            session.console_errors.append(message.text)

    context.route("**/*", route)
    context.add_init_script(OPEN_SHADOW_ROOTS)
    page.on("console", console)
    return session
