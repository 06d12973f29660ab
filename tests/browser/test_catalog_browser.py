"""The catalog in headless Chromium. A fixture repository (two namespaces; a scheduled pipeline with
typed inputs, a parallel group, `after` and labels; a hostile notebook run once by `nbops run`; a
hostile hand-written flow) is built by a real `mkdocs build` through the nbops plugin and served on
127.0.0.1: index, search, flow page, executed notebook, and no script from a notebook ever running."""
from __future__ import annotations

import base64
import json
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chromium import BrowserSession, chromium_session, serve_site
from conftest import Repo, write_notebook

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WORD = "zymurgical"  # only in the pipeline's description; no theme string contains it
HOSTILE_WORD = "quixotically"  # only in the two hostile flows' descriptions
SCRIPT = "<script>window.__pwned=1</script>"
IMG = '<img src=x onerror="window.__pwned=1">'
PAYLOAD = (f'{SCRIPT} {IMG} <svg onload="window.__pwned=1"></svg> [click](javascript:window.__pwned=1) '
           '<a href="jav&#x09;ascript:window.__pwned=1">tab</a> </div><script>window.__pwned=1</script>')
INPUTS = {"region": ("STRING", "eu", "sales region"), "top_n": ("INT", "5", "rows in the report"),
          "threshold": ("FLOAT", "0.5", "alert level")}
STEPS = ("extract", "clean_orders", "clean_customers", "report")
RUN_TEXT = "hostile flow ran: 42 rows"
HOSTILE_PAGES = ("acme.data/hostile/", "acme.data/hostile_yaml/", "", "acme.data/", "lineage/")
CONTROL = '<img src="data:," onerror="window.__pwned=1">'  # what the page would run if it were not escaped

PIPELINE = """\
schedule: '0 6 * * 1-5'
timezone: Europe/Paris
labels: {team: analytics, tier: 1}
after: acme.data.ingest
steps:
  - _extract.ipynb
  - parallel: [_clean_orders.ipynb, _clean_customers.ipynb]
  - _report.ipynb
"""
PIPELINE_PARAMS = "region = 'eu'  # sales region\ntop_n: int = 5  # rows in the report\nthreshold = 0.5  # alert level"
HOSTILE_HEADER = f"""\
labels: {{team: '{SCRIPT}', x: '{IMG}'}}
outputs:
  total: {{type: INT, description: '{SCRIPT} {IMG}'}}
"""
HOSTILE_TITLE = f"# Hostile {SCRIPT} flow\n\nA {HOSTILE_WORD} written notebook. {PAYLOAD}\n\n## More {IMG}\n\n{PAYLOAD}"
# A hand-written flow: its description's headings reach the table of contents, its Subflow task and
# Flow trigger name flows outside the catalog, which the lineage page draws as Mermaid nodes.
HAND_WRITTEN = (f"Hand-written, {HOSTILE_WORD}. {PAYLOAD}\n\n> [ref]: javascript:window.__pwned=1\n\n[ref][]\n\n"
                f"## Heading {IMG} {SCRIPT}\n\ntext")
HOSTILE_YAML = f"""\
id: hostile_yaml
namespace: acme.data
description: {json.dumps(HAND_WRITTEN)}
labels: {{team: '<svg onload="window.__pwned=1">'}}
tasks:
  - id: call
    type: io.kestra.plugin.core.flow.Subflow
    namespace: 'acme.<img src=x onerror=window.__pwned=1>'
    flowId: '"]-->x["<img src=x onerror=window.__pwned=1>'
triggers:
  - id: upstream
    type: io.kestra.plugin.core.trigger.Flow
    preconditions:
      id: upstream
      flows: [{{namespace: acme.data, flowId: '</div><script>window.__pwned=1</script>', states: [SUCCESS]}}]
"""


