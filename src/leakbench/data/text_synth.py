"""checkin_synth: a SYNTHETIC stand-in for Melis et al.'s check-in and text corpora.

Melis et al. 2019 (Section V) attack the embedding layer of models trained on FourSquare
check-ins (locations as tokens, gender as the task), Yelp reviews and the CSI Corpus. None
is reachable offline, so this module generates records of the same kind from the seed:
every record is a sequence of token ids, a binary label and a planted property.

1. Tokens are ranks over a vocabulary of ``VOCAB`` words with Zipf's law p(r) ∝ 1 / (r + 1)^s
   (word and place frequencies follow it; ``ZIPF_EXPONENT`` s = 1). Token 0 is the most
   frequent.
2. The label y ~ Bernoulli(1/2) (the main task, e.g. the user's gender). Each of the
   ``LENGTH`` tokens is drawn from the law; with probability ``CLASS_SIGNAL`` it is then
   replaced by the word of its pair (2i, 2i + 1) whose id has the parity of y. Neighbouring
   ranks have nearly equal frequencies, so the corpus stays Zipf-distributed, and the task
   is carried by words of every frequency (rare ones included, which a smaller vocabulary
   merges away).
3. The property ``planted`` (a topic, a venue) is given to a ``PROPERTY_RATE`` share of the
   records: ``PLANTED_TOKENS`` of their positions are replaced by tokens drawn uniformly
   from the ``PROPERTY_TOKENS`` mid-frequency words that mark it. Those words also occur by
   chance in other records, at their Zipf rate.

Records are fixed-length (no padding token), so every token of a record is a word of it.
``Pool.x`` holds the ids as float32 ``[N, LENGTH]`` (exact below 2^24).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from leakbench.data.pool import Pool
from leakbench.data.spec import DatasetSpec
from leakbench.errors import ConfigError
from leakbench.seeding import derive_seed

NAME = "checkin_synth"
N_RECORDS = 8_000
VOCAB = 2_000
LENGTH = 16
ZIPF_EXPONENT = 1.0
CLASS_SIGNAL = 0.3
PROPERTY = "planted"
PROPERTY_RATE = 0.2
PROPERTY_TOKENS = tuple(range(400, 404))
PLANTED_TOKENS = 2


def zipf_probabilities(*, vocab: int, exponent: float) -> np.ndarray:
    """p(r) = (r + 1)^-s / Σ_j (j + 1)^-s for ranks r = 0 .. vocab - 1 (Zipf's law)."""
    weights = np.arange(1, vocab + 1, dtype=np.float64) ** -exponent
    return weights / weights.sum()


def zipf_exponent(counts: np.ndarray, *, ranks: int) -> float:
    """The Zipf exponent ŝ of a frequency list: minus the least-squares slope of
    log(count) on log(rank) over the ``ranks`` most frequent words with a count (ranks 1, 2,
    ...: the counts sorted in decreasing order). Counts exactly ∝ 1 / r^s give ŝ = s.

    Raises:
        ConfigError: if fewer than two words have a count.
    """
    ordered = np.sort(np.asarray(counts, dtype=np.float64))[::-1]
    ordered = ordered[ordered > 0][:ranks]
    if len(ordered) < 2:
        raise ConfigError(f"ranks: {len(ordered)} words with a count is not allowed; allowed: >= 2")
    log_rank = np.log(np.arange(1, len(ordered) + 1, dtype=np.float64))
    slope = np.polyfit(log_rank, np.log(ordered), deg=1)[0]
    return float(-slope)


def generate_checkins(*, seed: int, n_records: int = N_RECORDS) -> Pool:
    """Generate the synthetic check-in pool (see the module docstring).

    Args:
        seed: the prepare seed; every draw comes from ``derive_seed(seed, NAME, "records")``.
        n_records: number of records N.

    Raises:
        ConfigError: if ``n_records`` < 2.
    """
    if n_records < 2:
        raise ConfigError(f"{NAME}.records: {n_records} is not allowed; allowed: >= 2")
    rng = np.random.default_rng(derive_seed(seed, NAME, "records"))
    p = zipf_probabilities(vocab=VOCAB, exponent=ZIPF_EXPONENT)
    y = rng.integers(0, 2, size=n_records).astype(np.int64)
    tokens = rng.choice(VOCAB, size=(n_records, LENGTH), p=p)
    signal = rng.random((n_records, LENGTH)) < CLASS_SIGNAL
    paired = tokens - tokens % 2 + y[:, None]  # the word's pair (2i, 2i + 1) of y's parity
    tokens = np.where(signal, np.minimum(paired, VOCAB - 1), tokens)
    planted = rng.random(n_records) < PROPERTY_RATE
    for i in np.flatnonzero(planted):
        where = rng.choice(LENGTH, size=PLANTED_TOKENS, replace=False)
        tokens[i, where] = rng.choice(PROPERTY_TOKENS, size=PLANTED_TOKENS)
    return Pool(
        x=tokens.astype(np.float32),
        y=y,
        properties={PROPERTY: planted},
        feature_names=tuple(f"token_{j:02d}" for j in range(LENGTH)),
        num_classes=2,
    )


def prepare(*, raw_dir: Path, seed: int) -> Pool:
    """Generate the pool; ``raw_dir`` is unused (no raw files)."""
    del raw_dir
    return generate_checkins(seed=seed)


SPEC = DatasetSpec(
    name=NAME,
    description=(
        f"SYNTHETIC stand-in for Melis et al.'s FourSquare check-ins / Yelp / CSI text (not "
        f"those data): {N_RECORDS:,} records of {LENGTH} token ids over a Zipf-distributed "
        f"vocabulary of {VOCAB:,} words (s = {ZIPF_EXPONENT}), a binary label carried by "
        f"{CLASS_SIGNAL:.0%} of the tokens (set to the label's id parity), and the property "
        f"'{PROPERTY}' planted in {PROPERTY_RATE:.0%} of the records ({PLANTED_TOKENS} of "
        f"{len(PROPERTY_TOKENS)} marker words); for the embedding-gradient attacks."
    ),
    synthetic=True,
    raw_files=(),
    input_shape=(LENGTH,),
    num_classes=2,
    properties=(PROPERTY,),
    prepare=prepare,
    vocabulary=VOCAB,
)
