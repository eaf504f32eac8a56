"""Differential privacy: DP-SGD settings, noise calibration by an accountant, auditing."""

from leakbench.privacy.accounting import Calibration, calibrate
from leakbench.privacy.audit import (
    AuditResult,
    audit_at_threshold,
    audit_scores,
    epsilon_lower_bound,
    held_out_threshold,
    known_mechanism_audit,
    union_level,
)
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
    STATISTICS,
    DiracMechanism,
    HeldOutTest,
    choose_test,
    dirac_canary_llr,
    final_model_llr,
    mechanism_optimal_bound,
    optimal_test_bound,
)
from leakbench.privacy.settings import ACCOUNTANTS, DPConfig, row_epsilon

__all__ = [
    "ACCOUNTANTS",
    "STATISTICS",
    "AuditResult",
    "Calibration",
    "DPConfig",
    "DiracMechanism",
    "HeldOutTest",
    "OneRunAudit",
    "audit_at_threshold",
    "audit_scores",
    "calibrate",
    "choose_test",
    "clopper_pearson_ceiling",
    "dirac_canary_llr",
    "epsilon_lower_bound",
    "final_model_llr",
    "held_out_threshold",
    "known_mechanism_audit",
    "mechanism_optimal_bound",
    "one_run_audit",
    "one_run_ceiling",
    "one_run_guesses",
    "one_run_lower_bound",
    "one_run_p_value",
    "optimal_test_bound",
    "row_epsilon",
    "union_level",
]
