"""Reading a large notebook in bounded memory: its JSON is scanned in 1 MiB chunks, one cell at a time.

Why: a notebook's outputs (images, tables, logs) can weigh tens of megabytes while what nbops needs
to export, check or commit it (the header, the parameters cell, the sources, the metadata) weighs a
few kilobytes. ``json.loads`` of the whole file holds the text and every object of it at once;
here each cell's bytes are cut out of the stream and parsed alone, and its ``outputs`` are either
skipped unread (only ``[]`` is kept) or parsed with that one cell. Memory is bounded by one chunk
plus the largest cell kept, whatever the file's size; time is one pass of C-speed regular
expressions over the bytes (a Python step per JSON string or bracket, none per character).

Only the structure is followed here (strings, brackets, commas, colons); every part that is kept
is validated by ``json.loads``. Skipped outputs are not validated: they are not read.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ..errors import NotebookError, Problem

CHUNK = 1 << 20
MAX_KEY = 1 << 20  # an object key longer than this is not a notebook's
_WS = re.compile(rb"[ \t\r\n]*")
_STRING_BODY = re.compile(rb"[^\"\\]*+(?:\\.[^\"\\]*+)*+", re.DOTALL)  # stops at the closing quote or the data's end
_NEXT = re.compile(rb"[\"{}\[\],:]")
_SCALAR = re.compile(rb"[^,}\]\s]*")


class _Malformed(Exception):
    pass


def _end(pattern: re.Pattern[bytes], data: bytes, pos: int) -> int:
    """Where ``pattern`` (which matches the empty string too) stops matching from ``pos``."""
    match = pattern.match(data, pos)
    assert match is not None
    return match.end()


class _Scanner:
    """A cursor over a byte stream; what lies between ``start`` and ``pos`` is kept in ``out`` (when
    ``out`` is not None) before the buffer drops it."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle, self.data, self.pos, self.start, self.eof = handle, b"", 0, 0, False
        self.out: list[bytes] | None = None

    def fill(self) -> None:
        """Read the next chunk, dropping (after keeping, if keeping) what lies before ``pos``."""
        if self.eof:
            raise _Malformed("the file ends in the middle of the JSON")
        if self.out is not None:
            self.out.append(self.data[self.start:self.pos])
        chunk = self.handle.read(CHUNK)
        self.eof = not chunk
        self.data, self.pos, self.start = self.data[self.pos:] + chunk, 0, 0

    def peek(self) -> int:
        """The next byte that is not white space (``pos`` moves to it)."""
        while True:
            self.pos = _end(_WS, self.data, self.pos)
            if self.pos < len(self.data):
                return self.data[self.pos]
            self.fill()

    def expect(self, char: bytes) -> None:
        if self.peek() != char[0]:
            raise _Malformed(f"expected {char.decode()!r} at byte {self.offset()}")
        self.pos += 1

    def offset(self) -> int:
        return self.handle.tell() - len(self.data) + self.pos

    def keep(self) -> None:
        self.out, self.start = [], self.pos

    def kept(self) -> bytes:
        assert self.out is not None
        data = b"".join(self.out) + self.data[self.start:self.pos]
        self.out = None
        return data

    def skip_string(self) -> None:
        """From an opening quote to just after its closing quote."""
        self.pos += 1
        while True:
            self.pos = _end(_STRING_BODY, self.data, self.pos)
            if self.pos < len(self.data) and self.data[self.pos] == 0x22:
                self.pos += 1
                return
            self.fill()  # the string goes on (or a backslash ends the data): read on

    def key(self) -> str:
        """An object key, parsed."""
        if self.peek() != 0x22:
            raise _Malformed(f"expected a key at byte {self.offset()}")
        while True:
            end = _end(_STRING_BODY, self.data, self.pos + 1)
            if end < len(self.data) and self.data[end] == 0x22:
                raw, self.pos = self.data[self.pos:end + 1], end + 1
                return str(json.loads(raw))
            if len(self.data) - self.pos > MAX_KEY:
                raise _Malformed(f"a key longer than {MAX_KEY:,} bytes at byte {self.offset()}")
            self.fill()

    def skip_value(self, *, skip_key: str | None = None) -> None:
        """Past one JSON value. With ``skip_key``, the value of that key in this object (if the value
        is an object) is skipped while the rest is kept, and ``[]`` kept in its place."""
        first = self.peek()
        if first == 0x22:
            self.skip_string()
            return
        if first not in (0x7B, 0x5B):  # a number, true, false or null
            while True:
                self.pos = _end(_SCALAR, self.data, self.pos)
                if self.pos < len(self.data) or self.eof:
                    return
                self.fill()
        depth, key_next = 0, False
        while True:
            match = _NEXT.search(self.data, self.pos)
            if match is None:
                self.pos = len(self.data)
                self.fill()
                continue
            char, self.pos = self.data[match.start()], match.start()
            if char == 0x22:
                if skip_key is not None and key_next and depth == 1 and first == 0x7B:
                    if self.key() == skip_key:
                        self.expect(b":")
                        self._replace_value()
                    key_next = False
                else:
                    self.skip_string()
                continue
            self.pos += 1
            if char in (0x7B, 0x5B):
                depth += 1
                key_next = depth == 1 and char == 0x7B
            elif char in (0x7D, 0x5D):
                depth -= 1
                if depth == 0:
                    return
            elif char == 0x2C:
                key_next = depth == 1 and first == 0x7B

    def _replace_value(self) -> None:
        """Skip the value at ``pos`` without keeping it; ``[]`` is kept instead."""
        self.peek()
        out = self.out
        if out is not None:
            out.append(self.data[self.start:self.pos] + b"[]")
        self.out = None
        self.skip_value()
        self.out, self.start = out, self.pos


