"""README — tests/kestra/: replaying exported flows the way Kestra runs them (test code, not product code).

This folder mirrors nothing in the package. ``replay.py`` is a test harness: it takes a flow YAML
written by ``nbops export`` (``_flows/**.yml``) and runs it task by task the way Kestra's executor,
worker and ``io.kestra.plugin.scripts.python.Commands`` task do, on a chosen Kestra version, so the
tests can say whether a flow that is green under ``nbops run`` is green in Kestra, with the same
values. It was written from Kestra's Java source; every rule below names where it comes from.

Sources (``K`` = kestra-io/kestra; the local snapshot is ``K@58c1ca2d`` = 0.21.0-SNAPSHOT of
2024-12-20; newer Kestra files were read from the code index at the commit named; ``K-1.x
FlowInputOutput.java`` is the index's version with ``resolveDefaultValue`` and the ``BOOL`` type, whose
commit the index does not name (index file 17535204565); ``PS`` =
kestra-io/plugin-scripts, ``PG`` = kestra-io/plugin-git, ``JDK`` = OpenJDK):

- Namespace files: ``CommandsWrapper.run`` copies the namespace files matching ``include``/``exclude``
  into the working directory before anything else (K@58c1ca2d script/.../runners/CommandsWrapper.java:135-145;
  K@09229b93 same file, ``NamespaceFilesUtils.loadNamespaceFiles``; K@044883a0
  core/.../utils/NamespaceFilesUtils.java). The match is ``PathMatcherPredicate.builder().includes().excludes()``
  (K@58c1ca2d core/.../storages/Namespace.java:69-75) against each file's path **with a leading slash**
  (K@58c1ca2d core/.../storages/InternalNamespace.java:112-114, ``NamespaceFile.path(true)``:
  NamespaceFile.java:121-133). A pattern without ``glob:``/``regex:`` that starts with a word character
  gets ``**/`` in front (K@58c1ca2d core/.../utils/PathMatcherPredicate.java:90-113), then Java's
  glob rules apply (JDK src/java.base/share/classes/sun/nio/fs/Globs.java ``toRegexPattern``): ``*``
  stays within a folder, ``**`` crosses folders, ``?`` is one character, ``[...]``/``[!...]`` classes,
  ``{a,b}`` groups. So ``data/*.csv`` also takes ``x/data/a.csv``, and ``*.csv`` takes nothing (every
  path starts with ``/``). The namespace's files themselves: in this project SyncNamespaceFiles
  copies ``notebooks/<child path>`` (every file of that folder tree, ``.git``/``.gitignore``/
  ``.gitkeep`` excepted: PG@31ef79c1 AbstractSyncTask.java:92-105) into namespace ``<root>.<child>``
  (``kernel_ext/core/gitops_flow.py``); here: the files Git would commit in that folder.
- ``inputFiles``: rendered once with Pebble (``PluginUtilsService.transformInputFiles``, K@58c1ca2d
  core/.../runners/PluginUtilsService.java:98-118), then each written to the working directory; a
  value starting with ``kestra://`` is downloaded from internal storage instead (K@58c1ca2d
  core/.../runners/FilesService.java:24-61; from 1.0 any ``URIFetcher`` scheme, K@173d2b10 FilesService.java).
  Output files live in a local folder standing in for internal storage.
- Pebble: ``VariableRenderer`` with ``strictVariables(true)``, no auto-escaping, no newline trimming;
  single-line ``{% raw %}`` blocks are set aside before rendering and stripped to their content after
  (K@58c1ca2d core/.../runners/VariableRenderer.java:26-134; K@00172f18 same rules). Values print
  through ``JsonWriter`` (maps and lists as JSON, numbers as Java prints them, K@58c1ca2d
  core/.../runners/pebble/JsonWriter.java:59-71); ``toJson`` is Jackson (``ToJsonFilter``:
  null → ``null``, else ``JacksonMapper.ofJson().writeValueAsString``, K@58c1ca2d
  core/.../runners/pebble/filters/ToJsonFilter.java:23-33). This harness renders only what nbops emits:
  ``{{ path | toJson }}``, ``{{ path }}``, ``[...]`` subscripts, ``??``, string literals, ``{% raw %}``,
  comments and ``-`` whitespace control; anything else raises :class:`NotEmulated`.
- Input values: typed as Kestra types them (``FlowInputOutput.parseType``: INT is a Java ``Integer``,
  FLOAT a Java **Float** (32-bit!), DATE a ``LocalDate``..., K@58c1ca2d core/.../runners/FlowInputOutput.java:401-467;
  K-1.x same file), defaults taken as written before 1.0 (FlowInputOutput.java:238) and
  rendered as Pebble then converted from 1.0 (``resolveDefaultValue``/``Property.as``, K-1.x
  FlowInputOutput.java; K@009573e8 core/.../models/property/Property.java ``as``). The execution that
  carries them is stored as JSON (Jackson) and read back, so what a task renders is the JSON
  round trip of those typed values. Jackson writes a Java double/float with ``Double.toString``/
  ``Float.toString``: E notation at or above 1e7 and below 1e-3 (``1.2345678E7``, ``1.0E-4``)
  (K@58c1ca2d core/.../serializers/JacksonMapper.java:123-138 enables no number feature;
  JDK ``Double.toString`` javadoc), NaN/Infinity as strings; durations as seconds
  (K@009573e8 Property.java: "By default, durations are stored as numbers").
- Running: ``beforeCommands`` and ``commands`` are rendered, ``set -e`` is put first when
  ``failFast`` (default true), and everything is joined with newlines into one argument of the
  interpreter ``/bin/sh -c`` (K@58c1ca2d script/.../exec/AbstractExecScript.java:85-94,169-199;
  K@58c1ca2d core/.../tasks/runners/ScriptService.java:148-160; PS@v0.21.2 and PS@v1.5.0
  plugin-script-python/.../python/Commands.java ``run``: ``withBeforeCommandsWithOptions(true)``;
  K@09229b93 CommandsWrapper.java ``run``/``getBeforeCommandsWithOptions``). The task's environment:
  the image's, then ``env``, then ``PYTHONUNBUFFERED=true``, ``PIP_ROOT_USER_ACTION=ignore``,
  ``PIP_DISABLE_PIP_VERSION_CHECK=1`` (Commands.java ``run``), then ``WORKING_DIR``
  (K@58c1ca2d core/.../tasks/runners/TaskRunner.java:85-109); the working directory is the task's own.
- **The container image is faked**: Docker cannot run here (no engine), so the task runs in a
  process whose environment is the current Python environment *without nbops* (a virtual
  environment that sees this one's packages except nbops/kernel_ext, as
  ``tests/services/test_examples.py::_nbops_free_environment`` builds, with the same console scripts
  and the ``python3`` kernelspec), not in ``containerImage``. So a notebook cannot import
  ``kernel_ext`` unless the flow ships it, as in Kestra's container. Its ``pip`` installs nothing: it
  checks that the requirements are satisfied by that environment and fails as pip would when one is
  not (``fake_pip.py``). The Python version is this environment's, not the image's.
- State: a non-zero exit code is FAILED (Docker runner ``TaskException``, K@58c1ca2d
  script/.../runner/docker/Docker.java:482-490); before 0.23 an exit code 0 with any stderr line is
  WARNING unless the task sets ``warningOnStdErr: false`` (default true: AbstractExecScript.java:69-76;
  ScriptOutput.java:47-49); from 0.23 the exit code alone decides (kestra-io/plugin-scripts#233,
  PS@9220b015 "remove warningOnError behavior", first in v0.23.0; kestra-io/docs#2567; K@09229b93
  CommandsWrapper keeps a deprecated ``warningOnStdErr`` field but builds ``ScriptOutput`` without it).
  From 0.23 the harness accepts and ignores the property (whether Kestra ≥ 0.23 still accepts it in a
  flow was not confirmed from source).
  Lines are what the Docker runner makes of the streams (Docker.java:149,433-470). A failed task ends
  the execution once its ``Parallel`` group is done (all its children were started); children of a
  Parallel are run one after the other here, not at the same time. The execution's state is the
  worst of its task runs (K@58c1ca2d core/.../models/executions/Execution.java:564-594); ``retry``
  runs a failed task again up to ``maxAttempt`` attempts in all (TaskRun.java:266-279), without
  waiting the interval here; ``timeout`` kills the task (FAILED).
- Outputs: every stdout *and stderr* line matching ``^::(\\{.*})::$`` is read with Jackson's
  non-strict mapper into ``{outputs, metrics, logs}``; a line Jackson refuses (``NaN``,
  ``Infinity``, ...) is lost whole; the outputs of all lines are merged (K@58c1ca2d
  core/.../tasks/runners/PluginUtilsService.java:34-37,170-212, DefaultLogConsumer.java:16-24;
  K@044883a0 TaskLogLineMatcher.java for 1.x). They become ``outputs.<task>.vars``; ``outputFiles``
  are matched under the working directory (LocalWorkingDir.java:203-251, FilesService.java:63-78) and
  kept for later tasks. The flow's ``outputs`` are rendered at the end even after a failure; a
  rendering or typing error turns the execution FAILED (K@58c1ca2d core/.../runners/ExecutorService.java:369-397,
  FlowInputOutput.typedOutputs).
- Flow trigger: :func:`flow_trigger_fires` says whether an ``after:`` flow's
  ``io.kestra.plugin.core.trigger.Flow`` trigger fires for upstream executions: its ``states``
  (default: every terminal state) and each ``preconditions.flows[]`` namespace/flowId/states
  (K@58c1ca2d core/.../plugin/core/trigger/Flow.java:221-222,278-407; State.java:215-245).

What is not emulated raises :class:`NotEmulated` (unknown task or input properties, other Pebble
syntax, other pip commands), so a gap never passes for Kestra's behaviour.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import sysconfig
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
NOT_EMULATED_MARK = "FAKE-IMAGE-NOT-EMULATED:"  # what fake_pip.py writes on stderr for a gap


class NotEmulated(Exception):
    """The flow uses something this harness does not reproduce: no replay result is given."""


class RenderError(Exception):
    """Kestra's IllegalVariableEvaluationException (strict variables, a missing key...)."""


