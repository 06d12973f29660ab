"""``nbops lab-setup``: load ``kernel_ext`` in every IPython kernel of the user, through the IPython
profile's kernel config. nbops owns one marked block of that file and nothing else in it."""
from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

BEGIN = "# >>> nbops lab-setup >>>"
END = "# <<< nbops lab-setup <<<"
BLOCK = (f"{BEGIN}\n"
         "# Loads nbops' kernel extension (%%flow, %nbops) in every kernel; `nbops lab-setup --undo` removes it.\n"
         "# append: the extensions configured above (or in other config files) stay.\n"
         "c.InteractiveShellApp.extensions.append(\"kernel_ext\")\n"
         f"{END}\n")


class SetupChange(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class SetupOptions:
    undo: bool = False
    dry_run: bool = False
    ipython_dir: Path | None = None  # default: $IPYTHONDIR, else ~/.ipython
    profile: str = "default"


@dataclass(frozen=True)
class SetupResult:
    path: Path
    change: SetupChange
    text: str  # the file's content after the change (what a dry run would write)


def config_path(options: SetupOptions) -> Path:
    base = options.ipython_dir or Path(os.environ.get("IPYTHONDIR") or Path.home() / ".ipython")
    return Path(base).expanduser() / f"profile_{options.profile}" / "ipython_kernel_config.py"


def without_block(text: str) -> str:
    """``text`` with nbops' block taken out (everything else kept byte for byte)."""
    start = text.find(BEGIN)
    end = text.find(END, start)
    if start < 0 or end < 0:
        return text
    before, after = text[:start], text[end + len(END):].removeprefix("\n")
    return (before[:-1] if before.endswith("\n\n") else before) + after  # the blank line with_block added


def with_block(text: str) -> str:
    """``text`` with nbops' block at its end, once (configuration later in a file wins)."""
    kept = without_block(text)
    if kept and not kept.endswith("\n"):
        kept += "\n"
    return kept + ("\n" if kept.strip() else "") + BLOCK


def lab_setup(options: SetupOptions) -> SetupResult:
    from ..adapters.files import atomic_write

    path = config_path(options)
    before = path.read_text(encoding="utf-8") if path.is_file() else ""
    after = without_block(before) if options.undo else with_block(before)
    if after == before:
        return SetupResult(path, SetupChange.UNCHANGED, after)
    change = SetupChange.REMOVED if options.undo else SetupChange.ADDED
    if not options.dry_run:
        if options.undo and not after.strip():
            path.unlink()  # the file held nothing but nbops' block: leave no empty file behind
        else:
            atomic_write(path, after)
    return SetupResult(path, change, after)
