"""``nbops image``: write, per namespace (or one for the project), the Docker build folder of the
image the flows run in with ``[tool.nbops] install = "image"``: every notebook is converted and
every image planned and checked first; nothing is written when something fails."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..adapters.files import read_text, write_if_changed
from ..adapters.project import Project
from ..core.convert import Conversion
from ..core.image import DOCKERFILE, MARKER, FlowNeeds, ImageSpec, files, plan
from ..errors import ConfigError, NbopsError
from .project_flows import convert_all

DEFAULT_FOLDER = "images"


@dataclass
class ImageResult:
    images: list[ImageSpec] = field(default_factory=list)
    written: list[str] = field(default_factory=list)  # files written (or that would be, with dry_run)
    unchanged: list[str] = field(default_factory=list)
    failed: list[Conversion] = field(default_factory=list)  # notebooks that do not convert
    problems: list[str] = field(default_factory=list)  # what stops the images (bad names, conflicts)
    own_image: list[str] = field(default_factory=list)  # flows whose header names their own image
    stale: list[str] = field(default_factory=list)  # image folders nbops wrote whose flows are gone (kept)

    @property
    def aborted(self) -> bool:
        return bool(self.failed or self.problems)


def image_folder(project: Project, out: str | None) -> str:
    """The repository-relative folder the image folders go in (default ``images``)."""
    relative = PurePosixPath(out or DEFAULT_FOLDER)
    if relative.is_absolute():
        try:
            relative = PurePosixPath(project.relative(Path(relative)))
        except NbopsError:
            raise ConfigError("--out must be a folder inside the repository", file=str(out)) from None
    if ".." in relative.parts or str(relative) in ("", "."):
        raise ConfigError("--out must be a folder inside the repository", file=str(out),
                          hint=f"e.g. --out {DEFAULT_FOLDER}")
    for taken in (project.options.notebooks, project.options.flows):
        if relative == PurePosixPath(taken) or PurePosixPath(taken) in relative.parents:
            raise ConfigError(f"--out must not be inside {taken}/", file=str(out), hint=f"e.g. --out {DEFAULT_FOLDER}")
    return relative.as_posix()


def plan_images(project: Project, out: str | None = None) -> ImageResult:
    """Convert every notebook and plan the images of the flows that use the project's image."""
    folder = image_folder(project, out)
    result = ImageResult()
    needs = []
    for conv in convert_all(project, sources=False):
        if not conv.ok:
            result.failed.append(conv)
        elif conv.header.image:
            result.own_image.append(conv.flow_path or conv.notebook.path)
        else:
            needs.append(FlowNeeds(conv.flow_path or conv.notebook.path, conv.namespace, conv.requirements))
    result.images, result.problems = plan(needs, project.options, folder)
    result.stale = _stale(project, folder, {spec.folder for spec in result.images})
    return result


def _stale(project: Project, folder: str, planned: set[str]) -> list[str]:
    base = project.root / folder
    if not base.is_dir():
        return []
    found = []
    for dockerfile in sorted(base.glob(f"*/{DOCKERFILE}")):
        relative = dockerfile.parent.relative_to(project.root).as_posix()
        try:
            ours = read_text(dockerfile, 1024 * 1024, relative).startswith(MARKER)
        except NbopsError:
            continue
        if ours and relative not in planned:
            found.append(relative)
    return found


def write_images(project: Project, out: str | None = None, *, dry_run: bool = False) -> ImageResult:
    """Plan, then write every image folder atomically (file by file; unchanged files are left
    alone, so running it twice changes nothing). ``dry_run`` says what would change."""
    result = plan_images(project, out)
    if result.aborted:
        return result
    for spec in result.images:
        for name, text in files(spec).items():
            relative = f"{spec.folder}/{name}"
            target = project.root / relative
            if dry_run:
                changed = not target.is_file() or target.read_bytes() != text.encode("utf-8")
            else:
                changed = write_if_changed(target, text)
            (result.written if changed else result.unchanged).append(relative)
    return result
