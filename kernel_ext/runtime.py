"""Flow outputs from a notebook: ``kernel_ext.output(name=value)`` prints Kestra's output line.

All that a flow notebook needs from nbops at run time, with the standard library alone: nbops export
ships this file to each Kestra task whose notebook imports kernel_ext, as ``kernel_ext.py`` in its
working folder, so nothing is installed for it (no package named nbops is published, and one under
that name could be anyone's). Locally, ``kernel_ext.output`` is this same function.
"""
from __future__ import annotations

import json
import math
import numbers
from typing import Any

__all__ = ["output"]


def _plain(value: Any, where: str) -> Any:
    """``value`` as JSON data Kestra's parser accepts; NaN and infinities raise ValueError."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, numbers.Integral):  # numpy's integers too
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"output {where} is {number}: Kestra's JSON parser refuses NaN and infinite "
                             "numbers and would drop every output of the line; pass None or a string instead")
        return number
    if isinstance(value, dict):
        return {(k if k is None or isinstance(k, (str, int, float)) else str(k)): _plain(v, f"{where}[{k!r}]")
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    return str(value)


def output(**values: Any) -> None:
    """Record flow outputs with Kestra's protocol: one stdout line ``::{"outputs": {...}}::``, which
    Kestra parses into ``outputs.<task>.vars`` and ``nbops run`` reads back the same way.

    Values are JSON data: text, numbers, booleans, None, lists and dicts (numpy's numbers become
    ``int``/``float``, tuples lists, other objects their ``str``). A NaN or infinite number raises
    ValueError here, in ``nbops run`` and in Kestra alike: Kestra's parser would refuse the line and
    lose all its outputs. Kestra keeps no output (nor dict entry) whose value is None.
    """
    line = json.dumps({"outputs": {name: _plain(value, name) for name, value in values.items()}},
                      separators=(",", ":"), allow_nan=False)
    print("::" + line + "::", flush=True)
