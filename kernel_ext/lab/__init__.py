"""JupyterLab authoring: the ``%%flow`` card, the ``%nbops`` panel and line magics.

Every module here imports its heavy dependencies (ipywidgets, GitPython, papermill) inside the
functions that need them, so ``%load_ext kernel_ext`` stays cheap.
"""
