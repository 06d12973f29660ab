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
    which Kestra parses into ``outputs.<task>.vars`` and ``nbops run`` reads back.

    ``kernel_ext.output(rows=120, region="eu")`` in a flow notebook; values must be JSON-able
    (others are written as their ``str``). A notebook that imports ``kernel_ext`` gets ``nbops``
    added to its flow's requirements, so this works inside Kestra's container too.
    """
    print("::" + json.dumps({"outputs": values}, default=str, separators=(",", ":")) + "::", flush=True)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext kernel_ext``: register the ``%%flow`` cell magic and the ``%nbops`` line magic."""
    from .lab.magics import register

    register(ipython)
