"""Executed notebooks (run by a real kernel) rendered to sanitized HTML fragments, and the cache."""
from __future__ import annotations

import base64
import html.parser
import json
import re
import subprocess
import sys
from pathlib import Path

import nbclient
import nbformat
import pytest

from kernel_ext.adapters.nbhtml import RENDERER_VERSION, render_notebook
from kernel_ext.errors import NotebookError

PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="

HOSTILE_MARKDOWN = """\
# Report

Legit *emphasis*, a [link](https://kestra.io) and an in-repo chart: ![in-repo chart](img/chart.png)

![etc passwd](/etc/passwd) ![escaping](../../outside.png) ![remote pixel](https://tracker.example/p.png)
![file url](file:///etc/passwd)

<img src=x onerror=alert(1)> <svg onload=alert(2)></svg> <a href="javascript:alert(3)">click</a>
</div><script>alert(4)</script>
"""

HOSTILE_DISPLAY = """\
from IPython.display import HTML, SVG, Javascript, display
display(HTML('<iframe src="https://example.com"></iframe><b>bold output</b><script>alert(5)</script>'))
display(SVG('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(6)"><circle r="3"/></svg>'))
display(Javascript('alert(7)'))
"""

CELLS = [
    ("markdown", HOSTILE_MARKDOWN),
    ("code", "print('hello from the kernel')"),
    ("code", "import pandas as pd\npd.DataFrame({'rows': [10, 20]})"),
    ("code", "%matplotlib inline\nimport matplotlib.pyplot as plt\nplt.plot([1, 2]); plt.show()"),
    ("code", HOSTILE_DISPLAY),
    ("code", "1 / 0"),
]


