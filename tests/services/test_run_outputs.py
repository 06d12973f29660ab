"""``nbops run`` keeps the outputs Kestra would keep, and says what Kestra would drop (issue 11,
point 3): a line Kestra's JSON parser refuses is dropped here too, with a warning in the step's
record and the run summary; a declared output it held is then missing and fails the step."""
from __future__ import annotations

import json

import pytest
from conftest import Repo

pytestmark = pytest.mark.slow
NAN_LINE = "print('::{\"outputs\": {\"ratio\": NaN, \"rows\": 3}}::')\n"


def test_a_line_kestra_refuses_is_dropped_with_a_warning(repo: Repo) -> None:
    repo.nb("o.ipynb", body="import kernel_ext\n" + NAN_LINE + "kernel_ext.output(kept=1, gone=None)\n")
    result = repo.cli("run", "notebooks/o.ipynb")
    assert result.code == 0, result.out + result.err
    assert "warning: an outputs line Kestra cannot read (NaN is not a JSON number) was dropped" in result.out
    assert "warning: output 'gone' is null: Kestra does not keep it" in result.out
    executions = json.loads(repo.cli("runs", "--json").out)
    step = json.loads(repo.cli("show", executions[0]["id"], "--json").out)["steps"][0]  # as the history keeps it
    assert step["outputs"] == {"kept": 1} and len(step["warnings"]) == 2 and "NaN" in step["warnings"][0]


def test_a_declared_output_on_a_dropped_line_fails_the_step(repo: Repo) -> None:
    repo.nb("p/main.ipynb", "steps:\n  - {notebook: _a.ipynb, outputs: [ratio]}\n", params="x = 1\n")
    repo.nb("p/_a.ipynb", params="x = 1\n", body=NAN_LINE)
    result = repo.cli("run", "notebooks/p/main.ipynb")
    assert result.code == 10, result.out + result.err
    assert "declares output ratio but did not make it" in result.out and "NaN" in result.out
