"""What a flow installs: nbops' pins of what runs a notebook, the project's and the header's
requirements, and the project's constraints (a pip constraints file, ``[tool.nbops] constraints``).

The pins are constants, never read from the environment at export time: the same notebook gives
the same flow on any machine. They are the versions nbops' tests run with; ``tests/core/
test_requirements.py`` checks that the test environment is within their compatible release
(``~=X.Y``), that ``pyproject.toml``'s dependency ranges admit them, and that they resolve against
the package index.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

# packaging is imported on use: it costs ~18 ms, and the %%flow card in JupyterLab converts the
# notebook on every run of the cell

# What running a notebook with papermill needs, pinned to the versions nbops is tested with. The
# pins reach as deep as what decides the executed notebook and the parameters' values: papermill
# (injects the parameters), PyYAML (papermill reads --parameters_file as YAML 1.1: it decides the
# parameters' types), nbclient (runs the cells, skips those tagged skip-execution), nbformat
# (writes the executed notebook), jupyter-client and ipykernel (start the kernel; what the kernel
# writes to stderr), IPython (the interpreter the cells run in: display, tracebacks) and
# matplotlib-inline (the inline backend: charts in the executed notebook). Their own dependencies
# (pyzmq, tornado, traitlets, requests, tqdm, ...) are left to pip within these packages' ranges;
# a project pins them too with a constraints file. All need Python >= 3.11 (IPython 9, ipykernel 7).
RUNNER_PINS = (
    "papermill==2.7.0",
    "ipykernel==7.4.0",
    "ipython==9.18.1",
    "nbclient==0.11.0",
    "nbformat==5.11.1",
    "jupyter-client==8.10.0",
    "pyyaml==6.0.4",
    "matplotlib-inline==0.2.2",
)
RUNNER_PYTHON = (3, 11)  # the oldest Python every pin installs on (their Requires-Python)

# a python image whose tag names its version: python:3.12-slim, docker.io/library/python:3.10
_PYTHON_IMAGE = re.compile(r"^(?:(?:docker\.io|index\.docker\.io)/)?(?:library/)?python:(\d+)\.(\d+)(?![\d.])")


def requirement_name(text: str) -> str | None:
    """The normalised project name of a requirement (``Pandas>=2`` → ``pandas``), or None."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    try:
        return canonicalize_name(Requirement(text).name)
    except InvalidRequirement:
        return None


def requirement_problem(text: str) -> str | None:
    """Why ``text`` is not a plain PEP 508 requirement, or None. Options such as ``-e`` or
    ``--index-url`` are refused: in a requirements file they would change where pip installs from."""
    from packaging.requirements import InvalidRequirement, Requirement

    if text.lstrip().startswith("-") or "\n" in text or "{{" in text:
        return f"requirement {text!r} is not a package requirement"
    try:
        Requirement(text)
    except InvalidRequirement as exc:
        return f"requirement {text!r} is not valid: {exc}"
    return None


def runner_requirements(named: Iterable[str]) -> list[str]:
    """nbops' pins, except for the packages the project names itself (in its requirements, a header's
    or its constraints file): those appear by name only, and the project's own line decides their
    version (a project that pins ``papermill==2.6.0`` gets 2.6.0, not a conflict)."""
    taken = {name for text in named if (name := requirement_name(text)) is not None}
    return [pin if (name := pin.split("==")[0]) not in taken else name for pin in RUNNER_PINS]


def flow_requirements(project: Sequence[str], header: Sequence[str], constraints: Sequence[str] = ()) -> list[str]:
    """The lines of a task's ``requirements.txt``, without duplicates: nbops' pins (see
    :func:`runner_requirements`), then ``[tool.nbops] requirements``, then the header's."""
    own = [*project, *header]
    return list(dict.fromkeys([*runner_requirements([*own, *constraints]), *own]))


