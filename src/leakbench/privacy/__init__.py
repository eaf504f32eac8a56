"""Differential privacy: DP-SGD settings, noise calibration by an accountant, auditing."""

from leakbench.privacy.accounting import Calibration, calibrate
from leakbench.privacy.audit import AuditResult, audit_scores, epsilon_lower_bound
from leakbench.privacy.settings import ACCOUNTANTS, DPConfig, row_epsilon

__all__ = [
    "ACCOUNTANTS",
    "AuditResult",
    "Calibration",
    "DPConfig",
    "audit_scores",
    "calibrate",
    "epsilon_lower_bound",
    "row_epsilon",
]
