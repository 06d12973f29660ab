"""Secret detection in notebooks and texts: detect-secrets' detectors plus notebook rules.

Why it is built this way:
- detect-secrets (maintained, offline) supplies the token detectors and its false-positive heuristics.
  Each plugin's ``analyze_string`` is called directly, not ``scan_line``/``analyze_line``:
  ``analyze_line`` reads detect-secrets' process-wide settings and calls ``verify()`` (a network request)
  whenever the verification filter is switched on anywhere in the process, and ``scan_line`` runs the
  eager, unquoted entropy search that flags every long word. Direct calls are offline by construction,
  share no global state (safe in threads), and let nbops choose the filters.
- Notebooks hide secrets where a plain file scanner does not look: outputs, tracebacks, Markdown and
  the parameters papermill injects. Each part is scanned as its own text, so lines count within a cell.
  Every other string of the notebook's JSON (metadata, attachments, output metadata, key names) is
  walked by ``secret_walk`` and located by its JSON path.
- A finding never holds the secret: only its sha256 and an excerpt with the secret masked.
- A scanner that cannot be told "this one is fine" gets switched off: accepted findings live in
  ``.nbops-secrets.json`` at the repository root, by file (or ``*``) and hash, reviewed in Git.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..errors import NotebookError, Problem

log = logging.getLogger(__name__)

# detect-secrets plugins left out, and why:
#   HexHighEntropyString: Git SHAs, checksums and content hashes fill notebook sources and outputs.
#   IPPublicDetector: an IP address is not a credential, and data notebooks print many.
EXCLUDED_PLUGINS = frozenset({"HexHighEntropyString", "IPPublicDetector"})
PRIVATE_KEY = "Private Key"
_NO_PREFIX = frozenset({PRIVATE_KEY, "Basic Auth Credentials"})  # kinds whose start is secret, not a vendor prefix
# The broad detectors rank after the specific ones: one finding per secret, named most precisely.
_BROAD_RANK = {"Secret Keyword": 1, "Bearer Token": 1, "Secret Assignment": 2, "Base64 High Entropy String": 3}
_SEGMENT = 10_000  # very long lines (minified JSON outputs) are scanned in overlapping pieces
_PLACEHOLDERS = frozenset({"none", "null", "nil", "true", "false", "undefined", "pass", "changeme"})
_PLACEHOLDER_WORDS = re.compile(  # "SECRET", "Private Key", "ghp_token", "your-api-key": words, not a secret
    r"(?i)[a-z_\-. ]*(token|secret|passw|pwd|api.?key|private.?key|access.?key|credential|example|placeholder|"
    r"dummy|redacted|your)[a-z_\-. ]*")
_TEMPLATE = re.compile(r"\{\{.{0,300}?\}\}|\{%.{0,300}?%\}|\$\{[^}]{0,300}\}")  # Kestra/Jinja/shell: {{ secret('X') }}
_TOKEN_CHARS = r"[A-Za-z0-9+/=_\-.~]"
_SECRET_WORDS = r"token|secret|passw(?:or)?d|pwd|api_?key|access_?key|private_?key|client_?key|credential"
_SECRET_NAME = rf"(?=[\w.-]*?(?:{_SECRET_WORDS}))[\w.-]++"  # possessive: no backtracking in long words
_ASSIGNMENT = re.compile(  # name = "value", name: str = "value", "name": "value", name: value (YAML)
    rf"""(?i)(?<![\w.-])["']?({_SECRET_NAME})["']?(?:\s*:\s*[A-Za-z_][\w\[\]., |]*?)?\s*"""
    rf"""(?:(?:=>|=)\s*(["'])|:\s*(["']?))({_TOKEN_CHARS}{{16,}})(?(2)\2|\3)(?!{_TOKEN_CHARS})""")  # unquoted: YAML
_NOT_A_SECRET_NAME = re.compile(r"(?i)(name|id|url|uri|path|file|env|var|type|endpoint|header|field|ttl|len|length"
                                r"|count|expires?|expiry|_at|tags?)$")
