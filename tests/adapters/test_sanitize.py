"""The two sanitizing policies: what real Markdown/pymdownx output keeps, what hostile HTML loses."""
from __future__ import annotations

import html.parser
import re

import markdown
import pytest
from pymdownx.superfences import fence_code_format

from kernel_ext.adapters.sanitize import sanitize_notebook_html, sanitize_page_html

SANITIZERS = [sanitize_page_html, sanitize_notebook_html]
PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="

HOSTILE = {
    "script": "<p>a</p><script>alert(1)</script>",
    "onerror": "<img src=x onerror=alert(1)>",
    "svg onload": "<svg onload=alert(1)><circle r=1 /></svg>",
    "svg script": "<svg><script>alert(1)</script></svg>",
    "javascript link": '<a href="javascript:alert(1)">x</a>',
    "spaced javascript link": '<a href=" jav&#x09;ascript:alert(1)">x</a>',
    "vbscript link": '<a href="vbscript:msgbox(1)">x</a>',
    "data link": '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    "close and script": "<div>ok</div></div><script>alert(1)</script>",
    "iframe": '<iframe src="https://example.com" srcdoc="<script>alert(1)</script>">x</iframe>',
    "form": '<form action="https://example.com"><button formaction="javascript:alert(1)">go</button></form>',
    "style expression": '<p style="width: expression(alert(1))">x</p>',
    "style url": '<p style="background-image: url(javascript:alert(1))">x</p>',
    "object": '<object data="javascript:alert(1)"></object><embed src="javascript:alert(1)">',
    "math": '<math><mtext><a href="javascript:alert(1)">x</a></mtext></math>',
    "meta refresh": '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "base": '<base href="https://evil.example/">',
    "link stylesheet": '<link rel="stylesheet" href="https://evil.example/x.css">',
    "style tag": "<style>body { background: url(https://evil.example/x) }</style>",
    "template": "<template><script>alert(1)</script></template>",
    "event on allowed tag": '<details open ontoggle=alert(1)><summary onclick="alert(1)">s</summary></details>',
}
FORBIDDEN = re.compile(r"<script|<svg|<iframe|<form|<object|<embed|<math|<meta|<base|<link|<style|"
                       r"\son\w+=|javascript:|vbscript:|expression\(|url\(|data:text", re.IGNORECASE)


@pytest.mark.parametrize("sanitize", SANITIZERS)
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_html_loses_everything_active(sanitize, name: str) -> None:
    clean = sanitize(HOSTILE[name])
    assert not FORBIDDEN.search(clean), clean
    assert sanitize(clean) == clean  # a second pass finds nothing more to remove


@pytest.mark.parametrize("sanitize", SANITIZERS)
def test_text_of_removed_containers_is_kept_but_not_their_code(sanitize) -> None:
    clean = sanitize("<div>ok</div></div><script>alert(1)</script><form><b>label</b></form>")
    assert clean == "<div>ok</div><b>label</b>"


@pytest.mark.parametrize("sanitize", SANITIZERS)
def test_links_get_rel_noopener(sanitize) -> None:
    assert sanitize('<a href="https://example.com/x">x</a>') == \
        '<a href="https://example.com/x" rel="noopener noreferrer">x</a>'


@pytest.mark.parametrize("sanitize", SANITIZERS)
def test_harmless_inline_styles_are_kept_and_others_dropped(sanitize) -> None:
    assert sanitize('<p style="text-align: right; position: fixed; z-index: 9">1</p>') == \
        '<p style="text-align:right">1</p>'


MARKDOWN = """\
# Flow title

| input | type |
|---|---|
| day | DATE |

??? note "YAML"
    hidden

```python
print(1)
```

```mermaid
graph LR
  extract --> load
```

![chart](img/c.png) [Kestra](https://kestra.io)

<div class="nbops-notebook" data-nbops-notebook="notebooks/a.ipynb"></div>
"""


def _pymdownx_html(text: str) -> str:
    fence = {"name": "mermaid", "class": "mermaid", "format": fence_code_format}
    return markdown.markdown(text, extensions=["toc", "tables", "md_in_html", "pymdownx.details",
                                               "pymdownx.highlight", "pymdownx.superfences"],
                             extension_configs={"toc": {"permalink": True},
                                                "pymdownx.superfences": {"custom_fences": [fence]}})


