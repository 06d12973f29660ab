"""The catalog, end to end: real `mkdocs build` (through `nbops catalog build`) of real Git
repositories, and the generated HTML read back."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from conftest import Repo

EPOCH = "1704067200"  # 2024-01-01T00:00:00Z: "next runs" count from here (SOURCE_DATE_EPOCH)
MKDOCS = """site_name: test flows
theme: {name: material, font: false, features: [content.code.copy]}
plugins: [search, tags, {nbops: {notebooks: %s}}]
markdown_extensions:
  - tables
  - pymdownx.details
  - pymdownx.superfences:
      custom_fences:
        - name: mermaid
          class: mermaid
          format: !!python/name:pymdownx.superfences.fence_code_format
nav:
  - Home: index.md
"""
HAND_WRITTEN = """id: nightly_export
namespace: acme.data
description: Hand-written export, calls the report.
tasks:
  - id: call_report
    type: io.kestra.plugin.core.flow.Subflow
    namespace: acme.data
    flowId: report
"""


@pytest.fixture(autouse=True)
def _fixed_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")


def site(repo: Repo, notebooks: bool = False) -> Repo:
    (repo.root / "mkdocs.yml").write_text(MKDOCS % ("true" if notebooks else "false"))
    (repo.root / "docs").mkdir(exist_ok=True)
    (repo.root / "docs" / "index.md").write_text("# Home\n")
    return repo


def flows(repo: Repo) -> Repo:
    repo.nb("load_sales.ipynb", "schedule: '0 6 * * 1-5'\ntimezone: Europe/Paris\nlabels: {team: analytics}\n",
            params="region = 'eu'  # sales region\ntop_n: int = 5  # how many\n",
            title="# Load sales\n\nLoads the daily sales from the shop.")
    repo.nb("report.ipynb", "after: load_sales\n", title="# Sales report\n\nSummarises the sales.")
    (repo.root / "_flows").mkdir(exist_ok=True)
    (repo.root / "_flows" / "nightly_export.yml").write_text(HAND_WRITTEN)
    repo.git("add", "-A")
    repo.git("commit", "-qm", "Add the sales flows")
    return repo


def build(repo: Repo, *args: str) -> Path:
    result = repo.cli("catalog", "build", *args)
    assert result.code == 0, result.out + result.err
    return repo.root / "site"


def page(site_dir: Path, path: str) -> str:
    return (site_dir / path).read_text(encoding="utf-8")


def content(html: str) -> str:
    """The page's content area (what the plugin renders and sanitizes)."""
    return html[html.index('<article class="md-content__inner'):html.index("</article>")]


def test_index_lists_every_flow_with_schedule_labels_and_links(repo: Repo) -> None:
    out = build(site(flows(repo)))
    index = content(page(out, "catalog/index.html"))
    for flow in ("load_sales", "report", "nightly_export"):
        assert f'href="acme.data/{flow}/"' in index
    assert "At 06:00, Monday through Friday" in index and "after acme.data.load_sales" in index
    assert "<code>team: analytics</code>" in index and "Sales report" in index
    assert "Catalog" in page(out, "index.html")  # the nav gained a Catalog section (nav did not name it)


def test_flow_page_shows_inputs_schedule_graph_yaml_and_history(repo: Repo) -> None:
    out = build(site(flows(repo)))
    html = content(page(out, "catalog/acme.data/load_sales/index.html"))
    assert "<h1" in html and "Load sales</h1>" in html and "Loads the daily sales from the shop." in html
    assert re.search(r"<td><code>region</code></td>\s*<td>STRING</td>\s*<td><code>eu</code></td>\s*<td>yes</td>"
                     r"\s*<td>sales region</td>", html)
    assert re.search(r"<td><code>top_n</code></td>\s*<td>INT</td>\s*<td><code>5</code></td>", html)
    assert "At 06:00, Monday through Friday" in html and "Europe/Paris" in html
    assert "2024-01-01T06:00:00+01:00, 2024-01-02T06:00:00+01:00, 2024-01-03T06:00:00+01:00" in html
    assert '<pre class="mermaid"><code>flowchart LR' in html and "run_notebook" in html
    assert "<summary>Kestra YAML</summary>" in html and "language-yaml" in page(out, "catalog/acme.data/load_sales/"
                                                                                 "index.html") or "nt" in html
    assert "id</span>" in html and "load_sales" in html  # the highlighted YAML
    assert "Add the sales flows" in html and "Test" in html  # Git history: subject and author
    assert 'href="../report/"' in html  # downstream: report runs after it
    assert "analytics" in page(out, "tags.json") or "team: analytics" in page(out, "search/search_index.json")


