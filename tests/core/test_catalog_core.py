"""The pure catalog core: escaping, graphs, schedules, page paths, determinism, purity."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from kernel_ext.core.catalog_pages import render_catalog
from kernel_ext.core.catalog_graph import edges, lineage_graph, task_graph
from kernel_ext.core.catalog_model import CatalogFlow, EdgeKind, split_title
from kernel_ext.core.catalog_flow_page import notebook_placeholder
from kernel_ext.core.catalog_schedule import describe, next_runs
from kernel_ext.core.catalog_text import inline, markdown_block, mermaid_label, plain
from kernel_ext.core.model import FlowRef, FlowTrigger, Input, InputType, RawTrigger, ScheduleTrigger, Task, frozen_map
from kernel_ext.errors import Problem

NOW = datetime(2024, 1, 1, tzinfo=UTC)
CMD = "io.kestra.plugin.scripts.python.Commands"


def flow(flow_id: str, **fields: object) -> CatalogFlow:
    base: dict[str, object] = {"tasks": (Task("run", CMD),)}
    return CatalogFlow("acme", flow_id, f"notebooks/{flow_id}.ipynb", f"notebooks/{flow_id}.ipynb",
                       **{**base, **fields})  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["<script>alert(1)</script>", "a | b", "{: onclick=x}", "[x](javascript:y)",
                                  "`code`", "</div><script>", "*bold* _it_"])
def test_inline_text_has_no_markup_characters_left(text: str) -> None:
    escaped = inline(text)
    assert not set(escaped) & set("<>|{}[]`*_\"'")


def test_markdown_descriptions_keep_markdown_but_lose_html_and_script_links() -> None:
    out = markdown_block("# Title\nSome **bold** [ok](https://e.org) [bad](javascript:alert(1)) <b onclick=x>\n"
                         "[ref]: vbscript:x\n{: onclick=y}")
    assert "**bold**" in out and "[ok](https://e.org)" in out and "[bad](#)" in out and "[ref]: #" in out
    assert "<b" not in out and "{:" not in out and out.startswith("## Title")


def test_front_matter_text_cannot_close_a_tag_or_attribute() -> None:
    assert not set(plain('</title><script>"x"\'&')) & set("<>\"'&")


def test_a_mermaid_label_cannot_leave_its_quotes_or_the_fence() -> None:
    label = mermaid_label('a"] --> evil["x\n```\n<script>')
    assert label.count('"') == 2 and "\n" not in label and "`" not in label and "<" not in label
    graph = task_graph((Task('x"]\n```', CMD),))
    assert "```" not in graph and graph.count("\n") == 1


def test_task_graph_draws_parallel_groups_between_their_neighbours() -> None:
    tasks = (Task("extract", CMD),
             Task("both", "io.kestra.plugin.core.flow.Parallel", tasks=(Task("a", CMD), Task("b", CMD))),
             Task("load", CMD))
    graph = task_graph(tasks)
    assert 'subgraph g2["both (parallel)"]' in graph
    for edge in ("t1 --> t3", "t1 --> t4", "t3 --> t5", "t4 --> t5"):
        assert edge in graph
    assert "t3 --> t4" not in graph


def test_edges_from_after_legacy_conditions_namespaces_and_subflows() -> None:
    flows = [
        flow("a"),
        flow("b", triggers=(FlowTrigger("up", (FlowRef("acme", "a"),)),)),
        flow("c", triggers=(RawTrigger("old", "io.kestra.plugin.core.trigger.Flow", frozen_map({"conditions": [
            {"type": "io.kestra.plugin.core.condition.ExecutionFlow", "namespace": "acme", "flowId": "b"}]})),)),
        flow("d", tasks=(Task("call", "io.kestra.plugin.core.flow.Subflow",
                              frozen_map({"namespace": "other", "flowId": "{{ inputs.x }}"})),
                         Task("call2", "io.kestra.plugin.core.flow.Subflow",
                              frozen_map({"namespace": "ext", "flowId": "z"})))),
        flow("e", triggers=(FlowTrigger("ns", (FlowRef("acme"),)),)),
    ]
    found = edges(flows)
    assert ("acme.a", "acme.b", EdgeKind.AFTER) in found and ("acme.b", "acme.c", EdgeKind.AFTER) in found
    assert ("acme.d", "ext.z", EdgeKind.SUBFLOW) in found
    assert not any("inputs" in b for _, b, _ in found)  # a templated subflow is not a static edge
    assert {a for a, b, _ in found if b == "acme.e"} == {"acme.a", "acme.b", "acme.c", "acme.d"}
    graph = lineage_graph(flows)
    assert '("ext.z")' in graph and "-.->|subflow|" in graph


def test_schedules_in_words_and_next_runs_in_the_trigger_time_zone() -> None:
    assert describe("0 6 * * 1-5") == "At 06:00, Monday through Friday" and describe("@daily") == "At 00:00"
    assert describe("not a cron") == "not a cron"
    assert next_runs("30 9 * * *", "America/New_York", NOW) == (
        "2024-01-01T09:30:00-05:00", "2024-01-02T09:30:00-05:00", "2024-01-03T09:30:00-05:00")
    assert next_runs("0 6 * * *", "Not/AZone", NOW) == () and next_runs("x", None, NOW) == ()


def test_pages_are_deterministic_unique_and_complete() -> None:
    flows = [flow("index", labels=frozen_map({"team": "a"}),
                  inputs=(Input("n", InputType.INT, "how many", defaults=3),),
                  triggers=(ScheduleTrigger("s", "0 6 * * *", "Europe/Paris"),), executed_notebook=".nbops/r/x.ipynb"),
             flow("Index"), flow("bad", problems=(Problem("boom", "schedule", 2, 0, "fix it"),))]
    site = render_catalog(flows, NOW)
    assert site == render_catalog(list(reversed(flows)), NOW)
    assert sorted(site.pages) == ["acme/Index-2.md", "acme/bad.md", "acme/index-3.md", "acme/index.md",
                                  "index.md", "lineage.md"]
    assert len({p.lower() for p in site.pages}) == len(site.pages)
    page = site.pages["acme/index-3.md"]
    assert page.startswith('---\ntitle: "index"\n') and 'tags:\n  - "team: a"' in page
    assert "| <code>n</code> | INT | <code>3</code> | yes | how many |" in page
    assert "2024-01-01T06&#58;00&#58;00&#43;01&#58;00" in page and notebook_placeholder(".nbops/r/x.ipynb") in page
    assert site.flows["acme/index-3.md"].id == "index" and site.flows["acme/Index-2.md"].id == "Index"
    bad = site.pages["acme/bad.md"]
    assert "| <code>notebooks/bad.ipynb</code> | 0 | 2 | <code>schedule</code> | boom | fix it |" in bad


def test_title_comes_from_the_first_heading() -> None:
    assert split_title("# Sales\n\nWhat it does.", "x") == ("Sales", "What it does.")
    assert split_title("Short line", "x") == ("Short line", "")
    assert split_title(None, "fallback") == ("fallback", "")


def test_the_catalog_core_imports_no_io_library() -> None:
    script = ("import sys, json\nimport kernel_ext.core.catalog_pages\nfrom kernel_ext.core.catalog_schedule import "
              "next_runs, describe\nprint(json.dumps(sorted(sys.modules)))")
    loaded = json.loads(subprocess.run([sys.executable, "-c", script], check=True, capture_output=True,
                                       text=True).stdout)
    forbidden = ("papermill", "nbformat", "nbclient", "git", "mkdocs", "IPython", "ipywidgets", "jupyter_client")
    assert not {m for m in loaded if m.split(".")[0] in forbidden}


def test_inline_text_shows_apostrophes_and_entities_as_typed() -> None:
    import html

    from kernel_ext.core.catalog_text import inline

    for text in ("the customer's region", "a < b & c > d", 'say "hi" #1 |x| {y} [z]', "&#39; &amp;"):
        assert html.unescape(inline(text)) == text
    assert "<" not in inline("<script>") and "&#" in inline("'")
