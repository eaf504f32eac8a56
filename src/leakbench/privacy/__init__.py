"""Differential privacy: DP-SGD settings, noise calibration by an accountant, auditing."""

from leakbench.privacy.accounting import Calibration, calibrate
from leakbench.privacy.audit import AuditResult, audit_scores, epsilon_lower_bound
from leakbench.privacy.ceiling import clopper_pearson_ceiling
from leakbench.privacy.one_run import (
    OneRunAudit,
    one_run_audit,
    one_run_ceiling,
    one_run_guesses,
    one_run_lower_bound,
    one_run_p_value,
)
from leakbench.privacy.optimal import (
    MechanismScores,
    dirac_canary_llr,
    optimal_test_bound,
    simulate_dirac_scores,
)
from leakbench.privacy.settings import ACCOUNTANTS, DPConfig, row_epsilon

__all__ = [
    "ACCOUNTANTS",
    "AuditResult",
    "Calibration",
    "DPConfig",
    "MechanismScores",
    "OneRunAudit",
    "audit_scores",
    "calibrate",
    "clopper_pearson_ceiling",
    "dirac_canary_llr",
    "epsilon_lower_bound",
    "one_run_audit",
    "one_run_ceiling",
    "one_run_guesses",
    "one_run_lower_bound",
    "one_run_p_value",
    "optimal_test_bound",
    "row_epsilon",
    "simulate_dirac_scores",
]
