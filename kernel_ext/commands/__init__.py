"""The commands of ``nbops``, shared by the CLI (``cli.py``) and ``%nbops`` (``lab/linemagic.py``):
each command's argparse definition, handler ``(project, args, out) -> exit code`` and printer.
``registry.COMMANDS`` is the one table of them; ``failure.report`` the one mapping of errors to
messages and exit codes. Nothing is imported here, so loading one of them stays light."""