def _notebook(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    node = nbformat.v4.new_notebook()
    node.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    make = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell}
    node.cells = [make[kind](source) for kind, source in cells]
    return node


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository (root = ``repo``) with a notebook executed by a real python3 kernel."""
    base = tmp_path_factory.mktemp("nbhtml")
    root = base / "repo"
    (root / "notebooks" / "img").mkdir(parents=True)
    (root / "notebooks" / "img" / "chart.png").write_bytes(base64.b64decode(PNG_B64))
    (base / "outside.png").write_bytes(base64.b64decode(PNG_B64))  # real image, outside the repository
    node = _notebook(CELLS)
    nbclient.NotebookClient(node, kernel_name="python3", allow_errors=True, timeout=120).execute(
        cwd=str(root / "notebooks"))
    path = root / "notebooks" / "report.ipynb"
    nbformat.write(node, path)
    return path


@pytest.fixture(scope="module")
def fragment(executed: Path) -> str:
    return render_notebook(executed, root=executed.parent.parent, cache_dir=None)


pytestmark = pytest.mark.slow


def test_fragment_is_one_wrapper_div(fragment: str) -> None:
    assert fragment.startswith('<div class="nbops-notebook">') and fragment.endswith("</div>")
    assert fragment.count("<div") == fragment.count("</div>")  # `</div>` in a notebook cannot close ours


def test_code_outputs_and_markdown_are_rendered(fragment: str) -> None:
    assert '<span class="nb">print</span>' in fragment  # Pygments classes, coloured by Material
    assert re.search(r'<pre>hello from the kernel\s*</pre>', fragment)
    assert '<table class="dataframe">' in fragment and "<td>20</td>" in fragment
    assert re.search(r'<img[^>]* src="data:image/png;base64,[A-Za-z0-9+/=]{200,}"', fragment)  # the plot
    assert "ZeroDivisionError" in fragment and 'class="ansi-red-fg"' in fragment
    assert "\x1b[" not in fragment  # ANSI escapes became classes
    assert "<em>emphasis</em>" in fragment and '<b>bold output</b>' in fragment
    assert '<a href="https://kestra.io" rel="noopener noreferrer">link</a>' in fragment
    assert "In&nbsp;[2]:" in fragment


def test_styles_and_scripts_are_not_inlined_per_page(fragment: str) -> None:
    assert "<style" not in fragment and "<link" not in fragment and "<script" not in fragment
    without_images = re.sub(r'src="data:[^"]*"', "", fragment)
    assert len(without_images) < 25_000  # mkdocs-jupyter inlines ~650 KB of CSS into every page


class _Tags(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))


def test_hostile_content_does_not_survive(fragment: str) -> None:
    """Judged on the parsed tags: the code cells legitimately *show* the hostile strings as text."""
    parser = _Tags()
    parser.feed(fragment)
    names = {tag for tag, _ in parser.tags}
    assert not names & {"script", "svg", "iframe", "style", "link", "object", "embed", "form"}
    attributes = [(tag, name, value) for tag, attrs in parser.tags for name, value in attrs.items()]
    assert not [a for a in attributes if a[1].startswith("on")]
    assert all(not v.lower().startswith(("javascript:", "data:")) for _, n, v in attributes if n == "href")
    sources = [v for t, n, v in attributes if n == "src"]
    assert len(sources) == 2 and all(re.match(r"data:image/png;base64,", v) for v in sources)
    text = re.sub(r'<div class="highlight.*?</pre></div>', "", fragment, flags=re.DOTALL)  # outside code cells
    for needle in ("alert(", "image/svg+xml", "/etc/passwd", "outside.png", "tracker.example", "file:"):
        assert needle not in text, needle


def test_svg_and_javascript_outputs_fall_back_to_text(fragment: str) -> None:
    assert "&lt;IPython.core.display.SVG object&gt;" in fragment
    assert "&lt;IPython.core.display.Javascript object&gt;" in fragment


def test_markdown_images_embed_only_from_inside_the_repository(fragment: str) -> None:
    assert f'<img src="data:image/png;base64,{PNG_B64}" alt="in-repo chart">' in fragment
    for alt in ("etc passwd", "escaping", "remote pixel", "file url"):
        assert alt in fragment and f'alt="{alt}"' not in fragment  # alt text, no <img>


def test_rendering_is_deterministic(executed: Path, fragment: str) -> None:
    assert render_notebook(executed, root=executed.parent.parent, cache_dir=None) == fragment


def test_attachments_are_embedded_unless_svg(tmp_path: Path) -> None:
    node = _notebook([("markdown", "![raster](attachment:a.png) ![vector](attachment:b.svg) ![gone](attachment:c)")])
    node.cells[0].attachments = {"a.png": {"image/png": PNG_B64},
                                 "b.svg": {"image/svg+xml": base64.b64encode(b"<svg onload='x()'/>").decode()}}
    path = tmp_path / "att.ipynb"
    nbformat.write(node, path)
    html = render_notebook(path, root=tmp_path, cache_dir=None)
    assert f'<img src="data:image/png;base64,{PNG_B64}" alt="raster">' in html
    assert "vector" in html and "gone" in html and html.count("<img") == 1


def test_widget_state_and_javascript_mimetypes_are_dropped(tmp_path: Path) -> None:
    node = _notebook([("code", "w")])
    node.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {"secret": "<script>"}}}
    node.cells[0].outputs = [nbformat.v4.new_output("display_data", data={
        "application/vnd.jupyter.widget-view+json": {"model_id": "widgetmodel42"},
        "application/javascript": "alert(8)", "text/plain": "IntSlider(value=3)"})]
    path = tmp_path / "widget.ipynb"
    nbformat.write(node, path)
    html = render_notebook(path, root=tmp_path, cache_dir=None)
    assert "IntSlider(value=3)" in html
    assert "widgetmodel42" not in html and "alert(8)" not in html and "secret" not in html


def test_cache_hit_returns_the_same_bytes_without_importing_nbconvert(executed: Path, fragment: str,
                                                                      tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert render_notebook(executed, root=executed.parent.parent, cache_dir=cache) == fragment
    (entry,) = cache.glob("*.html")
    assert re.fullmatch(r"[0-9a-f]{64}\.html", entry.name) and entry.read_text() == fragment
    script = ("import sys; from pathlib import Path; from kernel_ext.adapters.nbhtml import render_notebook\n"
              f"html = render_notebook(Path({str(executed)!r}), root=Path({str(executed.parent.parent)!r}), "
              f"cache_dir=Path({str(cache)!r}))\n"
              "print(len(html), 'nbconvert' in sys.modules, 'nbformat' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.split() == [str(len(fragment)), "False", "False"]


def test_cache_key_follows_the_notebook_bytes(executed: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    copy = tmp_path / "repo" / "report.ipynb"
    copy.parent.mkdir()
    copy.write_bytes(executed.read_bytes())
    first = render_notebook(copy, root=copy.parent, cache_dir=cache)
    node = nbformat.read(copy, as_version=4)
    node.cells[1].outputs[0]["text"] = "changed output\n"
    nbformat.write(node, copy)
    second = render_notebook(copy, root=copy.parent, cache_dir=cache)
    assert "changed output" in second and "changed output" not in first
    assert len(list(cache.glob("*.html"))) == 2
    assert RENDERER_VERSION  # part of every key: a new renderer never reads an old entry


def test_a_corrupt_cache_entry_is_rebuilt_not_served_as_garbage(executed: Path, fragment: str, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    render_notebook(executed, root=executed.parent.parent, cache_dir=cache)
    (entry,) = cache.glob("*.html")
    entry.write_bytes(b"\xff\xfe not utf-8")
    assert render_notebook(executed, root=executed.parent.parent, cache_dir=cache) == fragment


@pytest.mark.parametrize("content, message", [
    ('{"cells": [', "not valid notebook JSON"),
    ("[1, 2]", "not an nbformat 4 notebook"),
    (json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code"}]}),
     "not a valid nbformat 4 notebook"),
    (json.dumps({"nbformat": 3, "cells": []}), "nbformat 3"),
])
def test_bad_notebooks_raise_a_notebook_error_naming_the_file(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "notebooks" / "broken.ipynb"
    path.parent.mkdir()
    path.write_text(content)
    with pytest.raises(NotebookError) as caught:
        render_notebook(path, root=tmp_path, cache_dir=tmp_path / "cache")
    text = str(caught.value)
    assert text.startswith("notebooks/broken.ipynb") and message in text
    assert caught.value.__cause__ is None and "Traceback" not in text
    assert not (tmp_path / "cache").exists()  # nothing cached for a failure


def test_a_missing_notebook_is_a_notebook_error(tmp_path: Path) -> None:
    with pytest.raises(NotebookError, match="gone.ipynb: file not found"):
        render_notebook(tmp_path / "gone.ipynb", root=tmp_path, cache_dir=None)
