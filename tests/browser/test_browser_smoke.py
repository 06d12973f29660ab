"""The offline path the catalog relies on, proved in a real browser: a Material site built by a real
``mkdocs build`` renders Mermaid with the shipped mermaid.min.js (no unpkg) and its built-in search
finds a page by a word, with every request off 127.0.0.1 blocked and recorded."""
from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from chromium import BrowserSession, chromium_executable, chromium_session, serve_site

from kernel_ext.catalog import __file__ as catalog_init

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ASSETS = Path(catalog_init).parent / "assets"
WORD = "quetzalcoatlite"  # a word no theme string contains

MKDOCS_YML = """\
site_name: Offline smoke
theme:
  name: material
  font: false
plugins:
  - search
markdown_extensions:
  - pymdownx.superfences:
      custom_fences:
        - name: mermaid
          class: mermaid
          format: !!python/name:pymdownx.superfences.fence_code_format
extra_javascript:
  - js/mermaid.min.js
"""

INDEX_MD = """\
# Home

```mermaid
graph LR
  extract --> transform --> load
```
"""

MINERALS_MD = f"""\
# Minerals

The nightly flow loads {WORD} samples into the warehouse.
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real ``mkdocs build --strict`` of a two-page Material site."""
    project = tmp_path_factory.mktemp("smoke")
    (project / "mkdocs.yml").write_text(MKDOCS_YML)
    docs = project / "docs"
    (docs / "js").mkdir(parents=True)
    (docs / "index.md").write_text(INDEX_MD)
    (docs / "minerals.md").write_text(MINERALS_MD)
    shutil.copy(ASSETS / "mermaid.min.js", docs / "js" / "mermaid.min.js")
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q"], check=False, cwd=project,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return project / "site"


@pytest.fixture
def browser(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[BrowserSession]:
    with chromium_session(tmp_path, request.node.name) as session:
        yield session


def test_built_site_links_no_cdn(site: Path) -> None:
    html = (site / "index.html").read_text()
    assert "js/mermaid.min.js" in html
    assert "fonts.googleapis.com" not in html and "unpkg.com" not in html


def test_mermaid_renders_offline_from_the_shipped_build(site: Path, browser: BrowserSession) -> None:
    page = browser.page
    with serve_site(site) as url:
        page.goto(url)
        svg = page.locator("div.mermaid svg").first
        svg.wait_for(timeout=30_000)
        assert page.evaluate("typeof window.mermaid.render") == "function"  # UMD build sets the global
        assert "transform" in (svg.text_content() or "")
        shot = browser.screenshot("mermaid")
    assert shot.stat().st_size > 1000
    assert any(u.endswith("js/mermaid.min.js") for u in browser.requests)
    assert browser.blocked == [], f"requests left 127.0.0.1: {browser.blocked}"
    assert browser.console_errors == []


def test_search_finds_a_page_by_a_word(site: Path, browser: BrowserSession) -> None:
    page = browser.page
    with serve_site(site) as url:
        page.goto(url)
        page.locator("input.md-search__input").click()
        page.keyboard.type(WORD)  # Material searches on key events, which fill() does not send
        result = page.locator("a.md-search-result__link", has_text="Minerals")
        result.first.wait_for(timeout=30_000)
        browser.screenshot("search")
        result.first.click()
        page.wait_for_url("**/minerals/**")
        assert WORD in page.locator("article").inner_text()
    assert any("search_index.json" in u for u in browser.requests)
    assert browser.blocked == [], f"requests left 127.0.0.1: {browser.blocked}"


def test_network_guard_blocks_and_records_foreign_requests(site: Path, browser: BrowserSession) -> None:
    """The guard itself can fail a test: a page fetching from a CDN is caught, not silently allowed."""
    page = browser.page
    with serve_site(site) as url:
        page.goto(url)
        page.evaluate("fetch('https://unpkg.com/mermaid@11/dist/mermaid.min.js').catch(() => null)")
        page.wait_for_timeout(200)
    assert browser.blocked == ["https://unpkg.com/mermaid@11/dist/mermaid.min.js"]


@pytest.mark.parametrize("ci, outcome", [("", pytest.skip.Exception), ("true", pytest.fail.Exception)])
def test_missing_chromium_skips_locally_and_fails_in_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                         ci: str, outcome: type[BaseException]) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no chromium on PATH
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="apt-get install -y chromium"):
        chromium_executable()