class InputError(Exception):
    """Kestra refuses the execution's inputs (missing required input, wrong type, constraint)."""


# ---------------------------------------------------------------------------------------------- versions

@dataclass(frozen=True, order=True)
class Version:
    major: int
    minor: int

    @classmethod
    def of(cls, text: str | Version) -> Version:
        if isinstance(text, Version):
            return text
        match = re.fullmatch(r"\s*(\d+)\.(\d+)(?:\.\d+)?\s*", str(text))
        if not match:
            raise ValueError(f"not a Kestra version: {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


STDERR_WARNING_UNTIL = Version(0, 23)  # plugin-scripts#233: from 0.23 stderr no longer makes WARNING
PEBBLE_DEFAULTS_SINCE = Version(1, 0)  # FlowInputOutput.resolveDefaultValue renders defaults (K-1.x)
URI_FETCHER_SINCE = Version(1, 0)  # FilesService uses URIFetcher (nsfile://) instead of startsWith("kestra://")
NAMESPACES_PROPERTY_SINCE = Version(0, 22)  # NamespaceFiles.namespaces/folderPerNamespace/ifExists (absent at K@58c1ca2d)


# ---------------------------------------------------------------------------------------------- Java numbers

def float32(x: float) -> float:
    """The Java ``float`` nearest to the double ``x`` (round half even, as a cast)."""
    if math.isnan(x) or math.isinf(x):
        return x
    try:
        return struct.unpack("<f", struct.pack("<f", x))[0]
    except OverflowError:
        return math.copysign(math.inf, x)


def _f32_bits(x: float) -> int:
    return struct.unpack("<I", struct.pack("<f", x))[0]


def _f32_from_bits(bits: int) -> float:
    return struct.unpack("<f", struct.pack("<I", bits & 0xFFFFFFFF))[0]


def _f32_round(q: Fraction) -> float:
    """The float nearest to the exact rational ``q`` (round half even), as Java's ``Float.parseFloat``."""
    if q == 0:
        return 0.0
    try:
        approx = float32(float(q))  # may be one float off (double rounding); the exact check below fixes it
    except OverflowError:
        return math.copysign(math.inf, q)
    if math.isinf(approx):
        biggest = _f32_from_bits(0x7F7FFFFF)
        limit = Fraction(biggest) + (Fraction(biggest) - Fraction(_f32_from_bits(0x7F7FFFFE))) / 2
        return approx if abs(q) >= limit else math.copysign(biggest, q)
    bits = _f32_bits(approx)
    candidates = {approx}
    for delta in (-1, 1):
        neighbour = _f32_from_bits(bits + delta)
        if not math.isnan(neighbour) and not math.isinf(neighbour):
            candidates.add(neighbour)
    return min(candidates, key=lambda c: (abs(Fraction(c) - q), _f32_bits(c) & 1))


def java_parse_float(text: str) -> float:
    """``Float.parseFloat``/``Float.valueOf(String)``: the decimal rounded straight to a float."""
    body = text.strip()
    match = re.fullmatch(r"([+-]?)(NaN|Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)[fFdD]?", body)
    if not match:
        raise InputError(f"For input string: \"{text}\"")
    sign, number = match.groups()
    if number == "NaN":
        return math.nan
    if number == "Infinity":
        return -math.inf if sign == "-" else math.inf
    value = _f32_round(Fraction(Decimal(number)))
    return -value if sign == "-" else value


def java_parse_int(text: str) -> int:
    """``Integer.valueOf(String)``: an optional sign and decimal digits, within 32 bits."""
    if not re.fullmatch(r"[+-]?\d+", text):
        raise InputError(f"For input string: \"{text}\"")
    value = int(text)
    if not -2**31 <= value < 2**31:
        raise InputError(f"For input string: \"{text}\" (out of the range of a Java Integer)")
    return value


def _digits(d: Decimal) -> tuple[str, int]:
    """(significant digits without trailing zeros, exponent) of a non-zero finite decimal."""
    _, digits, exponent = d.as_tuple()
    text = "".join(map(str, digits)).lstrip("0") or "0"
    stripped = text.rstrip("0")
    return stripped, int(exponent) + len(text) - len(stripped)


def _shortest(x: float, length_ok: Callable[[Decimal], bool], max_digits: int) -> tuple[str, int]:
    """The shortest decimal that rounds to ``x`` (closest if several); JDK 19+ ``toString`` rule:
    when the shortest has one digit, a two-digit decimal closer to ``x`` is preferred."""
    exact = Decimal(x)
    chosen: Decimal | None = None
    for n in range(1, max_digits + 1):
        candidate = Decimal(f"{x:.{n - 1}e}")
        if length_ok(candidate):
            chosen = candidate
            break
    assert chosen is not None
    digits, exponent = _digits(chosen)
    if len(digits) == 1:
        two = Decimal(f"{x:.1e}")
        if length_ok(two) and abs(two - exact) < abs(chosen - exact):
            digits, exponent = _digits(two)
    return digits, exponent


def _java_format(negative: bool, digits: str, exponent: int) -> str:
    """Java's layout: plain from 1e-3 (inclusive) to 1e7 (exclusive), else ``d.dddE±n``."""
    sci = len(digits) - 1 + exponent
    if -3 <= sci < 7:
        point = len(digits) + exponent  # digits before the decimal point
        if point <= 0:
            text = "0." + "0" * -point + digits
        elif point >= len(digits):
            text = digits + "0" * (point - len(digits)) + ".0"
        else:
            text = digits[:point] + "." + digits[point:]
    else:
        text = f"{digits[0]}.{digits[1:] or '0'}E{sci}"
    return ("-" if negative else "") + text


def java_double_to_string(x: float) -> str:
    """``Double.toString(double)`` (JDK 19+: shortest decimal that rounds back), what Jackson writes."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "-0.0" if math.copysign(1, x) < 0 else "0.0"
    digits, exponent = _shortest(abs(x), lambda d: float(d) == abs(x), 17)
    return _java_format(x < 0, digits, exponent)


def java_float_to_string(x: float) -> str:
    """``Float.toString(float)`` of a value that is a float (see :func:`float32`)."""
    if math.isnan(x) or math.isinf(x) or x == 0:
        return java_double_to_string(x)
    target = abs(x)
    digits, exponent = _shortest(target, lambda d: _f32_round(Fraction(d)) == target, 9)
    return _java_format(x < 0, digits, exponent)


# ---------------------------------------------------------------------------------------------- Jackson

@dataclass(frozen=True)
class JFloat:
    """A ``java.lang.Float`` (FLOAT inputs and outputs: FloatInput extends Input<Float>)."""
    value: float


@dataclass(frozen=True)
class JTemporal:
    """A ``LocalDate``/``Instant``/``LocalTime`` as Jackson writes it (ISO text, dates not as timestamps:
    JacksonMapper.java:128)."""
    kind: str
    iso: str


@dataclass(frozen=True)
class JDuration:
    """A ``java.time.Duration``; Jackson writes it as seconds (WRITE_DURATIONS_AS_TIMESTAMPS is on by
    default; Property.java: "By default, durations are stored as numbers")."""
    seconds: int
    nanos: int


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _jackson_string(text: str) -> str:
    """Jackson's escaping: quote, backslash and the C0 controls (``\\u00XX``, upper-case hex);
    everything else, non-ASCII included, as is."""
    out = ['"']
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def jackson_dumps(value: Any) -> str:
    """``JacksonMapper.ofJson().writeValueAsString(value)`` of Java-typed values (compact)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = java_double_to_string(value)
        return text if math.isfinite(value) else f'"{text}"'  # WRITE_NAN_AS_STRINGS is on by default
    if isinstance(value, JFloat):
        text = java_float_to_string(value.value)
        return text if math.isfinite(value.value) else f'"{text}"'
    if isinstance(value, str):
        return _jackson_string(value)
    if isinstance(value, JTemporal):
        return _jackson_string(value.iso)
    if isinstance(value, JDuration):
        if value.nanos == 0:
            return "0.0" if value.seconds == 0 else f"{value.seconds}.000000000"
        return f"{value.seconds}.{value.nanos:09d}"
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{_jackson_string(str(k))}:{jackson_dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(jackson_dumps(v) for v in value) + "]"
    raise NotEmulated(f"no Jackson form for {type(value).__name__}")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"Non-standard token '{name}'")  # JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS is off


_STRICT = json.JSONDecoder(parse_constant=_refuse_constant, strict=True)


def jackson_loads(text: str) -> Any:
    """Jackson's default reading of one JSON value into Java's untyped objects (ints, doubles,
    strings, maps, lists): NaN and Infinity refused, unescaped control characters refused, what
    follows the first value ignored (FAIL_ON_TRAILING_TOKENS is off by default). Raises ValueError."""
    value, _ = _STRICT.raw_decode(text.lstrip(" \t\r\n"))
    return value


def round_trip(value: Any) -> Any:
    """What a value stored in an execution (JSON, Jackson) reads back as."""
    return jackson_loads(jackson_dumps(value))


# ---------------------------------------------------------------------------------------------- Pebble

_JAVA_WS = " \t\n\x0b\f\r"
_LT = "\n\r\u0085\u2028\u2029"  # Java regex line terminators ('.' matches none of them)
RAW_PATTERN = re.compile(r"(\{%-*[ \t\n\x0b\f\r]*raw[ \t\n\x0b\f\r]*-*%}([^" + _LT + r"]*?)"
                         r"\{%-*[ \t\n\x0b\f\r]*endraw[ \t\n\x0b\f\r]*-*%})")
_BLOCK_RAW = re.compile(r"\{%(-?)\s*raw\s*(-?)%}")
_BLOCK_ENDRAW = re.compile(r"\{%(-?)\s*endraw\s*(-?)%}")
_TOKEN = re.compile(r"""\s*(?:
    (?P<end>-?}})
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\?\?|[.\[\]()|,])
)""", re.VERBOSE | re.DOTALL)
_KEYWORDS = {"true": True, "false": False, "null": None, "none": None}


class _Missing(RenderError):
    pass


def _unquote(literal: str) -> str:
    body = literal[1:-1]
    if literal[0] == '"' and "#{" in body:
        raise NotEmulated(f"Pebble string interpolation in {literal}")
    if re.search(r"\\[^'\"\\]", body):
        raise NotEmulated(f"Pebble escape in the string literal {literal}")
    return re.sub(r"\\(['\"\\])", r"\1", body)


class _Expression:
    """A recursive-descent parser and evaluator for the subset of Pebble expressions nbops emits."""

    def __init__(self, source: str, start: int, variables: Mapping[str, Any]):
        self.source, self.pos, self.variables = source, start, variables
        self.tokens: list[tuple[str, str]] = []
        while True:
            match = _TOKEN.match(source, self.pos)
            if not match:
                rest = source[self.pos:self.pos + 30].strip()
                raise NotEmulated(f"Pebble syntax not emulated near {rest!r}")
            self.pos = match.end()
            kind = match.lastgroup or ""
            self.tokens.append((kind, match.group(kind)))
            if kind == "end":
                break
        self.i = 0

    @property
    def trims_after(self) -> bool:
        return self.tokens[-1][1].startswith("-")

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.i]

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.tokens[self.i]
        if value is not None and token[1] != value:
            raise NotEmulated(f"Pebble syntax not emulated: expected {value!r}, found {token[1]!r}")
        self.i += 1
        return token

    # evaluation returns thunks so that ``??`` can swallow a missing variable on its left
    def evaluate(self) -> Any:
        thunk = self.coalesce()
        if self.peek()[0] != "end":
            raise NotEmulated(f"Pebble syntax not emulated: {self.peek()[1]!r}")
        return thunk()

    def coalesce(self) -> Callable[[], Any]:
        parts = [self.filtered()]
        while self.peek()[1] == "??":
            self.take()
            parts.append(self.filtered())
        if len(parts) > 1 and any(getattr(p, "filtered", False) for p in parts):
            raise NotEmulated("'??' next to a filter (Pebble's precedence of the two is not emulated)")
        if len(parts) == 1:
            return parts[0]

        def first_present() -> Any:
            for part in parts[:-1]:
                try:
                    value = part()
                except _Missing:
                    continue
                if value is not None:
                    return value
            return parts[-1]()
        return first_present

    def filtered(self) -> Callable[[], Any]:
        thunk = self.primary()
        names = []
        while self.peek()[1] == "|":
            self.take()
            kind, name = self.take()
            if kind != "name" or name not in {"toJson"}:
                raise NotEmulated(f"Pebble filter {name!r}")
            if self.peek()[1] == "(":
                self.take()
                self.take(")")
            names.append(name)
        if not names:
            return thunk

        def apply() -> Any:
            value = thunk()
            for _ in names:  # ToJsonFilter.java:23-33
                value = "null" if value is None else jackson_dumps(value)
            return value
        apply.filtered = True  # type: ignore[attr-defined]
        return apply

    def primary(self) -> Callable[[], Any]:
        kind, text = self.take()
        if kind == "string":
            literal = _unquote(text)
            return lambda: literal
        if kind == "number":
            number = float(text) if "." in text else int(text)
            return lambda: number
        if kind == "op" and text == "(":
            inner = self.coalesce()
            self.take(")")
            thunk = inner
        elif kind == "name" and text in _KEYWORDS:
            constant = _KEYWORDS[text]
            return lambda: constant
        elif kind == "name":
            name = text

            def root() -> Any:
                if name not in self.variables:  # strictVariables(true): VariableRenderer.java:38
                    raise _Missing(f"Unable to find `{name}` used in the expression")
                return self.variables[name]
            thunk = root
        else:
            raise NotEmulated(f"Pebble syntax not emulated: {text!r}")
        while self.peek()[1] in (".", "["):
            if self.take()[1] == ".":
                kind, attribute = self.take()
                if kind != "name":
                    raise NotEmulated(f"Pebble attribute {attribute!r}")
                thunk = self._attribute(thunk, self._constant(attribute))
            else:
                key = self.coalesce()
                self.take("]")
                thunk = self._attribute(thunk, key)
        return thunk

    @staticmethod
    def _constant(value: Any) -> Callable[[], Any]:
        return lambda: value

    @staticmethod
    def _attribute(base: Callable[[], Any], key: Callable[[], Any]) -> Callable[[], Any]:
        def get() -> Any:
            container, name = base(), key()
            if isinstance(container, Mapping):
                if name not in container:
                    raise _Missing(f"Unable to find `{name}` used in the expression")
                return container[name]
            if isinstance(container, list) and isinstance(name, int) and not isinstance(name, bool):
                if not 0 <= name < len(container):
                    raise _Missing(f"index {name} out of bounds")
                return container[name]
            if container is None:
                raise _Missing(f"Unable to find `{name}` on a null value")
            raise NotEmulated(f"Pebble attribute {name!r} of a {type(container).__name__}")
        return get


