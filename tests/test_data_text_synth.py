"""checkin_synth: shape, determinism, the planted property and Zipf's law."""

from __future__ import annotations

import math

import numpy as np
import pytest

from leakbench.data import text_synth
from leakbench.data.registry import get_dataset
from leakbench.errors import ConfigError


@pytest.fixture(scope="module")
def pool():
    return text_synth.generate_checkins(seed=7)


def test_records_are_token_sequences_with_a_label_and_the_planted_property(pool, tmp_path):
    spec = get_dataset("checkin_synth")
    assert spec.synthetic and "SYNTHETIC stand-in" in spec.description
    assert spec.properties == ("planted",) and spec.input_shape == (text_synth.LENGTH,)
    assert pool.x.shape == (text_synth.N_RECORDS, text_synth.LENGTH)
    tokens = pool.x.astype(np.int64)
    assert np.array_equal(tokens, pool.x) and tokens.min() >= 0
    assert tokens.max() < text_synth.VOCAB
    assert set(np.unique(pool.y)) == {0, 1} and abs(pool.y.mean() - 0.5) < 0.05
    planted = pool.properties["planted"]
    assert abs(planted.mean() - text_synth.PROPERTY_RATE) < 0.03
    markers = np.isin(tokens, text_synth.PROPERTY_TOKENS).sum(axis=1)
    assert (markers[planted] >= 1).all()  # at least one marker word (two positions drawn)
    assert markers[~planted].mean() < 0.2  # only by chance elsewhere
    prepared = spec.prepare(raw_dir=tmp_path, seed=7)
    assert np.array_equal(prepared.x, pool.x)


def test_generation_is_deterministic_per_seed(pool):
    again = text_synth.generate_checkins(seed=7, n_records=100)
    other = text_synth.generate_checkins(seed=8, n_records=100)
    assert np.array_equal(again.x, text_synth.generate_checkins(seed=7, n_records=100).x)
    assert np.array_equal(again.y, text_synth.generate_checkins(seed=7, n_records=100).y)
    assert not np.array_equal(again.x, other.x)
    with pytest.raises(ConfigError, match=r"checkin_synth\.records: 1 is not allowed"):
        text_synth.generate_checkins(seed=7, n_records=1)


def test_zipf_exponent_of_hand_built_frequency_lists():
    # 60 / r: counts 60, 30, 20, 15 lie on a line of slope -1 in log-log.
    assert text_synth.zipf_exponent(np.array([15, 60, 20, 30]), ranks=10) == pytest.approx(1.0)
    # Two words 100 and 25: slope log(25 / 100) / log(2) = -2.
    assert text_synth.zipf_exponent(np.array([25, 0, 100]), ranks=5) == pytest.approx(2.0)
    # Only the ranks asked for: 8, 4 (s = 1) then a tail that would bend the fit.
    assert text_synth.zipf_exponent(np.array([8, 4, 1, 1]), ranks=2) == pytest.approx(1.0)
    with pytest.raises(ConfigError, match="ranks: 1 words with a count is not allowed"):
        text_synth.zipf_exponent(np.array([3, 0]), ranks=5)


def test_zipf_probabilities_by_hand():
    p = text_synth.zipf_probabilities(vocab=3, exponent=1.0)
    harmonic = 1 + 1 / 2 + 1 / 3
    assert p.tolist() == pytest.approx([1 / harmonic, 0.5 / harmonic, (1 / 3) / harmonic])
    assert math.isclose(p.sum(), 1.0)


def test_the_corpus_follows_zipfs_law(pool):
    counts = np.bincount(pool.x.astype(np.int64).ravel(), minlength=text_synth.VOCAB)
    s = text_synth.zipf_exponent(counts, ranks=300)
    assert s == pytest.approx(text_synth.ZIPF_EXPONENT, abs=0.1)
    # Token 0 is the most frequent word. Its share: drawn with p(0), kept unless the label
    # flips it to 1 (probability a / 2), plus half the signal draws of word 1, less the
    # planted positions (rate x 2 of 16): (p0 (1 - a/2) + p1 a/2)(1 - rate 2/16) = 0.1098.
    p0, p1 = text_synth.zipf_probabilities(vocab=text_synth.VOCAB, exponent=1.0)[:2]
    a = text_synth.CLASS_SIGNAL
    planted = text_synth.PROPERTY_RATE * text_synth.PLANTED_TOKENS / text_synth.LENGTH
    expected = (p0 * (1 - a / 2) + p1 * a / 2) * (1 - planted)
    assert counts.argmax() == 0 and counts[0] / counts.sum() == pytest.approx(expected, rel=0.02)
