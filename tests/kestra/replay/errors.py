"""What the replay raises: Kestra's refusals (rendering, inputs) and the harness's own gaps."""
from __future__ import annotations

NOT_EMULATED_MARK = "FAKE-IMAGE-NOT-EMULATED:"  # what fake_pip.py writes on stderr for a gap


class NotEmulated(Exception):
    """The flow uses something this harness does not reproduce: no replay result is given."""


class RenderError(Exception):
    """Kestra's IllegalVariableEvaluationException (strict variables, a missing key...)."""


class InputError(Exception):
    """Kestra refuses the execution's inputs (missing required input, wrong type, constraint)."""