def test_hand_written_flow_and_lineage_edges(repo: Repo) -> None:
    out = build(site(flows(repo)))
    hand = content(page(out, "catalog/acme.data/nightly_export/index.html"))
    assert "hand-written flow <code>_flows/nightly_export.yml</code>" in hand and "call_report" in hand
    lineage = content(page(out, "catalog/lineage/index.html"))
    nodes = dict(re.findall(r'(f\d+)\["([\w.]+)"\]', lineage))
    ids = {name: node for node, name in nodes.items()}
    assert f"{ids['acme.data.load_sales']} --&gt;|after| {ids['acme.data.report']}" in lineage
    assert f"{ids['acme.data.nightly_export']} -.-&gt;|subflow| {ids['acme.data.report']}" in lineage
    namespace = content(page(out, "catalog/acme.data/index.html"))
    assert namespace.count('<td><code>acme.data</code></td>') == 3


def test_invalid_notebook_gets_a_page_and_strict_fails_naming_it(repo: Repo) -> None:
    flows(site(repo))
    repo.nb("broken.ipynb", "schedule: 12\n")
    out = build(repo)  # not strict: the rest of the catalog builds
    html = content(page(out, "catalog/acme.data/broken/index.html"))
    assert "<h2 id=\"problems\">Problems</h2>" in html and "notebooks/broken.ipynb" in html
    assert "expected text, got a whole number" in html and "<code>schedule</code>" in html
    assert "does not convert" in content(page(out, "catalog/index.html"))
    strict = repo.cli("catalog", "build", "--strict")
    assert strict.code != 0
    assert "notebooks/broken.ipynb" in strict.err and "strict" in strict.err


def test_two_builds_give_identical_pages(repo: Repo, tmp_path: Path) -> None:
    from kernel_ext.adapters.project import find_project
    from kernel_ext.catalog.plugin import build_time
    from kernel_ext.core.catalog_pages import render_catalog
    from kernel_ext.services.catalog_data import gather

    flows(site(repo))
    project = find_project(repo.root)
    first = render_catalog(gather(project), build_time()).pages
    assert first == render_catalog(gather(project), build_time()).pages
    a, b = tmp_path / "a", tmp_path / "b"
    build(repo, "--site-dir", str(a))
    build(repo, "--site-dir", str(b))
    pages = sorted(p.relative_to(a) for p in (a / "catalog").rglob("*.html"))
    assert len(pages) == 6
    assert all((a / p).read_bytes() == (b / p).read_bytes() for p in pages)