def pebble_print(value: Any) -> str:
    """How ``JsonWriter`` prints a value (K@58c1ca2d core/.../runners/pebble/JsonWriter.java:59-71)."""
    if value is None:
        return ""  # Pebble prints nothing for null
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return java_double_to_string(value)
    if isinstance(value, JFloat):
        return java_float_to_string(value.value)
    if isinstance(value, Mapping | list | tuple):
        return jackson_dumps(value)
    if isinstance(value, JTemporal):
        return value.iso
    return str(value)


def _pebble(template: str, variables: Mapping[str, Any]) -> str:
    out: list[str] = []
    i, trim_next = 0, False
    while i < len(template):
        starts = [j for j in (template.find("{{", i), template.find("{%", i), template.find("{#", i)) if j >= 0]
        j = min(starts) if starts else len(template)
        text = template[i:j]
        if trim_next:
            text = text.lstrip(_JAVA_WS)
        if j < len(template) and template[j + 2:j + 3] == "-":
            text = text.rstrip(_JAVA_WS)
        out.append(text)
        if j >= len(template):
            break
        opener = template[j:j + 2]
        if opener == "{#":
            closing = template.find("#}", j)
            if closing < 0:
                raise RenderError("unclosed comment")
            i, trim_next = closing + 2, False
        elif opener == "{{":
            expression = _Expression(template, j + 2 + (template[j + 2:j + 3] == "-"), variables)
            out.append(pebble_print(expression.evaluate()))
            i, trim_next = expression.pos, expression.trims_after
        else:
            raw = _BLOCK_RAW.match(template, j)
            if not raw:
                raise NotEmulated(f"Pebble tag not emulated: {template[j:j + 30]!r}")
            end = _BLOCK_ENDRAW.search(template, raw.end())
            if not end:
                raise RenderError("unclosed raw tag")
            body = template[raw.end():end.start()]
            if raw.group(2):
                body = body.lstrip(_JAVA_WS)
            if end.group(1):
                body = body.rstrip(_JAVA_WS)
            out.append(body)
            i, trim_next = end.end(), bool(end.group(2))
    return "".join(out)


