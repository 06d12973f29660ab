"""The pure core: flow model, validation, notebook→flow conversion and YAML emission.

Nothing here imports papermill, nbformat, git, mkdocs, IPython or ipywidgets, and nothing here
touches the file system; adapters feed it plain data.
"""
