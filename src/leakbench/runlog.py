"""Send a job's log records and warnings to its Snakemake ``log:`` file."""

from __future__ import annotations

import logging
from pathlib import Path


def log_to(path: str | Path) -> logging.Logger:
    """Configure the root logger to append to ``path``; return the ``leakbench`` logger."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        filename=path,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    logging.captureWarnings(True)
    return logging.getLogger("leakbench")
