"""nbops: run Jupyter notebooks as Kestra flows, the GitOps way.

Importing this package does nothing but define names: every heavy import happens on first use,
so ``%load_ext kernel_ext`` stays fast.
"""
from __future__ import annotations

import json
from typing import Any

__version__ = "0.1.0"
__all__ = ["__version__", "load_ipython_extension", "output"]


def output(**values: Any) -> None:
    """Record flow outputs with Kestra's own protocol: one stdout line ``::{"outputs": {...}}::``,
    which Kestra parses into ``outputs.<task>.vars`` and ``nbops run`` reads back."""
    print("::" + json.dumps({"outputs": values}, default=str, separators=(",", ":")) + "::", flush=True)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext kernel_ext``: register the ``%%flow`` cell magic."""
    from .magics import register

    register(ipython)
