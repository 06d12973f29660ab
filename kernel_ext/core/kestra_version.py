"""The Kestra version a project's flows are for, and what differs between versions.

Kestra changes between releases in ways that decide whether a generated flow is accepted and ends
the way ``nbops run`` says (reserved ids, stderr and the WARNING state, Pebble in input defaults,
renamed types, plugin properties). ``[tool.nbops] kestra_version`` names the target; export,
validation and ``nbops run`` ask :func:`has` instead of assuming one version. Each fact names its
source, so docs/kestra-versions.md can list them and a reader can check them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from ..errors import ConfigError


@dataclass(frozen=True, order=True)
class KestraVersion:
    major: int
    minor: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


def version(text: str) -> KestraVersion:
    """``"1.3"`` → KestraVersion(1, 3); a version nbops knows nothing of is a configuration error."""
    match = re.fullmatch(r"\s*(\d+)\.(\d+)(?:\.\d+)?\s*", text)
    parsed = KestraVersion(int(match.group(1)), int(match.group(2))) if match else None
    if parsed not in SUPPORTED:
        raise ConfigError(f"[tool.nbops] kestra_version {text!r} is not a Kestra version nbops knows",
                          hint="one of " + ", ".join(str(v) for v in SUPPORTED) + f" (default {DEFAULT})")
    return parsed


SUPPORTED = tuple(KestraVersion(*v) for v in ((0, 21), (0, 22), (0, 23), (0, 24), (1, 0), (1, 1), (1, 2), (1, 3),
                                              (2, 0)))
DEFAULT = KestraVersion(1, 3)  # the current long-term-support release (kestra.io/blogs/release-1-3)


class Feature(Enum):
    """Something that holds from one Kestra version on (or until one)."""

    STDERR_MAKES_WARNING = "stderr_makes_warning"
    BOOL_INPUT = "bool_input"
    TENANT_IN_API_PATHS = "tenant_in_api_paths"
    RESERVED_FLOW_IDS = "reserved_flow_ids"
    PEBBLE_IN_INPUT_DEFAULTS = "pebble_in_input_defaults"
    FOREACH_REMOVED = "foreach_removed"
    GIT_SYNC_NEEDS_KESTRA_URL = "git_sync_needs_kestra_url"


@dataclass(frozen=True)
class Fact:
    feature: Feature
    since: KestraVersion | None  # first version it holds in (None: every supported version before ``until``)
    until: KestraVersion | None  # first version it no longer holds in
    what: str
    source: str


def _v(text: str) -> KestraVersion:
    major, minor = text.split(".")
    return KestraVersion(int(major), int(minor))


FACTS: tuple[Fact, ...] = (
    Fact(Feature.STDERR_MAKES_WARNING, None, _v("0.23"),
         "a script task that exits 0 but wrote to stderr ends WARNING (warningOnStdErr, default true); from 0.23 "
         "the exit code alone decides and warningOnStdErr is deprecated and ignored. nbops emits "
         "warningOnStdErr: false where it is still in force",
         "kestra-io/kestra@58c1ca2d (0.21) script/src/main/java/io/kestra/plugin/scripts/exec/"
         "AbstractExecScript.java:76 and exec/scripts/models/ScriptOutput.java:49; removed by kestra-io/kestra "
         "PR #8321 (ScriptOutput without finalState) and kestra-io/plugin-scripts@9220b015 (v0.23.0); "
         "kestra.io/docs/migration-guide/v0.23.0/script-warnings"),
    Fact(Feature.BOOL_INPUT, _v("0.23"), None, "the BOOL input type exists (BOOLEAN works on every version)",
         "kestra-io/kestra models/flows/input/BoolInput.java @ 3ee0ae8a; 0.23 breaking changes "
         "(kestra-io/kestra issues #8091, #8225: BOOLEAN deprecated in favour of BOOL)"),
    Fact(Feature.TENANT_IN_API_PATHS, _v("0.22"), None, "API paths carry a tenant: /api/v1/{tenant}/... (main)",
         "kestra.io/docs/how-to-guides/api; 0.21 FlowController.java serves /api/v1/flows"),
    Fact(Feature.RESERVED_FLOW_IDS, _v("1.0"), None,
         "flow ids pause, resume, force-run, change-status, kill, executions, search, source, disable, enable "
         "are reserved", "kestra.io/docs/migration-guide/0.0/reserved-flow-ids"),
    Fact(Feature.PEBBLE_IN_INPUT_DEFAULTS, _v("1.0"), None,
         "input defaults are rendered as Pebble expressions (dynamic defaults); nbops escapes the Pebble "
         "delimiters of the defaults it generates, so the notebook gets the text as written",
         "kestra-io/kestra core/.../models/flows/Input.java (Property<T> defaults) and runners/FlowInputOutput.java "
         "resolveDefaultValue (1.x); 0.21 uses the value as is (FlowInputOutput.java:238 @ 58c1ca2d); "
         "kestra.io/blogs/release-1-0 (Dynamic Defaults for Flow Inputs); kestra-io/kestra issues #7972, #9762"),
    Fact(Feature.FOREACH_REMOVED, _v("2.0"), None, "ForEach and ForEachItem are removed (Loop replaces them)",
         "kestra.io/docs/migration-guide/v2.0.0/foreach-loop; kestra-io/kestra core/.../flow/Loop.java @ d4be33f7"),
    Fact(Feature.GIT_SYNC_NEEDS_KESTRA_URL, _v("2.0"), None,
         "plugin-git 3.x SyncFlows/SyncNamespaceFiles need kestraUrl and auth",
         "kestra-io/plugin-git @ 31ef79c1 (built against Kestra 2.0.0-rc9)"),
)
_BY_FEATURE = {fact.feature: fact for fact in FACTS}


def fact(feature: Feature) -> Fact:
    """The sourced fact behind ``feature``."""
    return _BY_FEATURE[feature]


def has(target: KestraVersion, feature: Feature) -> bool:
    """Whether ``feature`` holds on ``target``."""
    fact = _BY_FEATURE[feature]
    return (fact.since is None or target >= fact.since) and (fact.until is None or target < fact.until)
