"""The poisoning rates each model group of the property-poisoning study trains at.

Apart from the study's training code so that the workflow can expand its paths without
importing torch.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from leakbench.names import REGRESSION


def poison_rates(study: Mapping[str, Any], group: str) -> list[float]:
    """The poisoning rates a group trains at, in order: the configured ``poison_rates``, or
    for the regression its ``poison_rate``, preceded by 0 when ``uncertain`` query
    selection needs unpoisoned shadows."""
    if group != REGRESSION:
        return list(study["poison_rates"])
    rate = study[REGRESSION]["poison_rate"]
    needs_clean = study["query_selection"] == "uncertain" and rate != 0
    return [0, rate] if needs_clean else [rate]