def png(width: int = 8, height: int = 4) -> bytes:
    """A real RGB PNG, written by hand (no imaging library needed in the kernel)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x20\x80\xc0" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


HOSTILE_BODY = f"""\
import base64
from IPython.display import HTML, Image, Markdown, display
print({RUN_TEXT!r})
display(Image(data=base64.b64decode({base64.b64encode(png()).decode()!r})))
display(HTML({PAYLOAD!r}))
display(Markdown({PAYLOAD!r}))
"""

# Every on* attribute, javascript: URL and script element of the page, its open shadow roots
# included (browser.py forces Mermaid's closed root open), as "TAG what" strings.
ACTIVE_CONTENT = """() => {
  const found = [];
  const walk = (root) => { for (const el of root.querySelectorAll('*')) {
    for (const a of el.attributes)
      if (/^on/i.test(a.name) || /^\\s*javascript:/i.test(a.value)) found.push(`${el.tagName} ${a.name}=${a.value}`);
    if (el.tagName === 'SCRIPT' && /__pwned/.test(el.textContent)) found.push(`SCRIPT ${el.textContent}`);
    if (el.shadowRoot) walk(el.shadowRoot);
  } };
  walk(document);
  return found;
}"""


def make_repo(root: Path) -> Repo:
    root.mkdir()
    (root / "pyproject.toml").write_text('[tool.nbops]\nnamespace = "acme.data"\n')
    repo = Repo(root)
    repo.git("init", "-q", "-b", "main")
    repo.git("config", "user.email", "test@example.com")
    repo.git("config", "user.name", "Test")
    return repo


def add_flows(repo: Repo) -> None:
    repo.nb("ingest.ipynb", "schedule: '@daily'\nlabels: {team: platform}\n",
            title="# Ingest orders\n\nCopies the raw orders from the shop.")
    repo.nb("sales/nightly_sales.ipynb", PIPELINE, params=PIPELINE_PARAMS,
            title=f"# Nightly sales\n\nBuilds the {WORD} sales mart for the regions.")
    for step in ("_extract", "_clean_orders", "_clean_customers", "_report"):
        write_notebook(repo.root / "notebooks" / "sales" / f"{step}.ipynb",
                       [("code", "region = 'eu'\n", ["parameters"]), ("code", "print(region)\n", [])])
    repo.nb("sales/weekly_summary.ipynb", "schedule: '0 8 * * 1'\nafter: nightly_sales\n",
            title="# Weekly summary\n\nSummarises the week.")
    repo.nb("hostile.ipynb", HOSTILE_HEADER, params=f"note = 'x'  # {SCRIPT} {IMG}\n", body=HOSTILE_BODY,
            title=HOSTILE_TITLE)
    (repo.root / "_flows").mkdir()
    (repo.root / "_flows" / "hostile_yaml.yml").write_text(HOSTILE_YAML)
    repo.git("add", "-A")
    repo.git("commit", "-qm", "Add the flows")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`nbops run hostile` once, then `nbops catalog build`: MkDocs' build, embedded configuration."""
    repo = make_repo(tmp_path_factory.mktemp("catalog") / "repo")
    add_flows(repo)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("NO_MKDOCS_2_WARNING", "1")
        ran = repo.cli("run", "hostile")
        assert ran.code == 0, ran.out + ran.err
        built = repo.cli("catalog", "build")
    assert built.code == 0, built.out + built.err
    return repo.root / "site"


