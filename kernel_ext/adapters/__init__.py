"""Adapters: the only modules that touch files, nbformat, papermill, Git, SQLite or Kestra."""
