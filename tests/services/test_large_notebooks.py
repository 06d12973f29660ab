"""Large notebooks (issue 12, item 7): read in a stream, one cell at a time, outputs skipped where they
are not needed; export, commit and check work on a notebook of 60 MB of outputs, and per file."""
from __future__ import annotations

import base64
import io
import json
import random
from pathlib import Path

import nbformat
from conftest import Repo
from hypothesis import given, settings
from hypothesis import strategies as st

from kernel_ext.adapters import nbstream

BIG = 60 * 1024 * 1024  # more than the 50 MiB a notebook was read whole up to


def big_outputs(path: Path, size: int = BIG, token: str | None = None) -> Path:
    """Give the notebook's last cell ``size`` bytes of outputs: an image and a printed log."""
    node = nbformat.read(path, as_version=4)
    rnd = random.Random(7)
    png = base64.b64encode(rnd.randbytes(size * 3 // 4)).decode()  # images are not scanned for secrets
    log = "".join(f"row {i}: {rnd.random():.6f}\n" for i in range(50_000))
    node.cells[-1].outputs = [nbformat.v4.new_output("display_data", data={"image/png": png}),
                              nbformat.v4.new_output("stream", name="stdout", text=log + (token or ""))]
    nbformat.write(node, path)
    assert path.stat().st_size > size
    return path


def test_a_notebook_with_60_mb_of_outputs_exports_commits_and_checks(repo: Repo) -> None:
    big = big_outputs(repo.nb("big.ipynb", "schedule: '0 6 * * *'\n"))
    repo.git("commit", "-q", "--allow-empty", "-m", "start")
    assert repo.cli("export").code == 0
    assert repo.cli("check").code == 0
    result = repo.cli("commit", "-m", "big")
    assert result.code == 0, result.err
    committed = json.loads(repo.git("show", "HEAD:notebooks/big.ipynb"))
    assert [c["outputs"] for c in committed["cells"] if c["cell_type"] == "code"] == [[], [], []]
    assert "%%flow" in "".join(committed["cells"][0]["source"]) and big.stat().st_size > BIG  # working copy kept


def test_one_oversized_notebook_no_longer_hides_the_other_findings(repo: Repo) -> None:
    big = big_outputs(repo.nb("big.ipynb", "schedule: '0 6 * * *'\n"))
    repo.nb("small.ipynb", "schedule: '0 7 * * *'\n")
    assert repo.cli("export").code == 0
    flow = repo.root / "_flows" / "small.yml"
    flow.write_text(flow.read_text().replace("0 7 * * *", "0 8 * * *"))  # drift in another file
    result = repo.cli("check", "--json")
    findings = json.loads(result.out)["findings"]
    assert result.code == 4 and [(f["kind"], f["file"]) for f in findings] == [("drift", "_flows/small.yml")]
    assert big.stat().st_size > BIG


def test_a_secret_in_a_large_notebooks_outputs_is_still_found(repo: Repo) -> None:
    token = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    big_outputs(repo.nb("big.ipynb", "schedule: '0 6 * * *'\n"), 10 * 1024 * 1024, f"token = '{token}'\n")
    assert repo.cli("export").code == 0
    result = repo.cli("check", "--json")
    secrets = [f for f in json.loads(result.out)["findings"] if f["kind"] == "secret"]
    assert secrets and secrets[0]["file"] == "notebooks/big.ipynb" and secrets[0]["problems"][0]["cell"] == 3


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                                       max_size=4), max_leaves=12)
cells = st.lists(st.fixed_dictionaries({"cell_type": st.sampled_from(["code", "markdown"]), "source": st.text(),
                                        "metadata": st.dictionaries(st.text(max_size=5), json_values, max_size=3),
                                        "outputs": st.lists(json_values, max_size=3)}), max_size=5)


@settings(max_examples=200, deadline=None)
@given(cells, st.dictionaries(st.text(max_size=8), json_values, max_size=3), st.integers(1, 64), st.booleans())
def test_the_stream_reads_what_json_loads_reads(cell_list, extra, chunk, indent) -> None:
    """Any notebook JSON, cut into any chunk size: the cells and members json.loads sees, outputs
    skipped (``[]``) or kept."""
    document = {**extra, "cells": cell_list, "nbformat": 4}
    text = json.dumps(document, indent=1 if indent else None, ensure_ascii=not indent).encode()
    original, nbstream.CHUNK = nbstream.CHUNK, chunk
    try:
        kept = list(nbstream.iter_notebook(io.BytesIO(text), outputs=True))
        skipped = list(nbstream.iter_notebook(io.BytesIO(text), outputs=False))
    finally:
        nbstream.CHUNK = original
    parsed = json.loads(text)
    assert [v for k, v in kept if k == "cell"] == parsed["cells"]
    assert [v for k, v in skipped if k == "cell"] == [{**c, "outputs": []} for c in parsed["cells"]]
    assert {k: v for k, v in kept if k not in ("cell", "cells")} == {k: v for k, v in parsed.items() if k != "cells"}