class _Events(html.parser.HTMLParser):
    """Tags, attributes (rel aside: the sanitizer adds it) and text, independent of serialization."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[tuple[str, ...]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.events.append((tag, *sorted(f"{k}={v}" for k, v in attrs if k != "rel")))

    def handle_data(self, data: str) -> None:
        self.events.append(("text", data))


def _events(text: str) -> list[tuple[str, ...]]:
    parser = _Events()
    parser.feed(text)
    return parser.events


def test_page_policy_keeps_every_tag_and_attribute_of_real_markdown_output() -> None:
    rendered = _pymdownx_html(MARKDOWN)
    for expected in ('class="headerlink"', "<details", "<summary", 'class="highlight"', 'class="mermaid"',
                     "<table", 'data-nbops-notebook="notebooks/a.ipynb"', 'src="img/c.png"'):
        assert expected in rendered  # the fixture really exercises each construct
    assert _events(sanitize_page_html(rendered)) == _events(rendered)


def test_page_policy_refuses_data_urls_even_for_images() -> None:
    assert sanitize_page_html(f'<img alt="a" src="{PNG}">') == '<img alt="a">'


def test_notebook_policy_keeps_raster_data_images_only_on_img() -> None:
    assert sanitize_notebook_html(f'<img src="{PNG}">') == f'<img src="{PNG}">'
    assert sanitize_notebook_html('<img src="data:image/jpeg;base64,/9j/4AAQ\n SkZJRg==">') == \
        '<img src="data:image/jpeg;base64,/9j/4AAQSkZJRg==">'
    assert sanitize_notebook_html('<img src="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=">') == "<img>"
    assert sanitize_notebook_html('<img src="data:image/png,notbase64">') == "<img>"
    assert sanitize_notebook_html(f'<a href="{PNG}">x</a>') == '<a rel="noopener noreferrer">x</a>'


def test_notebook_policy_fetches_no_image_from_anywhere() -> None:
    for src in ("https://tracker.example/p.png", "/etc/passwd", "../../outside.png", "file:///etc/passwd", "x.png"):
        assert sanitize_notebook_html(f'<img alt="a" src="{src}">') == '<img alt="a">'


def test_notebook_ids_are_namespaced_and_their_anchors_follow() -> None:
    clean = sanitize_notebook_html('<h1 id="__search">T<a class="anchor-link" href="#__search">¶</a></h1>'
                                   '<img id="mermaid" alt="x">')
    assert 'id="nb-__search"' in clean and 'href="#nb-__search"' in clean and 'id="nb-mermaid"' in clean


def test_notebook_cannot_borrow_material_or_nbops_classes_or_trigger_mermaid() -> None:
    clean = sanitize_notebook_html('<div class="md-header nbops-notebook output_area">x</div>'
                                   '<pre class="mermaid">graph LR</pre>')
    assert clean == '<div class="output_area">x</div><pre>graph LR</pre>'


def test_notebook_policy_has_no_inputs_while_pages_keep_inert_checkboxes() -> None:
    html = '<input type="checkbox" checked disabled><input type="password" name="p">'
    assert sanitize_page_html(html) == '<input type="checkbox" checked="" disabled=""><input name="p">'
    assert sanitize_notebook_html(html) == ""


@pytest.mark.parametrize("sanitize", SANITIZERS)
def test_deterministic(sanitize) -> None:
    text = _pymdownx_html(MARKDOWN) + "".join(HOSTILE.values())
    assert len({sanitize(text) for _ in range(5)}) == 1


def test_page_images_from_elsewhere_are_not_fetched() -> None:
    html = sanitize_page_html('<p><img alt="a" src="https://tracker.example/pixel.png"><img alt="b" '
                              'src="//cdn.example/x.png"><img alt="c" src="../assets/ok.png"></p>')
    assert "tracker.example" not in html and "cdn.example" not in html and 'src="../assets/ok.png"' in html