_NAME_BEFORE = re.compile(r"""([\w.-]+)["'\]]*\s*(?::\s*[A-Za-z_][\w\[\]., |]*?)?\s*(?:=>|==?|:)\s*["'`]?$""")
_BEARER = re.compile(rf"(?i)\bbearer\s+({_TOKEN_CHARS}{{16,}})")
_ONE_TOKEN = re.compile(r"[\w\-.]+")
_PEM_HEADERS = re.compile(r"^[ \t]*(?:[\w-]+)?:.*$", re.MULTILINE)
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/=]*")
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07")
DATA_URI = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=]+")
TEXT_MIME = re.compile(r"text/.+|application/(json|javascript)")  # read as output text; the rest: secret_walk


@dataclass(frozen=True)
class Finding:
    """One secret, located; ``secret_hash`` identifies it for the allow-list without revealing it."""

    file: str
    cell: int | None  # 0-based cell index; None for a text file or notebook metadata
    where: str  # "source" | "output" | "traceback" | "markdown" | "parameters" | "text", or a JSON path
    #              such as "cells[3].metadata.custom.token" for any other string of a notebook (secret_walk)
    line: int  # 1-based, within the cell part's text (or the file, or the string); 0: a one-line JSON string
    kind: str  # detector name, e.g. "AWS Access Key"
    secret_hash: str  # sha256 hex of the secret value
    excerpt: str  # the line with every secret on it masked

    @property
    def location(self) -> str:
        """``source, line 2``, ``cells[3].metadata.token``: where in the cell (or notebook) to look."""
        return f"{self.where}, line {self.line}" if self.line else self.where


@dataclass(frozen=True)
class _Hit:
    kind: str
    material: str  # what is hashed
    shown: str  # the text on the line to mask
    broad: bool  # keyword/entropy based: line-shape heuristics apply


def _entropy(value: str) -> float:
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def _token_like(value: str) -> bool:
    """Long, mixed letters and digits, not repetitive: a token rather than a word or a placeholder."""
    return (len(value) >= 16 and any(c.isdigit() for c in value) and any(c.isalpha() for c in value)
            and _entropy(value) >= 3.0)


@dataclass(frozen=True)
class _Detector:
    kind: str
    broad: bool  # keyword/entropy based: line-shape heuristics apply
    probes: tuple[re.Pattern[str], ...]  # a line can match only if one of these matches the whole text
    find: Callable[[str, Any], Iterable[str]]  # (segment of a line, keyword patterns of the file type) → secrets


