"""Checks for the ``requirements`` a flow installs (they end up in a pip requirements file)."""
from __future__ import annotations

# packaging is imported on use: it costs ~18 ms, and most flows list no requirements (the %%flow
# card in JupyterLab converts the notebook on every run of the cell)


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
