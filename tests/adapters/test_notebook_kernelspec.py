"""A notebook's kernel and language, read from its metadata as papermill reads them."""
from __future__ import annotations

import json

import pytest

from kernel_ext.adapters.notebooks import notebook_from_text
from kernel_ext.core.kernel_choice import KernelChoice, kernel_choice
from kernel_ext.core.options import Options


def text(metadata: object) -> str:
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": metadata, "cells": []})


@pytest.mark.parametrize("metadata,expected", [
    ({"kernelspec": {"name": "ir", "display_name": "R", "language": "R"}}, ("ir", "R")),
    ({"kernelspec": {"name": "ir", "display_name": "R"}, "language_info": {"name": "R"}}, ("ir", "R")),
    ({"kernelspec": {"name": "x", "language": "python"}, "language_info": {"name": "julia"}}, ("x", "julia")),
    ({"kernelspec": {"name": " ", "language": ""}}, (None, None)),
    ({"kernelspec": "python3"}, (None, None)),
    ({}, (None, None)),
    ([], (None, None)),
])
def test_kernel_and_language_come_from_the_metadata(metadata: object, expected: tuple) -> None:
    source = notebook_from_text(text(metadata), "notebooks/nb.ipynb")
    assert (source.kernel, source.language) == expected


def test_an_r_notebook_read_from_disk_is_refused_then_configured() -> None:
    source = notebook_from_text(text({"kernelspec": {"name": "ir", "display_name": "R"}, "language_info": {"name": "R"}}),
                                "notebooks/r.ipynb")
    _, problem = kernel_choice(source, Options())
    assert problem is not None and "R kernel 'ir'" in problem.message
    configured = Options.from_table({"kernels": {"ir": {"image": "r:1"}}})
    assert kernel_choice(source, configured) == (KernelChoice("ir", "R", "r:1", True), None)
