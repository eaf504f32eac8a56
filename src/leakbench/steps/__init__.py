"""File-level entry points of the workflow: read artifacts, call the library, write artifacts.

Each workflow script unpacks ``snakemake.*`` and calls exactly one function from here; these
functions own the file formats, the library stays pure.
"""