def render(template: str, variables: Mapping[str, Any]) -> str:
    """``VariableRenderer.render`` (K@58c1ca2d VariableRenderer.java:67-134): short-cut without ``{``,
    single-line raw blocks set aside and put back, Pebble, then every raw block stripped to its body."""
    if "{" not in template:
        return template
    placeholders: dict[str, str] = {}

    def set_aside(match: re.Match[str]) -> str:
        key = str(uuid.uuid4())
        placeholders[key] = match.group(1)
        return key
    result = _pebble(RAW_PATTERN.sub(set_aside, template), variables)
    for key, raw in placeholders.items():
        result = result.replace(key, raw)
    return RAW_PATTERN.sub(lambda m: m.group(2), result)


# ---------------------------------------------------------------------------------------------- globs and namespace files

class GlobSyntaxError(ValueError):
    pass


def java_glob_regex(glob: str) -> str:
    """A Python regex equivalent to Java's ``Globs.toUnixRegexPattern`` (for ``re.fullmatch``)."""
    out: list[str] = []
    in_group = False
    i = 0

    def nxt(k: int) -> str:
        return glob[k] if k < len(glob) else ""
    while i < len(glob):
        c = glob[i]
        i += 1
        if c == "\\":
            if i == len(glob):
                raise GlobSyntaxError("No character to escape")
            out.append(re.escape(glob[i]))
            i += 1
        elif c == "[":  # never matches '/' (Java: [[^/]&&[...]])
            items: list[str] = []
            negate = False
            if nxt(i) == "^":
                items.append("\\^")
                i += 1
            else:
                if nxt(i) == "!":
                    negate = True
                    i += 1
                if nxt(i) == "-":
                    items.append("\\-")
                    i += 1
            has_range_start, last, closed = False, "", False
            while i < len(glob):
                c = glob[i]
                i += 1
                if c == "]":
                    closed = True
                    break
                if c == "/":
                    raise GlobSyntaxError("Explicit 'name separator' in class")
                if c == "-":
                    if not has_range_start:
                        raise GlobSyntaxError("Invalid range")
                    end = nxt(i)
                    i += 1
                    if end in ("", "]"):
                        items.append("\\-")
                        closed = end == "]"
                        break
                    if end < last:
                        raise GlobSyntaxError("Invalid range")
                    items[-1] = f"{re.escape(last)}-{re.escape(end)}"
                    has_range_start = False
                else:
                    items.append(re.escape(c))
                    has_range_start, last = True, c
            if not closed:
                raise GlobSyntaxError("Missing ']")
            body = "".join(items)
            out.append(f"[^/{body}]" if negate else f"(?:(?!/)[{body}])")
        elif c == "{":
            if in_group:
                raise GlobSyntaxError("Cannot nest groups")
            out.append("(?:(?:")
            in_group = True
        elif c == "}":
            out.append("))" if in_group else "\\}")
            in_group = False
        elif c == ",":
            out.append(")|(?:" if in_group else ",")
        elif c == "*":
            if nxt(i) == "*":
                out.append(".*")
                i += 1
            else:
                out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(c))
    if in_group:
        raise GlobSyntaxError("Missing '}")
    return "".join(out)


def kestra_pattern(pattern: str, base: str | None = None) -> str:
    """The ``syntax:pattern`` PathMatcherPredicate builds from a pattern (PathMatcherPredicate.java:90-113)."""
    if pattern.startswith(("glob:", "regex:")):
        return pattern
    if base is not None:
        full = base + (pattern if pattern.startswith(("/", "\\")) else "/" + pattern)
    else:
        full = "**/" + pattern if re.match(r"[A-Za-z0-9_]", pattern) else pattern  # "\\w+[\\s\\S]*"
    return "glob:" + full.replace("\\", "/")


def path_matcher(patterns: Sequence[str], base: str | None = None) -> Callable[[str], bool]:
    """``PathMatcherPredicate.matches(base, patterns)``: does any pattern match the path string?"""
    compiled = []
    for pattern in patterns:
        syntax, _, body = kestra_pattern(pattern, base).partition(":")
        compiled.append(re.compile(java_glob_regex(body) if syntax == "glob" else body))
    return lambda path: any(c.fullmatch(path) for c in compiled)


def include_exclude(include: Sequence[str] | None, exclude: Sequence[str] | None) -> Callable[[str], bool]:
    """``PathMatcherPredicate.builder().includes(..).excludes(..).build()`` (PathMatcherPredicate.java:67-78)."""
    inc = path_matcher(include) if include else None
    exc = path_matcher(exclude) if exclude else None
    return lambda path: (inc is None or inc(path)) and (exc is None or not exc(path))


def namespace_folder(project_root: Path, namespace: str) -> Path:
    """The folder SyncNamespaceFiles copies into ``namespace`` (``gitops_flow.py``: notebooks/<child path>)."""
    from kernel_ext.adapters.project import load_options

    options = load_options(project_root)
    if namespace != options.namespace and not namespace.startswith(options.namespace + "."):
        raise NotEmulated(f"namespace {namespace} is not under the project's root namespace {options.namespace}")
    child = namespace.removeprefix(options.namespace).strip(".").replace(".", "/")
    return project_root / options.notebooks / child


def namespace_files(project_root: Path, namespace: str) -> dict[str, Path]:
    """The namespace's files, keyed by their path with a leading slash (as Kestra matches them)."""
    folder = namespace_folder(project_root, namespace)
    if not folder.is_dir():
        return {}
    if any(folder.rglob(".kestraignore")):
        raise NotEmulated(".kestraignore")
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z", "--", "."], cwd=folder,
                            capture_output=True, check=False)
    if listed.returncode == 0:
        candidates = [folder / name for name in listed.stdout.decode().split("\0") if name]
    else:  # not a Git work tree: every file
        candidates = [p for p in folder.rglob("*") if p.is_file()]
    files = {}
    for path in candidates:
        if path.is_file() and not str(path).endswith((".git", ".gitignore", ".gitkeep")):  # AbstractSyncTask:92-105
            files["/" + path.relative_to(folder).as_posix()] = path
    return dict(sorted(files.items()))


def matching_namespace_files(files: Mapping[str, Path], include: Sequence[str] | None,
                             exclude: Sequence[str] | None) -> list[str]:
    keep = include_exclude(include, exclude)
    return [name for name in files if keep(name)]


# ---------------------------------------------------------------------------------------------- log lines and outputs

_NEWLINE_PATTERN = re.compile(r"([^\r\n]+)[\r\n]+")
_OUTPUT_LINE = re.compile(r"::(\{[^" + _LT + r"]*\})::(?:\r\n|[" + _LT + r"])?\Z")
_LOG_LEVELS = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR"}


def _java_split_lines(text: str) -> list[str]:
    parts = text.split("\n")  # String.split drops trailing empty strings
    while parts and parts[-1] == "":
        parts.pop()
    return parts


def log_lines(stream: str) -> list[str]:
    """The lines the Docker runner hands to the log consumer (Docker.java:149,433-470)."""
    lines: list[str] = []
    last = 0
    for match in _NEWLINE_PATTERN.finditer(stream):
        lines += _java_split_lines(match.group(0))
        last = match.end()
    if last < len(stream):
        lines += _java_split_lines(stream[last:])
    return lines


def parse_output_line(line: str) -> dict[str, Any] | None:
    """The outputs a log line announces, or None: not an outputs line, or refused by Jackson
    (then Kestra logs "Invalid outputs" and the whole line is lost; PluginUtilsService.java:170-212)."""
    match = _OUTPUT_LINE.match(line)
    if not match:
        return None
    try:
        message = jackson_loads(match.group(1))
    except ValueError:
        return None
    if not isinstance(message, dict):
        return None
    outputs = message.get("outputs")
    if outputs is not None and not isinstance(outputs, dict):
        return None
    metrics = message.get("metrics")
    if metrics is not None and not (isinstance(metrics, list) and all(
            isinstance(m, dict) and m.get("type") in ("counter", "timer") and "name" in m for m in metrics)):
        return None
    logs = message.get("logs")
    if logs is not None and not (isinstance(logs, list) and all(
            isinstance(entry, dict) and entry.get("level") in _LOG_LEVELS for entry in logs)):
        return None
    return outputs or {}


# ---------------------------------------------------------------------------------------------- YAML as Kestra reads it

class _KestraYamlLoader(yaml.SafeLoader):
    """Jackson's YAML reading of scalars: only true/false are booleans, dates stay text."""


_KestraYamlLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag not in ("tag:yaml.org,2002:bool",
                                                                     "tag:yaml.org,2002:timestamp")]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_KestraYamlLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                        list("tTfF"))


