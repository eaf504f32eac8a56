"""Studies: each regenerates one family of a paper's figures and tables.

A study is its library modules here, its rules file and its spec: the spec types are in
:mod:`leakbench.studies.spec`, the registry (one spec module per study) in
:mod:`leakbench.studies.specs`. This package module imports nothing, so a step that uses one
study's code does not depend on every study's spec.
"""