def iter_notebook(handle: IO[bytes], *, outputs: bool) -> Iterator[tuple[str, Any]]:
    """The notebook's top-level members as (key, value), except a ``cells`` list: ("cells", []) comes
    first, then each of its cells as ("cell", value), in order. Without ``outputs``, a cell's ``outputs`` are skipped unread (``[]``)."""
    scan = _Scanner(handle)
    if scan.peek() != 0x7B:
        raise _Malformed("the JSON is not an object")
    scan.pos += 1
    if scan.peek() == 0x7D:
        return
    while True:
        name = scan.key()
        scan.expect(b":")
        if name == "cells" and scan.peek() == 0x5B:
            yield "cells", []  # then each cell
            yield from _cells(scan, outputs)
        else:
            scan.peek()
            scan.keep()
            scan.skip_value()
            yield name, json.loads(scan.kept())
        if scan.peek() == 0x7D:
            return
        scan.expect(b",")


def _cells(scan: _Scanner, outputs: bool) -> Iterator[tuple[str, Any]]:
    scan.pos += 1
    if scan.peek() == 0x5D:
        scan.pos += 1
        return
    while True:
        scan.peek()
        scan.keep()
        scan.skip_value(skip_key=None if outputs else "outputs")
        yield "cell", json.loads(scan.kept())
        if scan.peek() == 0x5D:
            scan.pos += 1
            return
        scan.expect(b",")


def parts(path: Path, display: str, *, outputs: bool) -> Iterator[tuple[str, Any]]:
    """:func:`iter_notebook` of a file, a clear error naming the file (and cell) when its JSON is broken."""
    cell = 0
    try:
        with path.open("rb") as handle:
            for key, value in iter_notebook(handle, outputs=outputs):
                yield key, value
                cell += key == "cell"
    except _Malformed as exc:
        raise NotebookError(display, [Problem(f"not valid notebook JSON: {exc}",
                                              hint="was the file cut short or edited by hand?")]) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        message = exc.msg if isinstance(exc, json.JSONDecodeError) else "not UTF-8 text"
        raise NotebookError(display, [Problem(f"not valid notebook JSON: {message} (in cell {cell} or after it)",
                                              hint="was the file cut short or edited by hand?")]) from None


def skeleton(path: Path, display: str, limit: int) -> dict[str, Any]:
    """The notebook with every cell's outputs left out (``[]``), read in bounded memory; an error
    when what is kept (sources, metadata, attachments) is larger than ``limit`` bytes."""
    data: dict[str, Any] = {}
    cells: list[Any] = []
    size = 0
    for key, value in parts(path, display, outputs=False):
        size += len(json.dumps(value, ensure_ascii=False)) if isinstance(value, dict | list | str) else 8
        if size > limit:
            raise NotebookError(display, [Problem(
                f"its sources and metadata, outputs left out, are more than the {limit:,} bytes nbops reads",
                hint="is this really a notebook?")])
        if key == "cell":
            cells.append(value)
        else:
            data[key] = cells if key == "cells" and value == [] else value
    return data