@pytest.fixture
def browser(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[BrowserSession]:
    with chromium_session(tmp_path, request.node.name) as session:
        session.page.set_default_timeout(15_000)
        yield session


def offline_and_quiet(browser: BrowserSession) -> None:
    assert browser.requests, "the network guard saw no request"
    assert browser.blocked == [], f"requests left 127.0.0.1: {browser.blocked}"
    assert browser.console_errors == [], browser.console_errors


def search(page: Any, word: str) -> Any:
    page.locator("input.md-search__input").click()
    page.keyboard.type(word)  # Material searches on key events, which fill() does not send
    results = page.locator("li.md-search-result__item")
    results.first.wait_for(timeout=30_000)
    return results


def after_heading(page: Any, heading: str, css: str) -> Any:
    """``css`` inside the block right after the h2 (Material wraps tables in scroll containers)."""
    return page.locator(f"xpath=//h2[@id='{heading}']/following-sibling::*[1]").locator(css)


def loaded(page: Any) -> None:
    """Load finished, and Mermaid (when the page has a diagram) rendered its SVG."""
    page.wait_for_load_state("networkidle")
    if page.locator(".mermaid").count():
        page.locator("div.mermaid svg").first.wait_for(timeout=30_000)


def assert_inert(page: Any, where: str) -> None:
    assert page.evaluate("typeof window.__pwned") == "undefined", f"a notebook script ran on {where}"
    assert page.locator("article script").count() == 0, where
    assert page.evaluate(ACTIVE_CONTENT) == [], where


def test_index_lists_the_flows_and_search_finds_one_by_its_description(site: Path, browser: BrowserSession) -> None:
    page = browser.page
    with serve_site(site) as url:
        page.goto(url)
        table = page.locator("article table").first
        for namespace, flow in (("acme.data", "ingest"), ("acme.data", "hostile"), ("acme.data", "hostile_yaml"),
                                ("acme.data.sales", "nightly_sales"), ("acme.data.sales", "weekly_summary")):
            row = table.locator("tr", has=page.locator(f'a[href="{namespace}/{flow}/"]'))
            assert row.locator("td").first.inner_text() == namespace, flow
        assert "At 06:00, Monday through Friday" in table.inner_text()
        print("screenshot:", browser.screenshot("index"))
        results = search(page, WORD)
        assert results.count() == 1  # Material renders the results of a query at once
        assert WORD in results.first.inner_text()
        print("screenshot:", browser.screenshot("search"))
        results.first.locator("a.md-search-result__link").first.click()
        page.wait_for_url("**/acme.data.sales/nightly_sales/**")
        assert page.locator("article h1").inner_text() == "Nightly sales"
    offline_and_quiet(browser)


def check_inputs(page: Any) -> None:
    rows = after_heading(page, "inputs", "tbody tr")
    assert rows.count() == len(INPUTS)
    for name, (kind, default, text) in INPUTS.items():
        cells = rows.filter(has=page.locator("td:first-child", has_text=name)).locator("td").all_inner_texts()
        assert cells == [name, kind, default, "yes", text], cells


def check_task_graph(page: Any) -> None:
    svg = page.locator("div.mermaid svg").first
    svg.wait_for(timeout=30_000)  # Material renders Mermaid after load, from the shipped mermaid.min.js
    assert sorted(svg.locator("g.node").all_text_contents()) == sorted(f"{s} (Commands)" for s in STEPS)
    assert svg.locator(".cluster-label").all_text_contents() == ["parallel_2 (parallel)"]
    assert svg.locator("path.flowchart-link").count() == 4  # extract fans out to 2, both join into report


def check_yaml(page: Any) -> None:
    details = page.locator("details", has=page.locator("summary", has_text="Kestra YAML"))
    code = details.locator("code")
    assert details.get_attribute("open") is None and not code.is_visible()  # collapsed
    details.locator("summary").click()
    assert details.get_attribute("open") is not None and code.is_visible()
    assert "id: nightly_sales" in code.inner_text() and "io.kestra.plugin.core.flow.Parallel" in code.inner_text()
    copy = details.get_by_title("Copy to clipboard")  # Material's copy button (content.code.copy)
    assert copy.is_visible()
    copy.click()
    assert page.evaluate("navigator.clipboard.readText()").startswith("# Generated by nbops")


def test_flow_page_shows_inputs_task_graph_and_collapsible_yaml(site: Path, browser: BrowserSession) -> None:
    page = browser.page
    with serve_site(site) as url:
        page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url.rstrip("/"))
        page.goto(url + "acme.data.sales/nightly_sales/")
        check_inputs(page)
        check_task_graph(page)
        triggers = after_heading(page, "triggers", "li").all_inner_texts()[0]
        assert "At 06:00, Monday through Friday" in triggers and "Europe/Paris" in triggers
        assert page.locator('article a[href="../../acme.data/ingest/"]').count() >= 1  # after: ingest
        check_yaml(page)
        print("screenshot:", browser.screenshot("flow-page"))
    offline_and_quiet(browser)


def test_executed_notebook_shows_its_output_and_image(site: Path, browser: BrowserSession) -> None:
    page = browser.page
    with serve_site(site) as url:
        page.goto(url + "acme.data/hostile/")
        notebook = page.locator("div.nbops-notebook")
        assert RUN_TEXT in notebook.locator(".output_stdout").inner_text()
        image = notebook.locator('img[src^="data:image/png"]')
        assert image.count() == 1
        assert image.evaluate("img => img.complete && img.naturalWidth") == 8
        assert "SUCCESS" in after_heading(page, "last-runs", "tbody").inner_text()
    offline_and_quiet(browser)


def test_hostile_text_is_shown_never_run(site: Path, browser: BrowserSession) -> None:
    page = browser.page
    with serve_site(site) as url:
        for path in HOSTILE_PAGES:
            page.goto(url + path)
            loaded(page)
            assert_inert(page, path or "the index")
            diagram = " ".join(page.locator("div.mermaid svg g.node").all_text_contents())
            assert "window.__pwned=1" in page.locator("article").inner_text() + diagram, path  # shown as text
        offline_and_quiet(browser)
        page.evaluate("html => document.body.insertAdjacentHTML('beforeend', html)", CONTROL)
        page.wait_for_function("window.__pwned === 1")  # control: the payload is live when not escaped,
        with pytest.raises(AssertionError, match="a notebook script ran"):  # and assert_inert sees it
            assert_inert(page, "the control")


def test_hostile_search_results_are_text(site: Path, browser: BrowserSession) -> None:
    page = browser.page
    with serve_site(site) as url:
        page.goto(url)
        results = search(page, HOSTILE_WORD)
        results.nth(1).wait_for()
        assert results.count() == 2  # the notebook and the hand-written flow
        listed = page.locator(".md-search-result").inner_text()
        assert SCRIPT in listed and IMG in listed  # rendered as text by Material
        assert_inert(page, "the search results")
        print("screenshot:", browser.screenshot("hostile-search"))
        results.first.locator("a.md-search-result__link").first.click()  # lands with ?h= highlighting
        page.wait_for_url("**/acme.data/hostile*/**")
        loaded(page)
        assert page.locator("article mark").count() >= 1
        assert_inert(page, page.url)
    offline_and_quiet(browser)