def test_no_history_database_is_created_and_no_git_is_fine(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    root.mkdir()
    (root / "pyproject.toml").write_text('[tool.nbops]\nnamespace = "acme.data"\n')
    repo = Repo(root)
    repo.nb("alone.ipynb", title="# Alone\n\nNo Git here.")
    out = build(repo)  # no mkdocs.yml: the embedded configuration, catalog at the site root
    html = content(page(out, "acme.data/alone/index.html"))
    assert "No commit yet." in html and "No local run recorded" in html
    assert "alone" in content(page(out, "index.html"))
    assert not (root / ".nbops" / "state.db").exists()


XSS_TITLE = "# Evil <script>alert(1)</script> report\n\n"
XSS_BODY = ('<img src=x onerror="alert(2)"> [click](javascript:alert(3)) </div><script>alert(4)</script>\n\n'
            '<svg onload="alert(5)"></svg> {: onclick="alert(6)" }')


def test_hostile_text_from_a_notebook_never_becomes_markup(repo: Repo) -> None:
    site(repo)
    repo.nb("evil.ipynb", "labels: {team: '<script>alert(7)</script>', x: '\" onmouseover=alert(8)'}\n",
            params="note = '</td><script>alert(9)</script>'  # <b onclick=alert(10)>hi</b>\n",
            title=XSS_TITLE + XSS_BODY)
    repo.git("add", "-A")
    repo.git("commit", "-qm", "<script>alert(11)</script>")
    out = build(repo)
    for path in ("catalog/acme.data/evil/index.html", "catalog/index.html", "catalog/acme.data/index.html"):
        html = page(out, path)
        area = content(html)
        assert "<script" not in area.lower() and "<svg" not in area.lower(), path
        assert not re.search(r"<[^>]*\son\w+\s*=", area), path  # no event handler attribute
        assert not re.search(r"(href|src)\s*=\s*[\"']?\s*javascript:", area, re.IGNORECASE), path
        assert not re.search(r"<script>alert", html), path  # nor in the title, nav, meta or toc
    evil = content(page(out, "catalog/acme.data/evil/index.html"))
    assert "&lt;script&gt;alert(4)&lt;/script&gt;" in evil  # shown as text, not dropped
    assert "&lt;/td&gt;&lt;script&gt;alert(9)" in evil and "alert(11)" in evil


def test_publish_commits_the_site_to_a_branch_without_touching_the_work_tree(repo: Repo) -> None:
    flows(site(repo))
    (repo.root / ".gitignore").write_text("site/\n")
    (repo.root / "notebooks" / "wip.txt").write_text("uncommitted\n")
    repo.git("add", ".gitignore")
    before = (repo.git("status", "--porcelain"), repo.git("diff", "--cached"), repo.git("rev-parse", "HEAD"))
    result = repo.cli("catalog", "publish")
    assert result.code == 0, result.out + result.err
    assert (repo.git("status", "--porcelain"), repo.git("diff", "--cached"), repo.git("rev-parse", "HEAD")) == before
    assert repo.git("branch", "--show-current").strip() == "main"
    files = repo.git("ls-tree", "-r", "--name-only", "gh-pages").split()
    assert "index.html" in files and "catalog/acme.data/load_sales/index.html" in files and ".nojekyll" in files
    assert "gh-pages: committed" in result.out
    again = repo.cli("catalog", "publish", "--branch", "gh-pages", "-m", "second")
    assert again.code == 0 and repo.git("rev-list", "--count", "gh-pages").strip() in ("1", "2")


def test_publish_push_sends_the_branch_to_a_bare_remote(repo: Repo, tmp_path: Path) -> None:
    flows(site(repo))
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    repo.git("remote", "add", "origin", str(remote))
    result = repo.cli("catalog", "publish", "--push", "--branch", "pages")
    assert result.code == 0, result.out + result.err
    local = repo.git("rev-parse", "pages").strip()
    remote_head = subprocess.run(["git", "ls-remote", str(remote), "refs/heads/pages"], check=True,
                                 capture_output=True, text=True).stdout.split()[0]
    assert remote_head == local and "pushed to origin" in result.out
    listing = subprocess.run(["git", "--git-dir", str(remote), "ls-tree", "--name-only", "pages"], check=True,
                             capture_output=True, text=True).stdout.split()
    assert "index.html" in listing


def test_a_diverged_local_publish_does_not_block_later_pushes(repo: Repo, tmp_path: Path) -> None:
    """A publish made but never pushed while a teammate pushed theirs: the next --push builds on
    the remote branch (the site is rebuilt whole) instead of being rejected for ever."""
    flows(site(repo))
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    repo.git("remote", "add", "origin", str(remote))
    repo.git("push", "-q", "origin", "main")
    mate = Repo(tmp_path / "mate")
    subprocess.run(["git", "clone", "-q", str(remote), str(mate.root)], check=True)
    for key, value in (("user.email", "mate@example.com"), ("user.name", "Mate")):
        mate.git("config", key, value)
    assert repo.cli("catalog", "publish", "--push", "--site-dir", str(tmp_path / "s1")).code == 0
    repo.nb("extra.ipynb", title="# Extra\n\nA flow only this clone has.")  # so the site differs
    assert repo.cli("catalog", "publish", "-m", "local only", "--site-dir", str(tmp_path / "s2")).code == 0
    assert mate.cli("catalog", "publish", "--push", "-m", "mate's", "--site-dir", str(tmp_path / "s3")).code == 0
    result = repo.cli("catalog", "publish", "--push", "-m", "mine", "--site-dir", str(tmp_path / "s4"))
    assert result.code == 0 and "pushed to origin" in result.out, result.out + result.err
    log = subprocess.run(["git", "--git-dir", str(remote), "log", "--format=%s", "gh-pages"], check=True,
                         capture_output=True, text=True).stdout.split("\n")
    assert log[:2] == ["mine", "mate's"], log


def test_a_relative_site_dir_is_taken_from_where_the_command_runs(repo: Repo, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    flows(site(repo))
    monkeypatch.chdir(tmp_path)
    result = repo.cli("catalog", "build", "--site-dir", "out")
    assert result.code == 0 and (tmp_path / "out" / "index.html").is_file(), result.out + result.err


def test_a_docs_page_where_the_catalog_index_goes_is_kept_and_strict_says_so(repo: Repo) -> None:
    flows(site(repo))
    (repo.root / "docs" / "catalog.md").write_text("# About our catalog\n")  # builds to catalog/index.html too
    out = build(repo)
    assert "About our catalog" in (out / "catalog" / "index.html").read_text()
    assert (out / "catalog" / "acme.data" / "load_sales" / "index.html").is_file()  # the rest is generated
    strict = repo.cli("catalog", "build", "--strict")
    assert strict.code != 0 and "catalog/index.md" in strict.err and "prefix" in strict.err


def test_the_shipped_mermaid_build_is_published_with_its_licence(repo: Repo) -> None:
    out = build(flows(site(repo)))
    assert (out / "assets" / "nbops" / "mermaid.min.js").is_file()
    assert "MIT" in (out / "assets" / "nbops" / "mermaid.LICENSE").read_text()


def test_catalog_pages_join_an_explicit_nav_so_strict_omitted_file_checks_pass(repo: Repo) -> None:
    flows(site(repo))
    mkdocs = repo.root / "mkdocs.yml"
    mkdocs.write_text(mkdocs.read_text() + "validation:\n  omitted_files: warn\n")
    strict = repo.cli("catalog", "build", "--strict")
    assert strict.code == 0, strict.err
    home = page(repo.root / "site", "index.html")
    assert "Catalog" in home and "acme.data" in home and 'href="catalog/lineage/"' in home
