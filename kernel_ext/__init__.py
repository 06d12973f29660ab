"""nbops: run Jupyter notebooks as Kestra flows, the GitOps way.

Importing this package does nothing but define names: every heavy import happens on first use,
so ``%load_ext kernel_ext`` stays fast.
"""
from __future__ import annotations

from typing import Any

from .runtime import output  # the outputs helper: standard library only, shipped with the flows

__version__ = "0.1.0"
__all__ = ["__version__", "load_ipython_extension", "output"]


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext kernel_ext``: register the ``%%flow`` cell magic and the ``%nbops`` line magic."""
    from .lab.magics import register

    register(ipython)
