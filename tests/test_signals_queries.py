"""Per-record signals and query augmentations: hand-computed cases and refusals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from leakbench.attacks.queries import SHIFT_PIXELS, check_queries, query_count, query_inputs
from leakbench.attacks.signals import SIGNALS, SignalSpec, compute_signals
from leakbench.errors import ConfigError, UnknownNameError

ALL = {
    "phi": SignalSpec("phi"),
    "loss": SignalSpec("loss"),
    "confidence": SignalSpec("confidence"),
    "prob_t_T2": SignalSpec("prob_t", temperature=2),
}


def test_signals_of_a_hand_case():
    # One record, two queries, logits (2, 0, 0) and (0, 0, 0), label 0.
    logits = np.array([[[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]]])
    out = compute_signals(logits=logits, labels=np.array([0]), specs=ALL)
    # phi = z_y - log(sum over the other classes of e^z) = 2 - log 2, then 0 - log 2.
    np.testing.assert_allclose(out["phi"], [[2 - math.log(2), -math.log(2)]], rtol=1e-15)
    # softmax_0 = e^2 / (e^2 + 2), then 1/3.
    p = math.exp(2) / (math.exp(2) + 2)
    np.testing.assert_allclose(out["confidence"], [[p, 1 / 3]], rtol=1e-15)
    np.testing.assert_allclose(out["loss"], [[-math.log(p), math.log(3)]], rtol=1e-15)
    # At T = 2 the logits halve: e^1 / (e^1 + 2), then 1/3.
    np.testing.assert_allclose(out["prob_t_T2"], [[math.e / (math.e + 2), 1 / 3]], rtol=1e-15)
    # phi = log(p / (1 - p)) wherever p is well away from 1.
    np.testing.assert_allclose(out["phi"], np.log(out["confidence"] / (1 - out["confidence"])))
    assert all(value.dtype == np.float64 and value.shape == (1, 2) for value in out.values())


def test_phi_is_exact_where_the_probability_rounds_to_one():
    # softmax_0 of (1000, 0) is 1 in float64, so log(p / (1 - p)) is inf; phi is 1000.
    logits = np.array([[[1000.0, 0.0]], [[0.0, 1000.0]]], dtype=np.float32)
    out = compute_signals(logits=logits, labels=np.array([0, 0]), specs={"phi": ALL["phi"]})
    np.testing.assert_array_equal(out["phi"], [[1000.0], [-1000.0]])


def test_signal_specs_name_their_storage_and_refuse_bad_parameters():
    assert set(SIGNALS) == {"phi", "loss", "confidence", "prob_t"}
    assert SignalSpec("prob_t", temperature=2).key == "prob_t_T2"
    assert SignalSpec("prob_t", temperature=0.5).key == "prob_t_T0.5"
    assert SignalSpec("phi").key == "phi"
    with pytest.raises(UnknownNameError, match=r"signal: unknown value 'margin'; allowed: "):
        SignalSpec("margin")
    with pytest.raises(ConfigError, match=r"temperature: 0 is not allowed; allowed: a finite"):
        SignalSpec("prob_t", temperature=0)
    with pytest.raises(ConfigError, match=r"temperature: None is not allowed"):
        SignalSpec("prob_t")
    with pytest.raises(ConfigError, match=r"temperature: 2 is not allowed for signal 'phi'"):
        SignalSpec("phi", temperature=2)


@pytest.mark.parametrize(
    ("logits", "labels", "match"),
    [
        (np.zeros((2, 3)), np.array([0, 1]), r"logits: shape \(2, 3\)"),
        (np.zeros((2, 1, 1)), np.array([0, 0]), r"logits: shape \(2, 1, 1\)"),
        (np.full((1, 1, 2), np.nan), np.array([0]), r"logits: contains non-finite"),
        (np.zeros((2, 1, 2)), np.array([0]), r"labels: shape \(1,\)"),
        (np.zeros((1, 1, 2)), np.array([2]), r"labels: range \[2, 2\]"),
    ],
)
def test_bad_logits_or_labels_are_refused(logits, labels, match):
    with pytest.raises(ConfigError, match=match):
        compute_signals(logits=logits, labels=labels, specs=ALL)


# --- queries ----------------------------------------------------------------------------------


def test_query_order_flip_and_shift_by_hand():
    assert SHIFT_PIXELS == 1
    x = np.arange(9, dtype=np.float32).reshape(1, 1, 3, 3)  # rows (0 1 2) (3 4 5) (6 7 8)
    out = query_inputs(x=x, queries=["plain", "flip", "shift"])
    assert out.shape == (1, 18, 1, 3, 3) and out.dtype == np.float32
    plain, mirrored = out[0, :9, 0], out[0, 9:, 0]
    # Offsets (dy, dx) row-major over {-1, 0, 1}^2: index 4 is (0, 0), the image itself.
    np.testing.assert_array_equal(plain[4], x[0, 0])
    np.testing.assert_array_equal(mirrored[4], x[0, 0, :, ::-1])
    # (dy, dx) = (1, 0), index 7: content moves down one row; the new top row is the
    # reflection of row 1 about row 0 (the edge row not repeated).
    np.testing.assert_array_equal(plain[7], [[3, 4, 5], [0, 1, 2], [3, 4, 5]])
    # (dy, dx) = (-1, -1), index 0: content moves up and left.
    np.testing.assert_array_equal(plain[0], [[4, 5, 4], [7, 8, 7], [4, 5, 4]])
    np.testing.assert_array_equal(query_inputs(x=x, queries=["plain"])[:, 0], x)


def test_query_counts_and_non_image_data():
    assert [query_count(q) for q in (["plain"], ["plain", "flip"], ["plain", "shift"])] == [
        1,
        2,
        9,
    ]
    assert query_count(["plain", "flip", "shift"]) == 18
    rows = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(query_inputs(x=rows, queries=["plain"]), rows[:, None])
    with pytest.raises(ConfigError, match=r"queries: \['plain', 'flip'\] is not allowed for "):
        query_inputs(x=rows, queries=["plain", "flip"])


@pytest.mark.parametrize(
    ("queries", "error", "match"),
    [
        (["plain", "rotate"], UnknownNameError, r"queries: unknown value 'rotate'; allowed: "),
        (["flip"], ConfigError, r"queries: \['flip'\] is not allowed; allowed: 'plain' first"),
        (["plain", "flip", "flip"], ConfigError, r"each at most once"),
        ([], ConfigError, r"queries: \[\] is not allowed"),
    ],
)
def test_bad_query_lists_are_refused(queries, error, match):
    with pytest.raises(error, match=match):
        check_queries(queries=queries, image=True)
