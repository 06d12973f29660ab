"""Which kernel runs a notebook, in which image: its own kernel, or a clear refusal.

A notebook says what it was written for in its metadata (``kernelspec.name`` and the language).
Python notebooks run as they always have: in ``[tool.nbops] kernel`` (``python3``) and the flow's
image. A notebook in another language (R, Julia, bash, ...) runs in its own kernel, in the image
configured for that kernel (``[tool.nbops.kernels.<kernelspec name>] image = ...``); without such
an entry it is refused, naming its language and what to configure, since a Python image could not
run it. A configured entry applies to a Python kernel too (a custom image with the kernel built in).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import Problem
from .notebook import NotebookSource
from .options import Options

PYTHON = "python"


@dataclass(frozen=True)
class KernelChoice:
    """The kernel papermill starts for a step (``--kernel``) and the image its task runs in."""

    name: str = "python3"
    language: str = PYTHON
    image: str | None = None  # None: the flow's image (the header's `image:`, else [tool.nbops] image)
    install: bool = True  # pip install papermill and the requirements before running (else the image has them)


def kernel_choice(notebook: NotebookSource, options: Options) -> tuple[KernelChoice, Problem | None]:
    """The kernel ``notebook`` runs in, and a problem when it cannot run in any configured one."""
    language = notebook.language or PYTHON
    configured = options.kernel_image(notebook.kernel)
    if configured is not None and notebook.kernel:
        return KernelChoice(notebook.kernel, language, configured.image, configured.install), None
    if language.lower() == PYTHON:
        return KernelChoice(options.kernel, PYTHON), None
    name = notebook.kernel
    if not name:
        return KernelChoice(options.kernel, language), Problem(
            f"the notebook is written in {language} but names no kernel (metadata.kernelspec.name)",
            hint="open it in Jupyter with its kernel and save it, then configure that kernel's image in "
                 "[tool.nbops.kernels.<name>]")
    return KernelChoice(name, language), Problem(
        f"the notebook runs in the {language} kernel {name!r}, and no image is configured for it: "
        f"the flow would run it in the Python image {options.image}",
        hint=f'add to pyproject.toml: [tool.nbops.kernels.{name}] image = "<an image with Python, papermill '
             f'and the {language} kernel {name}>" (and install = false if it needs no pip install step)')
