"""Participant-level DP for collaborative learning (Melis et al. 2019, Section VIII-D;
McMahan et al. 2018): clipping and the server's noise on hand-built updates, the
accountant's epsilon at q = 1 against the closed-form Renyi DP, bad input, and the DP
variant of a collaborative defences row (paired with its non-private run, byte-identical
reruns)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
from opacus.accountants import RDPAccountant

from leakbench.collaborative.participant_dp import (
    ParticipantDP,
    clip_update,
    noise,
    norm,
    server_aggregate,
)
from leakbench.collaborative.simulate import apply, observed_update
from leakbench.config import check_names, load_schema, read_yaml, validate_schema
from leakbench.data.pool import Pool
from leakbench.errors import ConfigError
from leakbench.privacy.accounting import calibrate_rounds
from leakbench.privacy.settings import DPConfig
from leakbench.studies.collaborative_defences import participant_dp, run_row

UPDATE = {"w": torch.tensor([[3.0, 0.0], [0.0, 0.0]]), "b": torch.tensor([4.0])}  # norm 5


def test_an_update_above_the_clip_norm_is_scaled_to_it_and_one_below_is_kept():
    clipped = clip_update(UPDATE, clip=1.0)  # scale 1 / 5
    assert clipped["w"].flatten().tolist() == pytest.approx([0.6, 0.0, 0.0, 0.0])
    assert clipped["b"].tolist() == pytest.approx([0.8])
    assert float(norm(clipped)) == pytest.approx(1.0)
    kept = clip_update(UPDATE, clip=5.0)  # norm exactly C: unchanged
    assert all(torch.equal(kept[k], UPDATE[k]) for k in UPDATE)
    assert float(norm(clip_update(UPDATE, clip=2.5))) == pytest.approx(2.5)


def test_noise_has_standard_deviation_sigma_times_c_and_bytes_fixed_by_the_seed():
    dp = ParticipantDP(clip=0.5, noise_multiplier=4.0)
    assert dp.std == 2.0
    like = {"a": torch.zeros(400, 500)}
    drawn = noise(like, std=dp.std, generator=torch.Generator().manual_seed(7))["a"]
    assert float(drawn.std()) == pytest.approx(2.0, rel=0.01)  # 200,000 draws
    assert abs(float(drawn.mean())) < 0.02
    again = noise(like, std=dp.std, generator=torch.Generator().manual_seed(7))["a"]
    other = noise(like, std=dp.std, generator=torch.Generator().manual_seed(8))["a"]
    assert drawn.numpy().tobytes() == again.numpy().tobytes()
    assert not torch.equal(drawn, other)


def test_the_adversary_sees_the_others_clipped_update_plus_the_whole_server_noise():
    dp = ParticipantDP(clip=1.0, noise_multiplier=0.5)
    own = {"w": torch.tensor([[0.0, 0.3], [0.0, 0.0]]), "b": torch.tensor([0.4])}  # norm 0.5
    target = UPDATE  # norm 5: clipped to 1
    (own_c, target_c), total = server_aggregate(
        [own, target], dp=dp, generator=torch.Generator().manual_seed(3)
    )
    assert all(torch.equal(own_c[k], own[k]) for k in own)  # below C: unchanged
    assert float(norm(target_c)) == pytest.approx(1.0)
    drawn = noise(own, std=0.5, generator=torch.Generator().manual_seed(3))
    before = {"w": torch.ones(2, 2), "b": torch.zeros(1)}
    after = apply(params=before, update=total)
    seen = observed_update(before=before, after=after, own=own_c, own_weight=1.0)
    for k in own:
        assert torch.allclose(seen[k], target_c[k] + drawn[k], atol=1e-6)


def test_the_accountant_epsilon_at_q_1_is_the_closed_form_renyi_dp_of_t_gaussian_rounds():
    dp = DPConfig(epsilon=4.0, delta=1e-5, max_grad_norm=1.0, accountant="rdp")
    rounds = 50
    calibration = calibrate_rounds(dp, rounds=rounds)
    assert calibration.sample_rate == 1.0 and calibration.steps == rounds
    sigma = calibration.noise_multiplier
    # RDP of T rounds of the Gaussian mechanism: T a / (2 sigma^2) (Mironov 2017), to
    # (epsilon, delta) by Balle et al. 2020, Theorem 21, minimised over Opacus's orders.
    orders = np.array([a for a in RDPAccountant.DEFAULT_ALPHAS if a > 1], dtype=float)
    rdp = rounds * orders / (2 * sigma**2)
    by_hand = (
        rdp + np.log((orders - 1) / orders) - (math.log(dp.delta) + np.log(orders)) / (orders - 1)
    )
    assert calibration.epsilon == pytest.approx(float(by_hand.min()), rel=1e-9)
    assert 4.0 - 0.01 <= calibration.epsilon <= 4.0  # Opacus's search tolerance
    assert sigma == pytest.approx(9.0, abs=1.5)  # about sqrt(2 T log(1/delta)) / epsilon


@pytest.mark.filterwarnings("ignore:Optimal order is the smallest alpha")
def test_a_hand_sigma_gives_the_closed_form_epsilon_at_one_order():
    # T = 8 rounds at sigma = 2: RDP(a) = 8 a / 8 = a; at a = 3 the conversion gives
    # 3 + log(2/3) - (log(1e-5) + log 3) / 2.
    accountant = RDPAccountant()
    accountant.history = [(2.0, 1.0, 8)]
    epsilon = accountant.get_epsilon(delta=1e-5, alphas=[3.0])
    assert epsilon == pytest.approx(3 + math.log(2 / 3) - (math.log(1e-5) + math.log(3)) / 2)


@pytest.mark.parametrize(
    ("clip", "sigma", "message"),
    [
        (0.0, 1.0, "k.max_grad_norm: 0.0 is not allowed; allowed: a finite number > 0"),
        (-1.0, 1.0, "k.max_grad_norm: -1.0 is not allowed; allowed: a finite number > 0"),
        (math.inf, 1.0, "k.max_grad_norm: inf is not allowed; allowed: a finite number > 0"),
        (True, 1.0, "k.max_grad_norm: True is not allowed; allowed: a finite number > 0"),
        (1.0, -0.5, "k.noise_multiplier: -0.5 is not allowed; allowed: a finite number >= 0"),
    ],
)
def test_bad_clip_norms_and_noise_multipliers_are_refused(clip, sigma, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        ParticipantDP(clip=clip, noise_multiplier=sigma, key="k")


def test_calibration_refuses_no_rounds_and_an_infinite_epsilon():
    dp = DPConfig(epsilon=1.0)
    with pytest.raises(ValueError, match="rounds 0 is not allowed; allowed: >= 1"):
        calibrate_rounds(dp, rounds=0)
    with pytest.raises(ValueError, match="epsilon = inf needs no noise"):
        calibrate_rounds(DPConfig(epsilon=math.inf), rounds=5)


ROW = {
    "dataset": "mnist5k", "variant": "dp", "arch": "mlp", "arch_params": {"hidden": [8]},
    "sweep": "alpha", "values": [0], "task": "parity", "property": "class",
    "property_class": 3, "property_share": 1.0, "records": 400, "test_records": 100,
    "rounds": 8, "batch_size": 8, "lr": 0.1, "trees": 10, "max_features": 16,
}  # fmt: skip
PRIVACY = {"epsilon": 2.0, "delta": 1e-3, "max_grad_norm": 0.5, "accountant": "rdp"}


def _pool(n: int = 600, seed: int = 0) -> Pool:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n).astype(np.int64)
    x = rng.normal(size=(n, 6)).astype(np.float32)
    x[:, 0] += (y == 3) * 2.0
    return Pool(x=x, y=y, properties={}, feature_names=tuple(f"f{i}" for i in range(6)),
                num_classes=10)  # fmt: skip


def test_a_dp_variant_records_its_calibration_reruns_identically_and_differs_from_nodp():
    private = {**ROW, "privacy": PRIVACY}
    first = run_row(pool=_pool(), row=private, seed=5, key="k")
    assert first == run_row(pool=_pool(), row=private, seed=5, key="k")
    dp = first["dp"]
    assert dp["sample_rate"] == 1.0 and dp["steps"] == 8 and dp["max_grad_norm"] == 0.5
    assert dp["target_epsilon"] == 2.0 and dp["epsilon"] <= 2.0
    plain = run_row(pool=_pool(), row=ROW, seed=5, key="k")
    assert "dp" not in plain
    assert plain["correlation"] == first["correlation"]  # same records: a paired run
    assert plain["accuracy"] != first["accuracy"] or plain["auc"] != first["auc"]
    # epsilon = inf in the privacy settings is the non-private run itself
    nodp = {**ROW, "privacy": {**PRIVACY, "epsilon": math.inf}}
    assert run_row(pool=_pool(), row=nodp, seed=5, key="k") == plain


def test_bad_privacy_settings_are_refused_before_training():
    row = {**ROW, "privacy": {**PRIVACY, "max_grad_norm": 0}}
    with pytest.raises(ConfigError, match=re.escape("privacy.max_grad_norm: 0 is not allowed")):
        participant_dp(row)
    assert participant_dp(ROW) is None


def test_config_validation_refuses_a_bad_dp_cell_and_clip_norm_before_any_job(repo_root):
    schema = load_schema(repo_root / "workflow/schemas/config.schema.yaml")
    config = read_yaml(repo_root / "config/test.yaml")
    config["privacy"]["cells"]["collaborative_defences"] = ["adult/nope"]
    with pytest.raises(
        ConfigError,
        match=re.escape(
            "privacy.cells.collaborative_defences: 'adult/nope' is not allowed; allowed: adult/tiny"
        ),
    ):
        check_names(validate_schema(config, schema))
    config = read_yaml(repo_root / "config/test.yaml")
    config["privacy"]["max_grad_norm"] = 0
    with pytest.raises(ConfigError, match=r"privacy\.max_grad_norm"):
        check_names(validate_schema(config, schema))


def test_a_dp_row_is_recorded_under_its_privacy_variant_with_the_rows_seed(tmp_path):
    from pathlib import Path

    from leakbench.names import CellId
    from leakbench.reporting.records import MetricsRecord
    from leakbench.steps.context import Files, Job
    from leakbench.steps.grid_rows import run_grid_row

    _pool().save(tmp_path / "pool.npz")
    seen = []

    def run(*, pool, row, seed, key):
        seen.append((seed, key, row.get("privacy")))
        return {"auc": {"0": 0.5}}

    records = {}
    for name, row in (("nodp", ROW), ("eps2", {**ROW, "privacy": PRIVACY})):
        out = Path(tmp_path / f"{name}.json")
        run_grid_row(
            job=Job(
                rule="simulate_collaborative_defences",
                cell=CellId(("dataset", "variant", "privacy"), ("mnist5k", "dp", name)),
                seed=3,
                row=row,
            ),
            files=Files(inputs={"pool": (tmp_path / "pool.npz",)}, outputs={"metrics": (out,)}),
            study="collaborative_defences",
            attack="defended_property",
            run=run,
        )
        records[name] = MetricsRecord.read(out)
    assert records["nodp"].variant == records["nodp"].grid["variant"] == "dp"
    assert records["eps2"].variant == records["eps2"].grid["variant"] == "dp.eps2"
    assert records["eps2"].grid["privacy"] == PRIVACY and "privacy" not in records["nodp"].grid
    assert seen[0][:2] == seen[1][:2]  # one seed and key for both variants: a paired run
    assert records["nodp"].seeds == records["eps2"].seeds
