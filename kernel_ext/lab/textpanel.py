"""The panel as text, for front-ends without widgets (a terminal IPython, a headless run), and the
notebook's own line commands: ``%nbops validate``, ``yaml``, ``export``."""
from __future__ import annotations

from .actions import Target

NO_WIDGETS = ("(no widget front-end here, so no panel: use the line forms, e.g. %nbops run -p NAME=VALUE, "
              "%nbops yaml, %nbops diff, %nbops commit -m MESSAGE, %nbops push, %nbops sync --dry-run)")


def validation_text(target: Target) -> str:
    from .actions import validate
    from .card import build_card, card_text
    from .header_check import HeaderCheck

    conversion = validate(target)
    check = HeaderCheck(conversion, conversion.header, conversion.problems, conversion.notebook.path)
    return card_text(build_card(check))


def text_panel(target: Target) -> str:
    lines = [validation_text(target) if target.notebook is not None else "nbops: the notebook is unknown "
             "(give it with %nbops --notebook PATH)"]
    if (why := target.git_problem()) is not None:
        lines.append(f"commit/push: {why}")
    return "\n".join([*lines, NO_WIDGETS])


def own_command(command: str, target: Target) -> str:
    from . import actions

    if command == "validate":
        return validation_text(target)
    if command == "yaml":
        return actions.flow_yaml(target).rstrip("\n")
    if command == "export":
        written = actions.export(target)
        return "\n".join(f"wrote {p}" for p in written) or "unchanged: the flow file already holds this notebook's flow"
    return text_panel(target)