def _probe(pattern: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(pattern, flags | re.MULTILINE)  # ^ and $ at every line, as in a line-by-line scan


@lru_cache(maxsize=1)
def _detectors() -> tuple[_Detector, ...]:
    """Every enabled detector with a cheap whole-text probe, so a cell's lines are only run through the
    detectors that can match there (most cells: none). Built once; detect-secrets is imported lazily:
    it pulls in requests, which must not slow ``import kernel_ext``."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.plugins.base import RegexBasedDetector
    from detect_secrets.plugins.high_entropy_strings import HighEntropyStringsPlugin
    from detect_secrets.plugins.keyword import DENYLIST, KeywordDetector

    def detector(plugin: Any) -> _Detector:
        kind = plugin.secret_type
        if isinstance(plugin, KeywordDetector):  # its assignment shapes depend on the file type
            return _Detector(kind, True, (_probe("|".join(DENYLIST), re.IGNORECASE),),
                             lambda text, style: plugin.analyze_string(text, denylist_regex_to_group=style))
        if isinstance(plugin, HighEntropyStringsPlugin):  # analyze_line applies the limit; we bypass analyze_line
            shortest = math.ceil(2 ** plugin.entropy_limit)  # n characters carry at most log2(n) bits each
            return _Detector(kind, True, (_probe(rf"""(['"])[{re.escape(plugin.charset)}]{{{shortest},}}\1"""),),
                             lambda text, _: [v for v in plugin.analyze_string(text)
                                              if plugin.calculate_shannon_entropy(v) > plugin.entropy_limit])
        if isinstance(plugin, RegexBasedDetector):
            probes = tuple(_probe(r.pattern, r.flags) for r in plugin.denylist)
            validates = type(plugin).analyze_string is not RegexBasedDetector.analyze_string  # e.g. JWT
            return _Detector(kind, False, probes, lambda text, _: _regex_values(plugin, text, validates))
        return _Detector(kind, True, (), lambda text, _: plugin.analyze_string(text))  # unknown shape: every line

    known: dict[str, Any] = get_mapping_from_secret_type_to_class()
    classes: list[Any] = [c for c in known.values()  # built-in ones only
                          if c.__module__.startswith("detect_secrets.plugins.") and c.__name__ not in EXCLUDED_PLUGINS]
    rules = (_Detector("Secret Assignment", True, (_probe(_SECRET_WORDS, re.IGNORECASE),), _assigned),
             _Detector("Bearer Token", True, (_BEARER,), _bearer))
    return tuple(detector(c()) for c in sorted(classes, key=lambda c: c.__name__)) + rules


def _regex_values(plugin: Any, text: str, validates: bool) -> list[str]:
    """A regex detector's secrets. detect-secrets reports capture groups, and some groups only capture a
    prefix (GitHub's ``(ghp|gho|...)_...`` yields "ghp"): that would hash every GitHub token alike and
    leave the token unmasked. So short groups inside a match that is one token give way to the whole
    match; in a match with syntax around the secret (``://user:pw@``) the group is the secret."""
    values = []
    for regex in plugin.denylist:
        for match in regex.finditer(text):
            groups = [g for g in match.groups() if g]
            whole = not groups or (max(map(len, groups)) < 8 and _ONE_TOKEN.fullmatch(match.group(0)))
            values += [match.group(0)] if whole else groups
    if validates and values:
        own = set(plugin.analyze_string(text))
        values = [v for v in values if v in own]
    return values


def _assigned(segment: str, _: Any) -> list[str]:
    """nbops' rule for what detect-secrets' keyword list misses (``token``, ``credential``): a secret-sounding
    name assigned a token-like literal, in Python, JSON or YAML shape."""
    return [m.group(4) for m in _ASSIGNMENT.finditer(segment)
            if not _NOT_A_SECRET_NAME.search(m.group(1)) and _token_like(m.group(4))]


def _bearer(segment: str, _: Any) -> list[str]:
    """``Authorization: Bearer <token>`` in code, curl lines and logged request headers."""
    return [m.group(1) for m in _BEARER.finditer(segment) if _token_like(m.group(1))]


def _rejected(value: str, line: str, broad: bool) -> bool:
    """detect-secrets' default heuristic filters, plus templates and placeholders. Line-shape filters
    apply to broad detectors only: an AKIA key in ``boto3.client(...)`` is still a key."""
    from detect_secrets.filters import heuristic as h

    if (h.is_templated_secret(value) or h.is_prefixed_with_dollar_sign(value) or h.is_not_alphanumeric_string(value)
            or h.is_sequential_string(value) or h.is_potential_uuid(value) or value.lower() in _PLACEHOLDERS
            or len(set(value.lower())) <= 2 or _PLACEHOLDER_WORDS.fullmatch(value)
            or any(value in m.group() for m in _TEMPLATE.finditer(line))):
        return True
    return broad and (h.is_likely_id_string(value, line) or h.is_indirect_reference(line)
                      or _named_harmless(value, line))


def _named_harmless(value: str, line: str) -> bool:
    """``secret_name = "..."``, ``token_url: ...``, ``password_file = ...``: the name says it is not the secret."""
    start = max(line.find(value), 0)
    match = _NAME_BEFORE.search(line[max(start - 200, 0):start])  # bounded: no quadratic search in long lines
    return bool(match and _NOT_A_SECRET_NAME.search(match.group(1)))


def _private_key(lines: list[str], index: int, header: str) -> _Hit | None:
    """A key block hashed by its body (PEM or JSON-escaped alike), so accepting one key accepts only it.
    Only base64 key material counts: a mention of the header followed by code or prose is no finding."""
    line = lines[index]
    start = line.find(header) + len(header)
    start += len(line[start:]) - len(line[start:].lstrip("-"))
    rest = "\n".join([line[start:], *lines[index + 1:index + 200]])
    end = rest.find("-----END")
    body = _PEM_HEADERS.sub("", rest[:end] if end >= 0 else rest[:4096])  # Proc-Type:, PuTTY's Comment: ...
    normalized = re.sub(r"\\[nr]|\s", "", body)
    material = _BASE64_RUN.match(normalized).group()  # type: ignore[union-attr]  # matches the empty string
    is_key = len(material) >= 64 and (end < 0 or material == normalized)
    return _Hit(PRIVATE_KEY, material, line[start:].strip(), False) if is_key else None


def _line_hits(lines: list[str], index: int, active: list[_Detector], style: Any) -> list[_Hit]:
    """The secrets on one line, filtered, one per secret value (the most specific detector names it)."""
    line = lines[index]
    hits: list[_Hit] = []
    for offset in range(0, max(len(line) - 500, 1), _SEGMENT - 500):
        segment = line[offset:offset + _SEGMENT]
        hits += [_Hit(d.kind, v, v, d.broad) for d in active for v in d.find(segment, style)]
    kept: list[_Hit] = []
    for hit in sorted(hits, key=lambda h: _BROAD_RANK.get(h.kind, 0)):
        if hit.kind == PRIVATE_KEY:
            key = _private_key(lines, index, hit.material)
            if key is None:
                continue
            hit = key
        elif _rejected(hit.material, line, hit.broad):
            continue
        overlaps = (k.material == hit.material
                    or (k.shown and hit.shown and (hit.shown in k.shown or k.shown in hit.shown)) for k in kept)
        if not any(overlaps):
            kept.append(hit)
    return kept


def _excerpt(line: str, hits: list[_Hit]) -> str:
    """The line with every secret on it masked, cut to ~160 characters. Long tokens of a known kind keep
    4 characters (``ghp_****``, ``AKIA****``) to tell them apart; passwords, keys and generic strings none."""
    for hit in sorted(hits, key=lambda h: -len(h.shown)):
        if hit.shown:
            reveal = 4 if len(hit.shown) >= 16 and not hit.broad and hit.kind not in _NO_PREFIX else 0
            line = line.replace(hit.shown, hit.shown[:reveal] + "****")
    line = line.strip()
    if len(line) <= 160:
        return line
    start = max(0, line.find("****") - 70)
    return ("…" if start else "") + line[start:start + 160] + ("…" if start + 160 < len(line) else "")


def scan_text(text: str, file: str, *, cell: int | None = None, where: str = "text") -> list[Finding]:
    """Every secret in ``text``; ``file`` names it in findings and picks detect-secrets' keyword
    patterns by extension (``password: x`` counts in YAML, only quoted values elsewhere)."""
    from detect_secrets.plugins.keyword import QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP, REGEX_BY_FILETYPE
    from detect_secrets.util.filetype import determine_file_type

    active = [d for d in _detectors() if not d.probes or any(p.search(text) for p in d.probes)]
    if not active:
        return []
    style = REGEX_BY_FILETYPE.get(determine_file_type(file), QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP)
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    findings: list[Finding] = []
    for index, line in enumerate(lines):
        if len(line.strip()) < 8:  # no secret is shorter than its name and a value
            continue
        hits = _line_hits(lines, index, active, style)
        excerpt = _excerpt(line, hits) if hits else ""
        findings += [Finding(file, cell, where, index + 1, hit.kind,
                             hashlib.sha256(hit.material.encode("utf-8")).hexdigest(), excerpt) for hit in hits]
    return findings


def mapping(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else empty: notebooks edited by hand may hold anything."""
    return value if isinstance(value, dict) else {}


def joined(value: Any) -> str:
    """nbformat multiline strings are a string or a list of strings."""
    return "".join(str(v) for v in value) if isinstance(value, list) else value if isinstance(value, str) else ""


def _outputs_text(outputs: list[Any]) -> tuple[str, str]:
    """(what the outputs show, the error tracebacks), ANSI colours stripped, inline images dropped."""
    shown, errors = "", ""
    for out in (o for o in outputs if isinstance(o, dict)):
        kind = out.get("output_type")
        if kind == "stream":
            shown += joined(out.get("text"))
        elif kind in ("execute_result", "display_data") and isinstance(out.get("data"), dict):
            for mime, value in out["data"].items():
                if TEXT_MIME.fullmatch(mime):
                    text = joined(value) if isinstance(value, str | list) else json.dumps(value, indent=1)
                    shown += ("" if not shown or shown.endswith("\n") else "\n") + text.rstrip("\n") + "\n"
        elif kind == "error":
            lines = [f"{out.get('ename', '')}: {out.get('evalue', '')}", *map(str, out.get("traceback") or [])]
            errors += "\n".join(lines) + "\n"
    return DATA_URI.sub("data:…", ANSI.sub("", shown)), ANSI.sub("", errors)


def _cell_parts(index: int, cell: dict[str, Any]) -> Iterator[tuple[int | None, str, str]]:
    tags = mapping(cell.get("metadata")).get("tags")
    is_parameters = isinstance(tags, list) and ("parameters" in tags or "injected-parameters" in tags)
    where = "parameters" if is_parameters else "markdown" if cell.get("cell_type") == "markdown" else "source"
    yield index, where, joined(cell.get("source"))
    outputs = cell.get("outputs")
    if isinstance(outputs, list) and outputs:
        shown, errors = _outputs_text(outputs)
        yield index, "output", shown
        yield index, "traceback", errors


def notebook_parts(data: dict[str, Any]) -> Iterator[tuple[int | None, str, str]]:
    """(cell, where, text) for every part of a notebook a secret can hide in. The parameters papermill
    recorded in ``metadata.papermill.parameters`` come last, as ``name = <JSON value>`` lines, cell None."""
    for index, cell in enumerate(data.get("cells") or []):
        if isinstance(cell, dict):
            yield from _cell_parts(index, cell)
    params = mapping(mapping(data.get("metadata")).get("papermill")).get("parameters")
    if isinstance(params, dict):
        yield None, "parameters", "\n".join(f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in params.items())


def _keep_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose repeated keys are all kept (``key``, ``key (repeated 2)``...): Git commits
    every one of them, so the scan must read every one, not only the last as ``json.loads`` does."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        name, count = key, 1
        while name in result:
            count += 1
            name = f"{key} (repeated {count})"
        result[name] = value
    return result


def notebook_json(text: str, display: str) -> dict[str, Any]:
    """The notebook a JSON text holds; an error when it holds none (a scan must read every cell)."""
    try:
        data = json.loads(text, object_pairs_hook=_keep_duplicates)
    except json.JSONDecodeError as exc:
        raise NotebookError(display, [Problem(f"not valid notebook JSON: {exc.msg}", line=exc.lineno,
                                              hint="the secret scan needs to read every cell")]) from None
    except ValueError as exc:  # e.g. a number of more than 4,300 digits
        raise NotebookError(display, [Problem(f"not valid notebook JSON: {exc}",
                                              hint="the secret scan needs to read every cell")]) from None
    if not isinstance(data, dict):
        raise NotebookError(display, [Problem("not a notebook: the JSON is not an object")])
    return data


def scan_notebook(notebook: dict[str, Any], display: str) -> list[Finding]:
    """Every secret in a notebook: its sources, text outputs, tracebacks and papermill parameters read
    as texts, then every other string of its JSON (metadata, attachments, output data and metadata,
    key names), located by JSON path; binary image data left out (see secret_walk)."""
    from .secret_walk import scan_json  # it builds on this module

    findings: list[Finding] = []
    for cell, where, text in notebook_parts(notebook):
        if text:
            findings += scan_text(text, display, cell=cell, where=where)
    findings += scan_json(notebook, display)
    log.debug("%s: %d secret finding(s)", display, len(findings))
    return findings
