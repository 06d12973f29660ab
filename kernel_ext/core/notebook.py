"""A notebook as the core sees it: plain cells, no nbformat objects."""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

SKIP_TAG = "skip-execution"  # nbclient's skip_cells_with_tag default: papermill skips such cells
PARAMETERS_TAG = "parameters"
HEADER_MAGIC = "%%flow"
LOAD_EXT_LINE = "%load_ext kernel_ext"
_IMPORTS_KERNEL_EXT = re.compile(r"^\s*(import\s+([\w.]+(\s+as\s+\w+)?\s*,\s*)*kernel_ext\b|from\s+kernel_ext\b)", re.M)


class CellKind(StrEnum):
    CODE = "code"
    MARKDOWN = "markdown"
    RAW = "raw"


@dataclass(frozen=True)
class Cell:
    index: int
    kind: CellKind
    source: str
    tags: tuple[str, ...] = ()

    @property
    def is_header(self) -> bool:
        return self.kind is CellKind.CODE and self.source.lstrip().startswith(HEADER_MAGIC)

    @property
    def loads_extension(self) -> bool:
        """A cell that only loads nbops' kernel extension (and so must not run without nbops)."""
        lines = [line.strip() for line in self.source.splitlines() if line.strip() and not line.strip().startswith("#")]
        return self.kind is CellKind.CODE and bool(lines) and all(line == LOAD_EXT_LINE for line in lines)


@dataclass(frozen=True)
class NotebookSource:
    """``path`` is relative to the repository root, with forward slashes."""

    path: str
    cells: tuple[Cell, ...]
    kernel: str | None = None  # metadata.kernelspec.name: the kernel it was written for
    language: str | None = None  # metadata.kernelspec.language, else metadata.language_info.name

    @property
    def stem(self) -> str:
        return self.path.rsplit("/", 1)[-1].removesuffix(".ipynb")

    def cells_needing_skip_tag(self) -> tuple[int, ...]:
        """Header and ``%load_ext kernel_ext`` cells that papermill would run: they lack the skip tag."""
        return tuple(c.index for c in self.cells
                     if (c.is_header or c.loads_extension) and SKIP_TAG not in c.tags)

    def imports_kernel_ext(self) -> bool:
        return any(c.kind is CellKind.CODE and not c.is_header and _IMPORTS_KERNEL_EXT.search(c.source)
                   for c in self.cells)