def constraint_lines(text: str) -> tuple[list[str], list[str]]:
    """A pip constraints file (``pip freeze``, ``pip-compile --strip-extras``, ``uv pip compile``) →
    its constraints, one per line, comments and blank lines dropped; and the problems, one per bad
    line. pip takes a constraint only as a name with a version specifier (and markers): no extras,
    no URLs, no options (pip's user guide, "Constraints Files"); hashes in a constraints file are not
    honoured the same way as in a requirements file (pypa/pip#12956), so they are refused. The lines
    are shipped to Kestra inside ``inputFiles``, which Kestra renders as Pebble (kestra-io/kestra@58c1ca2d
    core/src/main/java/io/kestra/core/models/tasks/runners/PluginUtilsService.java:98-107): ``{{``,
    ``{%`` and ``{#`` are refused too."""
    from packaging.requirements import InvalidRequirement, Requirement

    lines: list[str] = []
    problems: list[str] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not line:
            continue
        where = f"line {number}: {line!r}"
        if line.startswith("-") or line.endswith("\\") or " --" in line:
            problems.append(f"{where} is a pip option or a continued line (hashes, -r, -c, --index-url): "
                            "write one 'name==version' per line")
            continue
        if any(mark in line for mark in ("{{", "{%", "{#")):
            problems.append(f"{where} holds a Pebble delimiter, which Kestra would render")
            continue
        try:
            requirement = Requirement(line)
        except InvalidRequirement as exc:
            problems.append(f"{where} is not a requirement: {exc}")
            continue
        if requirement.extras or requirement.url:
            problems.append(f"{where}: a constraint is a name and a version specifier only (no extras, no URL)")
            continue
        lines.append(line)
    return lines, problems


def requirement_conflicts(requirements: Sequence[str], constraints: Sequence[str] = ()) -> list[str]:
    """Requirements (and constraints) that cannot all hold: two different exact pins of one package,
    or an exact pin another line's specifier excludes. What pip would refuse at run time, said at
    export time; wider conflicts (through dependencies) are left to pip."""
    if not constraints and all(r in RUNNER_PINS for r in requirements):
        return []  # nbops' pins agree with each other (and packaging costs ~18 ms to import)
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    by_name: dict[str, list[Requirement]] = {}
    for text in [*requirements, *constraints]:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue  # reported where it is written
        if requirement.marker is None and requirement.url is None:
            by_name.setdefault(canonicalize_name(requirement.name), []).append(requirement)
    found = []
    for name, group in by_name.items():
        pins = {spec.version for r in group for spec in r.specifier if spec.operator in ("==", "===")
                and "*" not in spec.version}
        if len(pins) > 1:
            found.append(f"{name} is pinned to {' and '.join(sorted(pins))}")
        elif pins:
            pin = next(iter(pins))
            refused = [str(r) for r in group if not r.specifier.contains(pin, prereleases=True)]
            if refused:
                found.append(f"{name}=={pin} is excluded by {', '.join(refused)}")
    return found


def unpinned(requirements: Sequence[str], constraints: Sequence[str] = ()) -> list[str]:
    """The requirements whose version neither they nor a constraint fix with ``==``: what an image
    built from them gets is whatever the index has on the day it is built."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    def pinned(text: str) -> str | None:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            return None
        exact = any(spec.operator in ("==", "===") and "*" not in spec.version for spec in requirement.specifier)
        return canonicalize_name(requirement.name) if exact else None

    fixed = {name for text in [*requirements, *constraints] if (name := pinned(text)) is not None}
    return [text for text in requirements if requirement_name(text) not in fixed]


def image_python_problem(image: str) -> str | None:
    """Why a ``python:X.Y…`` image cannot install nbops' pins (its Python is too old), or None.
    Other images are not guessed at: their Python is the project's business."""
    match = _PYTHON_IMAGE.match(image)
    if match is None or (int(match[1]), int(match[2])) >= RUNNER_PYTHON:
        return None
    oldest = ".".join(map(str, RUNNER_PYTHON))
    return (f"image {image!r} has Python {match[1]}.{match[2]}; the papermill, ipykernel and IPython versions "
            f"nbops pins need Python >= {oldest}")
