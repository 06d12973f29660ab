"""Flow outputs for a notebook: ``output(name=value)`` prints Kestra's output line.

This module is the whole of what a flow notebook needs from nbops at run time. It uses the standard
library alone and is self-contained, because it travels with the flow: ``nbops export`` ships this
file's text to every Kestra task whose notebook imports ``kernel_ext``, as the ``inputFiles`` entry
``kernel_ext.py`` in the task's working folder, so ``import kernel_ext`` works in Kestra's container
without installing anything (nbops is not a published package, and a requirement named after it
could be anyone's). Locally ``kernel_ext.output`` is this same function.
"""
from __future__ import annotations

import json
import math
import numbers
from typing import Any

__all__ = ["output"]


def _plain(value: Any, path: str) -> Any:
    """``value`` as JSON data that Kestra's parser (Jackson, strict) accepts: the integers and
    real numbers of other libraries (numpy's, Fraction) as ``int``/``float``, tuples as lists;
    anything else that is not JSON data as its ``str``. A NaN or infinite number raises ValueError naming where
    it is: Jackson refuses ``NaN`` and ``Infinity``, and would drop the whole line."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"output {path} is {number!r}: Kestra refuses NaN and infinite numbers in outputs "
                             "(its JSON parser would drop the whole line); pass None or a string instead")
        return number
    if isinstance(value, dict):
        return {_key(key): _plain(item, f"{path}[{key!r}]") for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item, f"{path}[{index}]") for index, item in enumerate(value)]
    return str(value)


def _key(key: Any) -> Any:
    """A dict key as ``json`` writes it: text, numbers, booleans and None as they are, others as text."""
    return key if key is None or isinstance(key, (str, int, float)) else str(key)


def output(**values: Any) -> None:
    """Record flow outputs with Kestra's own protocol: one stdout line ``::{"outputs": {...}}::``,
    which Kestra parses into ``outputs.<task>.vars`` and ``nbops run`` reads back the same way.

    ``kernel_ext.output(rows=120, region="eu")`` in a flow notebook. Values are JSON data: text,
    numbers, booleans, None, lists and dicts (numbers of numpy and the like become ``int``/``float``,
    tuples become lists, other objects their ``str``). A NaN or infinite number raises ValueError
    at the call, in ``nbops run`` and in Kestra alike: Kestra's JSON parser refuses them and would
    silently drop every output of the line. Note that Kestra drops an output (or a dict entry)
    whose value is None when it stores the outputs.
    """
    line = json.dumps({"outputs": {name: _plain(value, name) for name, value in values.items()}},
                      separators=(",", ":"), allow_nan=False)
    print("::" + line + "::", flush=True)
