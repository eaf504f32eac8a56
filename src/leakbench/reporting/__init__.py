"""Reporting: tables and figures built from the per-cell metrics records.

Modules: :mod:`~leakbench.reporting.records` (read and check records),
:mod:`~leakbench.reporting.tables` (tables, CSV and Markdown writers),
:mod:`~leakbench.reporting.figures` (ROC figures, deterministic PNG and PDF).
"""