def load_flow(source: Path | str) -> dict[str, Any]:
    text = Path(source).read_text(encoding="utf-8") if isinstance(source, Path) else source
    flow = yaml.load(text, Loader=_KestraYamlLoader)
    if not isinstance(flow, dict):
        raise NotEmulated("not a flow document")
    return flow


# ---------------------------------------------------------------------------------------------- inputs

_INPUT_KEYS = {"id", "type", "description", "displayName", "required", "defaults", "min", "max", "values",
               "validator", "itemType", "allowCustomValue", "after", "before", "name"}


def _java_text(value: Any) -> str:
    """``toString()`` of what Jackson read (0.21) or the text a 1.x ``Property`` keeps of a YAML scalar."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return java_double_to_string(value)
    if isinstance(value, Mapping | list):
        return jackson_dumps(value)
    return str(value)


def _iso_date(text: str) -> JTemporal:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise InputError(f"Text '{text}' could not be parsed as a LocalDate")
    try:
        dt.date.fromisoformat(text)
    except ValueError as exc:
        raise InputError(f"Text '{text}' could not be parsed: {exc}") from None
    return JTemporal("LocalDate", text)


def _iso_instant(text: str) -> JTemporal:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})", text):
        raise InputError(f"Text '{text}' could not be parsed as an Instant")
    moment = dt.datetime.fromisoformat(text).astimezone(dt.UTC)
    fraction = re.search(r"\.(\d+)", text)
    nanos = int((fraction.group(1) + "000000000")[:9]) if fraction else 0
    iso = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if nanos:  # DateTimeFormatter.ISO_INSTANT: the fraction in groups of three digits
        digits = f"{nanos:09d}"
        iso += "." + (digits[:3] if digits[3:] == "000000" else digits[:6] if digits[6:] == "000" else digits)
    return JTemporal("Instant", iso + "Z")


def _iso_time(text: str) -> JTemporal:
    match = re.fullmatch(r"(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?", text)
    if not match:
        raise InputError(f"Text '{text}' could not be parsed as a LocalTime")
    hours, minutes, seconds, fraction = match.groups()
    iso = f"{hours}:{minutes}:{seconds or '00'}"  # Jackson writes ISO_LOCAL_TIME: seconds always
    if fraction and fraction.rstrip("0"):
        iso += "." + fraction.rstrip("0")
    return JTemporal("LocalTime", iso)


def _duration(text: str) -> JDuration:
    match = re.fullmatch(r"([-+]?)P(?:([-+]?\d+)D)?(?:T(?:([-+]?\d+)H)?(?:([-+]?\d+)M)?(?:([-+]?\d+)(?:\.(\d{1,9}))?S)?)?",
                         text.upper())
    if not match or text.upper() in ("P", "PT") or text.upper().endswith("T"):
        raise InputError(f"Text cannot be parsed to a Duration: {text}")
    sign, days, hours, minutes, seconds, fraction = match.groups()
    total = Fraction(int(days or 0) * 86400 + int(hours or 0) * 3600 + int(minutes or 0) * 60 + int(seconds or 0))
    if fraction:
        total += Fraction(int(fraction), 10 ** len(fraction)) * (-1 if (seconds or "").startswith("-") else 1)
    if sign == "-":
        total = -total
    whole = math.floor(total)
    return JDuration(int(whole), int((total - whole) * 10**9))


def _parse_type(kind: str, value: Any, version: Version, item_type: str | None = None) -> Any:
    """``FlowInputOutput.parseType`` (K@58c1ca2d FlowInputOutput.java:401-467; K-1.x): a
    Java-typed value, or InputError (Kestra's ConstraintViolation or ClassCastException)."""
    new = version >= PEBBLE_DEFAULTS_SINCE  # 1.x casts with toString(), 0.21 with (String)

    def text() -> str:
        if isinstance(value, str):
            return value
        if new:
            return _java_text(value)
        raise InputError(f"class {type(value).__name__} cannot be cast to class java.lang.String")
    if kind in ("STRING", "SELECT", "ENUM", "EMAIL"):
        return text() if new else value
    if kind == "INT":
        return value if isinstance(value, int) and not isinstance(value, bool) and -2**31 <= value < 2**31 \
            else java_parse_int(text())
    if kind == "FLOAT":
        return value if isinstance(value, JFloat) else JFloat(java_parse_float(_java_text(value)))
    if kind in ("BOOLEAN", "BOOL"):
        if kind == "BOOL" and version < Version(0, 23):
            raise InputError("unknown input type BOOL")
        return value if isinstance(value, bool) else text().lower() == "true"  # Boolean.valueOf
    if kind == "DATE":
        return value if isinstance(value, JTemporal) and value.kind == "LocalDate" else _iso_date(text())
    if kind == "DATETIME":
        return value if isinstance(value, JTemporal) and value.kind == "Instant" else _iso_instant(text())
    if kind == "TIME":
        return value if isinstance(value, JTemporal) and value.kind == "LocalTime" else _iso_time(text())
    if kind == "DURATION":
        return value if isinstance(value, JDuration) else _duration(text())
    if kind == "JSON":
        if new and isinstance(value, Mapping | list):
            return value
        try:
            return jackson_loads(text())
        except ValueError as exc:
            raise InputError(f"not JSON: {exc}") from None
    if kind in ("ARRAY", "MULTISELECT"):
        if isinstance(value, list):
            items = value
        else:
            try:
                items = jackson_loads(text())
            except ValueError as exc:
                raise InputError(f"not a JSON list: {exc}") from None
            if not isinstance(items, list):
                raise InputError("not a JSON list")
        if item_type:
            return [_parse_type(item_type, item, version) for item in items]
        return items
    if kind == "URI":
        if not re.fullmatch(r"[a-z]+://(?:www\.)?[-a-zA-Z0-9@:%._+~#=]{1,256}\.[a-zA-Z0-9()]{1,6}\b"
                            r"[-a-zA-Z0-9()@:%_+.~#?&/=]*", text()):
            raise InputError(f"Expected `URI` but received `{value}`")
        return text()
    raise NotEmulated(f"input type {kind}")


def _default_1x(kind: str, default: Any, variables: Mapping[str, Any], version: Version) -> Any:
    """``resolveDefaultValue``: the default's text rendered as Pebble, then converted by Jackson to the
    type's Java class (K-1.x FlowInputOutput.java; K@009573e8 Property.java ``as``/``asList``)."""
    expression = _java_text(default)  # PropertyDeserializer: scalars as text, lists and maps as JSON
    rendered = render(expression, variables)
    if kind in ("ARRAY", "MULTISELECT"):
        try:
            items = jackson_loads(rendered)
        except ValueError as exc:
            raise InputError(f"default is not a JSON list: {exc}") from None
        if not isinstance(items, list):
            raise InputError("default is not a JSON list")
        return items
    if kind in ("JSON", "YAML", "STRING", "SELECT", "ENUM", "EMAIL", "SECRET", "URI", "FILE"):
        return rendered
    if kind == "INT":
        return java_parse_int(rendered.strip())
    if kind == "FLOAT":
        return JFloat(java_parse_float(rendered))
    if kind in ("BOOLEAN", "BOOL"):
        lowered = rendered.strip().lower()
        if lowered not in ("true", "false"):
            raise InputError(f"Cannot coerce String value (\"{rendered}\") to `java.lang.Boolean`")
        return lowered == "true"
    return _parse_type(kind, rendered, version)


def _validate(inp: Mapping[str, Any], kind: str, value: Any) -> None:
    """The inputs' ``validate`` methods (K@58c1ca2d core/.../models/flows/input/*Input.java)."""
    number = value.value if isinstance(value, JFloat) else value
    if kind in ("INT", "FLOAT"):
        low, high = inp.get("min"), inp.get("max")
        if kind == "FLOAT":
            low = None if low is None else java_parse_float(_java_text(low))
            high = None if high is None else java_parse_float(_java_text(high))
        if low is not None and number < low:
            raise InputError(f"it must be more than `{low}`")
        if high is not None and number > high:
            raise InputError(f"it must be less than `{high}`")
    if kind in ("SELECT", "ENUM") and inp.get("values") is not None and value not in inp["values"] \
            and inp.get("required", True) and not inp.get("allowCustomValue", False):
        raise InputError(f"it must match the values `{inp['values']}`")
    if kind == "MULTISELECT" and not inp.get("allowCustomValue", False):
        for item in value:
            if item not in (inp.get("values") or inp.get("options") or []):
                raise InputError(f"it must match the values `{inp.get('values')}`")
    if kind == "STRING" and inp.get("validator") is not None and not re.fullmatch(inp["validator"], str(value)):
        raise InputError(f"it must match the pattern `{inp['validator']}`")
    if kind == "DATE":
        for bound, wrong in (("after", lambda v, b: v < b), ("before", lambda v, b: v > b)):
            if inp.get(bound) is not None and wrong(value.iso, str(inp[bound])):
                raise InputError(f"it must be {bound} `{inp[bound]}`")


def resolve_inputs(flow: Mapping[str, Any], given: Mapping[str, Any] | None, version: Version | str,
                   variables: Mapping[str, Any]) -> dict[str, Any]:
    """The execution's inputs as a task sees them: typed as Kestra types them, then through the
    execution's JSON round trip (ints, doubles, strings, maps, lists). Raises InputError when
    Kestra would refuse to create the execution."""
    version = Version.of(version)
    given = dict(given or {})
    typed: dict[str, Any] = {}
    for inp in flow.get("inputs") or []:
        unknown = set(inp) - _INPUT_KEYS
        if unknown or inp.get("dependsOn"):
            raise NotEmulated(f"input properties {sorted(unknown) or ['dependsOn']}")
        name, kind = inp["id"], str(inp.get("type", "STRING"))
        if kind in ("SECRET", "FILE", "YAML"):
            raise NotEmulated(f"input type {kind}")
        value, default = given.pop(name, None), inp.get("defaults")
        if value is None and default is not None:
            value = _default_1x(kind, default, variables, version) if version >= PEBBLE_DEFAULTS_SINCE else default
        if value is None:
            if inp.get("required", True):
                raise InputError(f"Invalid input for `{name}`, missing required input")
            typed[name] = None
            continue
        try:
            parsed = _parse_type(kind, value, version, inp.get("itemType"))
            _validate(inp, kind, parsed)
        except InputError as exc:
            raise InputError(f"Invalid input for `{name}`, {exc}") from None
        typed[name] = parsed
    nested: dict[str, Any] = {}
    for key, value in typed.items():  # MapUtils.flattenToNestedMap: "a.b" → {"a": {"b": ...}}
        node = nested
        *parents, last = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return round_trip(nested)


# ---------------------------------------------------------------------------------------------- the fake image

NBOPS_DISTS = ("kernel_ext", "nbops", "__editable__", "_nbops", "__pycache__")


@dataclass(frozen=True)
class FakeImage:
    """The container a Commands task runs in, faked by this Python environment without nbops."""
    root: Path

    @property
    def venv(self) -> Path:
        return self.root / "venv"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def site(self) -> Path:
        return self.root / "site"

    @property
    def shim(self) -> Path:
        return self.root / "shim"

    @classmethod
    def build(cls, root: Path) -> FakeImage:
        image = cls(root)
        image.site.mkdir(parents=True)
        for entry in sorted({Path(sysconfig.get_paths()[k]) for k in ("purelib", "platlib")}):
            for item in entry.iterdir():
                lowered = item.name.lower()
                if lowered.startswith(NBOPS_DISTS) or item.suffix == ".pth" or lowered == "pip" \
                        or lowered.startswith("pip-") or (image.site / item.name).exists():
                    continue
                (image.site / item.name).symlink_to(item)
        (image.shim / "pip").mkdir(parents=True)
        shutil.copy(HERE / "fake_pip.py", image.shim / "fake_pip.py")
        (image.shim / "pip" / "__init__.py").write_text("")
        (image.shim / "pip" / "__main__.py").write_text("import sys\nfrom fake_pip import main\n"
                                                      "sys.exit(main(sys.argv[1:]))\n")
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", "--without-pip", str(image.venv)], check=True)
        source_bin = Path(sys.executable).parent
        shebang = f"#!{image.python}\n"
        for script in sorted(source_bin.iterdir()):  # the image's console scripts (papermill, jupyter...)
            if script.name.lower().startswith(("nbops", "pip", "activate", "python")) or not script.is_file():
                continue
            try:
                first, rest = script.read_text(encoding="utf-8").split("\n", 1)
            except (UnicodeDecodeError, ValueError):
                continue
            if first.startswith("#!") and "python" in first:
                target = image.venv / "bin" / script.name
                target.write_text(shebang + rest, encoding="utf-8")
                target.chmod(0o755)
        for name in ("pip", "pip3"):
            target = image.venv / "bin" / name
            target.write_text(shebang + "import sys\nfrom fake_pip import main\nsys.exit(main(sys.argv[1:]))\n")
            target.chmod(0o755)
        kernels = Path(sys.prefix) / "share" / "jupyter" / "kernels"  # data files of the ipykernel wheel
        if kernels.is_dir():
            shutil.copytree(kernels, image.venv / "share" / "jupyter" / "kernels")
        return image

    def environment(self, container: Path) -> dict[str, str]:
        """The image's own environment for one container (a fresh HOME and site folder each time)."""
        home, site = container / "home", container / "site"
        home.mkdir(parents=True, exist_ok=True)
        site.mkdir(parents=True, exist_ok=True)
        return {"PATH": f"{self.venv / 'bin'}{os.pathsep}/usr/local/bin:/usr/bin:/bin", "HOME": str(home),
                "LANG": "C.UTF-8", "PYTHONPATH": os.pathsep.join(map(str, (site, self.shim, self.site))),
                "FAKE_IMAGE_SITE": str(site)}


@lru_cache(maxsize=1)
def default_image() -> FakeImage:
    """One fake image per test session (built in a temporary folder removed at exit)."""
    import atexit

    root = Path(tempfile.mkdtemp(prefix="kestra-fake-image-"))
    atexit.register(shutil.rmtree, root, True)
    return FakeImage.build(root / "image")


# ---------------------------------------------------------------------------------------------- running a flow

COMMANDS_TYPES = {"io.kestra.plugin.scripts.python.Commands"}
PARALLEL_TYPES = {"io.kestra.plugin.core.flow.Parallel", "io.kestra.core.tasks.flows.Parallel"}
SEQUENTIAL_TYPES = {"io.kestra.plugin.core.flow.Sequential", "io.kestra.core.tasks.flows.Sequential"}
FLOW_TRIGGER_TYPES = {"io.kestra.plugin.core.trigger.Flow", "io.kestra.core.models.triggers.types.Flow"}
TERMINAL_STATES = ("SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED", "RETRIED", "SKIPPED")  # State.java:215-217
_COMMANDS_KEYS = {"id", "type", "description", "containerImage", "namespaceFiles", "inputFiles", "outputFiles",
                  "beforeCommands", "commands", "env", "timeout", "retry", "warningOnStdErr", "interpreter",
                  "failFast", "taskRunner", "targetOS", "disabled", "dependencies", "packageManager", "pythonVersion",
                  "dependencyCacheEnabled"}
_SINCE_0_23 = {"dependencies", "packageManager", "pythonVersion", "dependencyCacheEnabled"}  # PS commit 09e9606e
_STATE_ORDER = ("KILLED", "FAILED", "WARNING", "PAUSED")  # Execution.guessFinalState, Execution.java:564-594


def worst_state(states: Iterable[str]) -> str:
    states = list(states)
    return next((s for s in _STATE_ORDER if s in states), "SUCCESS")


@dataclass
class TaskRun:
    task_id: str
    state: str
    attempts: int = 0
    exit_code: int | None = None
    vars: dict[str, Any] = field(default_factory=dict)
    output_files: dict[str, str] = field(default_factory=dict)  # name → kestra:// URI
    stdout: str = ""
    stderr: str = ""
    stdout_lines: int = 0
    stderr_lines: int = 0
    workdir: Path | None = None
    script: list[str] = field(default_factory=list)
    error: str | None = None  # why it failed before or around the commands (rendering, a missing file, timeout)
    earlier: list[TaskRun] = field(default_factory=list)  # the failed attempts before this one (retry)

    def outputs(self) -> dict[str, Any]:
        """``outputs.<task>`` as later expressions see it (ScriptOutput, through JSON)."""
        return round_trip({"vars": self.vars, "exitCode": self.exit_code if self.exit_code is not None else 0,
                           "outputFiles": self.output_files})


@dataclass
class ExecutionResult:
    flow_id: str
    namespace: str
    version: Version
    state: str
    inputs: dict[str, Any]
    task_runs: dict[str, TaskRun]
    outputs: dict[str, Any] | None  # the flow's typed outputs; None when they failed to render
    error: str | None = None  # inputs refused, or the flow outputs' rendering error
    labels: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        lines = [f"{self.namespace}.{self.flow_id} on Kestra {self.version}: {self.state}"
                 + (f" ({self.error})" if self.error else "")]
        for run in self.task_runs.values():
            lines.append(f"  {run.task_id}: {run.state} exit={run.exit_code} attempts={run.attempts}"
                         f" stderr_lines={run.stderr_lines}" + (f" error={run.error}" if run.error else ""))
            for earlier in run.earlier:
                lines.append(f"    attempt {earlier.attempts}: {earlier.state} exit={earlier.exit_code} error={earlier.error}")
                lines += ["      stderr: " + s for s in earlier.stderr.splitlines()[-15:]]
            if run.state != "SUCCESS":
                lines += ["    stderr: " + s for s in run.stderr.splitlines()[-15:]]
        return "\n".join(lines)


def _duration_seconds(text: str | None) -> float | None:
    if not text:
        return None
    d = _duration(str(text))
    return d.seconds + d.nanos / 1e9


class _Replay:
    def __init__(self, flow: Mapping[str, Any], project_root: Path, version: Version, work: Path, image: FakeImage,
                 execution_id: str, echo: bool):
        self.flow, self.project_root, self.version, self.work, self.image = flow, project_root, version, work, image
        self.execution_id, self.echo = execution_id, echo
        self.namespace, self.flow_id = flow["namespace"], flow["id"]
        self.storage = work / "storage"
        self.task_runs: dict[str, TaskRun] = {}
        self.parent_states: list[str] = []
        self._namespace_files: dict[str, dict[str, Path]] = {}
        self.inputs: dict[str, Any] = {}

    # -- context
    def base_variables(self) -> dict[str, Any]:
        return {"flow": {"id": self.flow_id, "namespace": self.namespace, "revision": 1},
                "execution": {"id": self.execution_id, "startDate": dt.datetime.now(dt.UTC).isoformat(),
                              "originalId": self.execution_id},
                "labels": dict(self.flow.get("labels") or {}) if isinstance(self.flow.get("labels"), Mapping) else {}}

    def variables(self, task: Mapping[str, Any], extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        variables = self.base_variables()
        variables["inputs"] = self.inputs
        variables["outputs"] = {tid: run.outputs() for tid, run in self.task_runs.items() if run.attempts}
        variables["task"] = {"id": task["id"], "type": task["type"]}
        variables["taskrun"] = {"id": f"{task['id']}-run", "attemptsCount": 0}
        variables.update(extra or {})
        return variables

    def files_of(self, namespace: str) -> dict[str, Path]:
        if namespace not in self._namespace_files:
            self._namespace_files[namespace] = namespace_files(self.project_root, namespace)
        return self._namespace_files[namespace]

    # -- storage (a local folder standing in for Kestra's internal storage)
    def store(self, task_id: str, path: Path, name: str) -> str:
        key = f"{self.namespace.replace('.', '/')}/{self.flow_id}/executions/{self.execution_id}/tasks/{task_id}/" \
              f"{uuid.uuid4().hex[:12]}-{Path(name).name}"
        target = self.storage / key
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        return "kestra:///" + key

    def fetch(self, uri: str) -> Path:
        if uri.startswith("kestra://"):
            local = self.storage / uri.removeprefix("kestra://").lstrip("/")
            if not local.is_file():
                raise FileNotFoundError(f"{uri} is not in internal storage")
            return local
        if uri.startswith("nsfile://"):
            rest = uri.removeprefix("nsfile://")
            namespace, _, path = rest.partition("/") if not rest.startswith("/") else (self.namespace, "", rest[1:])
            files = self.files_of(namespace or self.namespace)
            if "/" + path not in files:
                raise FileNotFoundError(f"{uri}: no such namespace file")
            return files["/" + path]
        raise NotEmulated(f"input file URI {uri}")

    # -- tasks
    def run_tasks(self, tasks: Sequence[Mapping[str, Any]]) -> str:
        for task in tasks:
            state = self.run_task(task)
            if state == "FAILED":
                return "FAILED"
        return "SUCCESS"

    def run_task(self, task: Mapping[str, Any]) -> str:
        kind = task.get("type")
        if task.get("disabled"):
            return "SUCCESS"
        if task.get("allowFailure") or task.get("allowWarning") or task.get("runIf"):
            raise NotEmulated(f"task {task['id']}: allowFailure/allowWarning/runIf")
        if kind in COMMANDS_TYPES:
            return self.run_commands(task)
        if kind in PARALLEL_TYPES | SEQUENTIAL_TYPES:
            children = task.get("tasks") or []
            states = []
            for child in children:  # a Parallel's children all start; here one after the other
                state = self.run_task(child)
                states.append(state)
                if state == "FAILED" and kind in SEQUENTIAL_TYPES:
                    break
            state = worst_state(states)
            self.parent_states.append(state)
            return state
        raise NotEmulated(f"task type {kind}")

    def run_commands(self, task: Mapping[str, Any]) -> str:
        unknown = set(task) - _COMMANDS_KEYS
        if self.version < Version(0, 23):
            unknown |= set(task) & _SINCE_0_23
        if unknown:
            raise NotEmulated(f"task {task['id']}: properties {sorted(unknown)}")
        runner = (task.get("taskRunner") or {}).get("type", "io.kestra.plugin.scripts.runner.docker.Docker")
        if set(task.get("taskRunner") or {}) - {"type"} or runner not in (
                "io.kestra.plugin.scripts.runner.docker.Docker", "io.kestra.plugin.core.runner.Process"):
            raise NotEmulated(f"task {task['id']}: taskRunner {task.get('taskRunner')}")
        retry = task.get("retry") or {}
        if set(retry) - {"type", "maxAttempt", "interval", "maxInterval", "minInterval", "delayFactor", "maxDuration",
                         "warningOnRetry", "behavior"} or retry.get("behavior", "RETRY_FAILED_TASK") != "RETRY_FAILED_TASK":
            raise NotEmulated(f"task {task['id']}: retry {retry}")
        max_attempts = int(retry.get("maxAttempt", 1)) if retry else 1
        runs: list[TaskRun] = []
        for attempt in range(1, max_attempts + 1):  # TaskRun.nextRetryDate: attempts < maxAttempt (no waiting here)
            runs.append(self.attempt(task, attempt))
            if runs[-1].state != "FAILED":
                break
        run = runs[-1]
        run.earlier = runs[:-1]
        if run.state == "SUCCESS" and run.attempts > 1 and retry.get("warningOnRetry"):
            run.state = "WARNING"
        self.task_runs[task["id"]] = run
        return run.state

    def attempt(self, task: Mapping[str, Any], attempt: int) -> TaskRun:
        task_id = task["id"]
        container = self.work / "containers" / f"{task_id}-{attempt}"
        workdir = self.work / "workers" / f"{task_id}-{attempt}"
        workdir.mkdir(parents=True)
        run = TaskRun(task_id, "RUNNING", attempts=attempt, workdir=workdir)
        extra = {"workingDir": str(workdir)}  # Docker/Process runnerAdditionalVars (Docker.java:581)
        try:
            self.load_namespace_files(task, workdir)
            self.write_input_files(task, workdir, extra)
            argv = self.script(task, extra, workdir)
        except (RenderError, FileNotFoundError, InputError) as exc:
            run.state, run.error = "FAILED", f"{type(exc).__name__}: {exc}"
            return run
        run.script = argv
        env = self.image.environment(container)
        env.update({k: render(str(v), self.variables(task)) for k, v in (task.get("env") or {}).items()})
        env.update({"PYTHONUNBUFFERED": "true", "PIP_ROOT_USER_ACTION": "ignore", "PIP_DISABLE_PIP_VERSION_CHECK": "1",
                    "WORKING_DIR": str(workdir)})
        for requirement in task.get("dependencies") or []:  # plugin-scripts ≥0.23 installs them with uv: checked
            checked = subprocess.run([str(self.image.python), "-m", "pip", "install", "-q", str(requirement)],
                                     env=env, cwd=workdir, capture_output=True, text=True, check=False)
            if checked.returncode:
                run.state, run.error, run.stderr = "FAILED", f"dependency {requirement}", checked.stderr
                return run
        timeout = _duration_seconds(task.get("timeout"))
        started = time.monotonic()
        process = subprocess.Popen(argv, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   start_new_session=True)
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the process group this replay started
            out, err = process.communicate()
            run.error = f"timeout after {task.get('timeout')} ({time.monotonic() - started:.0f} s)"
        run.stdout, run.stderr = out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
        if self.echo:
            sys.stderr.write(run.stdout + run.stderr)
        if NOT_EMULATED_MARK in run.stderr:
            raise NotEmulated(run.stderr.split(NOT_EMULATED_MARK, 1)[1].splitlines()[0].strip())
        run.exit_code = process.returncode if run.error is None else None
        outputs: dict[str, Any] = {}
        counts = {False: 0, True: 0}
        for is_err, stream in ((False, run.stdout), (True, run.stderr)):
            for line in log_lines(stream):  # DefaultLogConsumer: both streams are parsed and counted
                outputs.update(parse_output_line(line) or {})
                counts[is_err] += 1
        run.vars, run.stdout_lines, run.stderr_lines = outputs, counts[False], counts[True]
        run.output_files = self.collect_output_files(task, workdir, extra)
        if run.error is not None or run.exit_code != 0:
            run.state = "FAILED"
        elif self.version < STDERR_WARNING_UNTIL and task.get("warningOnStdErr", True) is not False \
                and run.stderr_lines > 0:
            run.state = "WARNING"  # ScriptOutput.finalState (0.21)
        else:
            run.state = "SUCCESS"
        return run

    def load_namespace_files(self, task: Mapping[str, Any], workdir: Path) -> None:
        spec = task.get("namespaceFiles")
        if spec is None:
            return
        extra_keys = set(spec) - {"enabled", "include", "exclude"}
        if extra_keys and (self.version < NAMESPACES_PROPERTY_SINCE
                           or extra_keys - {"namespaces", "folderPerNamespace", "ifExists"}):
            raise NotEmulated(f"namespaceFiles properties {sorted(extra_keys)}")
        if spec.get("enabled", True) is False:
            return
        if spec.get("ifExists", "OVERWRITE") != "OVERWRITE":
            raise NotEmulated(f"namespaceFiles.ifExists {spec['ifExists']}")
        variables = self.base_variables()
        include = [render(p, variables) for p in spec.get("include") or []]
        exclude = [render(p, variables) for p in spec.get("exclude") or []]
        for namespace in [render(n, variables) for n in spec.get("namespaces") or [self.namespace]]:
            files = self.files_of(namespace)
            for name in matching_namespace_files(files, include, exclude):
                target = workdir / (namespace if spec.get("folderPerNamespace") else "") / name.lstrip("/")
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(files[name], target)

    def write_input_files(self, task: Mapping[str, Any], workdir: Path, extra: Mapping[str, Any]) -> None:
        spec = task.get("inputFiles")
        if spec is None:
            return
        variables = self.variables(task, extra)
        if isinstance(spec, str):  # a JSON string (PluginUtilsService.java:108-114)
            try:
                rendered = jackson_loads(render(spec, variables))
            except ValueError as exc:
                raise RenderError(f"inputFiles is not a JSON map: {exc}") from None
            contents = {str(k): str(v) for k, v in rendered.items()}
        else:
            contents = {render(str(k), variables): render(str(v), variables) for k, v in spec.items() if v is not None}
        for name, content in contents.items():
            if name.startswith(("./", "..", "/")):
                raise RenderError(f"Invalid input file name {name!r}")
            target = workdir / render(name, variables)
            target.parent.mkdir(parents=True, exist_ok=True)
            fetchable = content.startswith("kestra://") or (
                self.version >= URI_FETCHER_SINCE and content.startswith(("nsfile://", "file://")))
            if fetchable:
                shutil.copyfile(self.fetch(content), target)
            else:
                target.write_bytes(content.encode("utf-8"))  # Files.write(input.getBytes()), UTF-8 JVM

    def script(self, task: Mapping[str, Any], extra: Mapping[str, Any], workdir: Path) -> list[str]:
        variables = self.variables(task, extra)

        def rendered(key: str, default: Sequence[str] = ()) -> list[str]:
            value = task.get(key, default)
            if isinstance(value, str):
                value = [value]
            return [self.replace_internal_storage(render(str(c), variables), workdir) for c in value or []]
        interpreter = rendered("interpreter", ("/bin/sh", "-c"))
        before = rendered("beforeCommands")
        commands = rendered("commands")
        if task.get("targetOS", "AUTO") not in ("AUTO", "LINUX"):
            raise NotEmulated(f"targetOS {task['targetOS']}")
        effective = (["set -e"] + before) if task.get("failFast", True) is not False else before
        if not before and not interpreter:
            return commands
        return [*interpreter, "\n".join([*effective, *commands])]  # ScriptService.scriptCommands

    def replace_internal_storage(self, command: str, workdir: Path) -> str:
        """``ScriptService.replaceInternalStorage``: each ``kestra://`` URI in a command becomes a local copy."""
        def local(match: re.Match[str]) -> str:
            copy = workdir / f"kestra-{uuid.uuid4().hex[:8]}"
            shutil.copyfile(self.fetch(match.group(1)), copy)
            return str(copy)
        return re.sub(r"(kestra:\/\/[-a-zA-Z0-9%._+~#=/]*)", local, command)

    def collect_output_files(self, task: Mapping[str, Any], workdir: Path, extra: Mapping[str, Any]) -> dict[str, str]:
        patterns = [render(str(p), self.variables(task, extra)) for p in task.get("outputFiles") or []]
        if not patterns:
            return {}
        for pattern in patterns:  # PluginUtilsService.validFilename
            if pattern.startswith(("./", "..", "/")):
                raise NotEmulated(f"invalid outputFile {pattern!r}")
        matches = path_matcher(patterns, base=str(workdir))
        found = {}
        for path in sorted(workdir.rglob("*")):
            if path.is_file() and not path.is_symlink() and matches(str(path)):
                name = path.relative_to(workdir).as_posix()
                found[name] = self.store(task["id"], path, name)
        return found

    # -- the flow's outputs
    def flow_outputs(self) -> tuple[dict[str, Any] | None, str | None]:
        declared = self.flow.get("outputs")
        if declared is None:
            return {}, None
        variables = self.base_variables()
        variables["inputs"] = self.inputs
        variables["outputs"] = {tid: run.outputs() for tid, run in self.task_runs.items() if run.attempts}
        typed: dict[str, Any] = {}
        try:
            for output in declared:
                text = render(str(output["value"]), variables)
                kind = output.get("type")
                typed[output["id"]] = text if kind is None else _parse_type(str(kind), text, self.version)
        except (RenderError, InputError) as exc:
            return None, f"Failed to render output values: {exc}"
        return round_trip(typed), None


def replay(flow: Mapping[str, Any] | Path, *, project_root: Path, version: Version | str, work: Path,
           inputs: Mapping[str, Any] | None = None, image: FakeImage | None = None, echo: bool = False) -> ExecutionResult:
    """Run ``flow`` as Kestra ``version`` would, with namespace files from ``project_root``'s notebooks.

    ``inputs`` are the execution's inputs as given to Kestra (text as from the API, or typed values as a
    trigger passes them); missing ones take their defaults. A folder of ``work`` holds the working
    directories and the stand-in for internal storage."""
    flow = load_flow(flow) if isinstance(flow, Path) else dict(flow)
    version = Version.of(version)
    unknown = set(flow) - {"id", "namespace", "description", "labels", "inputs", "tasks", "triggers", "outputs",
                           "disabled", "concurrency", "revision"}
    if unknown:
        raise NotEmulated(f"flow properties {sorted(unknown)}")
    execution_id = uuid.uuid4().hex[:22]
    state = _Replay(flow, project_root, version, work / f"{flow['id']}-{execution_id[:8]}", image or default_image(),
                    execution_id, echo)
    labels = {str(k): str(v) for k, v in (flow.get("labels") or {}).items()} if isinstance(flow.get("labels"), Mapping) else {}
    try:
        state.inputs = resolve_inputs(flow, inputs, version, state.base_variables())
    except (InputError, RenderError) as exc:
        return ExecutionResult(flow["id"], flow["namespace"], version, "FAILED", {}, {}, None, str(exc), labels)
    state.run_tasks(flow.get("tasks") or [])
    final = worst_state([run.state for run in state.task_runs.values()] + state.parent_states)
    outputs, error = state.flow_outputs()
    if error is not None:
        final = "FAILED"  # ExecutorService.onEnd (K@58c1ca2d ExecutorService.java:377-396)
    return ExecutionResult(flow["id"], flow["namespace"], version, final, state.inputs, state.task_runs, outputs,
                           error, labels)


# ---------------------------------------------------------------------------------------------- the Flow trigger

def flow_trigger_fires(flow: Mapping[str, Any], upstream: ExecutionResult | Sequence[ExecutionResult]) -> list[str]:
    """The ids of ``flow``'s Flow triggers that fire once ``upstream`` (the executions of the
    precondition's time window, here: those given) have ended: the trigger's ``states`` hold the last
    execution's state, and every ``preconditions.flows[]`` entry is met by one of them
    (K@58c1ca2d core/.../plugin/core/trigger/Flow.java:221-222,380-406)."""
    executions = [upstream] if isinstance(upstream, ExecutionResult) else list(upstream)
    current = executions[-1]
    fired = []
    for trigger in flow.get("triggers") or []:
        if trigger.get("type") not in FLOW_TRIGGER_TYPES or trigger.get("disabled"):
            continue
        if trigger.get("conditions") or set(trigger) - {"id", "type", "states", "preconditions", "inputs", "description"}:
            raise NotEmulated(f"Flow trigger {trigger.get('id')}: {sorted(set(trigger))}")
        if current.state not in trigger.get("states", TERMINAL_STATES):
            continue
        preconditions = trigger.get("preconditions") or {}
        if preconditions.get("where"):
            raise NotEmulated("preconditions.where")

        def met(condition: Mapping[str, Any], execution: ExecutionResult) -> bool:
            if condition.get("namespace") is not None and execution.namespace != condition["namespace"]:
                return False
            if condition.get("flowId") is not None and execution.flow_id != condition["flowId"]:
                return False
            if condition.get("states") is not None and execution.state not in condition["states"]:
                return False
            labels = condition.get("labels") or {}
            return all(execution.labels.get(str(k)) == str(v) for k, v in labels.items())
        conditions = preconditions.get("flows") or []
        if all(any(met(c, e) for e in executions) for c in conditions) and any(met(c, current) for c in conditions) \
                or not conditions:
            fired.append(trigger["id"])
    return fired
