"""One tool's run of the peer benchmark, in its own process (started by ``peers.py``).

The same work three ways, on the pool and membership splits ``peers.py`` prepared (the
workflow's own split, Shokri et al. 2017, section V: a target side and a shadow side):
a target trained on ``target_in``, 16 shadows, then a shadow-model attack scored by its ROC
AUC on the target's members and as many non-members. Every model is the same MLP with the
same epochs, batch size, learning rate and Adam.

- ``leakbench``: one :func:`~leakbench.training.train_stacked` call for the 17 models (the
  target's mask stacked on the shadows'), then the study's own query and Shokri attack
  (:func:`leakbench.studies.membership.query_models`, ``evaluate_attack("shokri")``, one
  attack MLP per class).
- ``plain``: one model at a time, as most research code writes it: ``DataLoader`` over a
  ``TensorDataset`` with ``shuffle=True``, Adam, cross-entropy, ``loss.backward()``; the
  17 models start from leakbench's initialisation and are queried and attacked exactly as
  leakbench's are, so the difference is the training loop alone.
- ``art``: IBM's Adversarial Robustness Toolbox 1.20: ``PyTorchClassifier.fit`` for the
  target, ``ShadowModels.generate_shadow_dataset`` for the 16 shadows (each trains on half
  of 2 * members shadow-side records, as leakbench's shadows do) and
  ``MembershipInferenceBlackBox`` with the same attack classifier as leakbench's (ART
  trains one attack model over all classes, its design; leakbench one per class).

Prints one JSON line: training seconds, attack seconds (querying included) and AUC.

Run (by ``peers.py``): python benchmarks/peer_tools.py TOOL --data DIR --shape FILE
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from leakbench import metrics
from leakbench.attacks.shokri import attack_model as shokri_attack_model
from leakbench.data import Pool
from leakbench.io import read_npz
from leakbench.seeding import configure_torch, derive_seed
from leakbench.studies.membership import evaluate_attack, query_models
from leakbench.studies.splits import MembershipSplits
from leakbench.training import StackedModels, TrainConfig, seeded_model, train_stacked

ATTACK = "shokri"
NOISE_QUERIES = 1000  # the default config's membership.noise_queries (unused by Shokri)


@dataclass(frozen=True)
class PeerShape:
    """One benchmarked shape: a membership grid row of the default config.

    Attributes:
        label: the printed name.
        dataset: the pool's dataset.
        variant: the grid row's variant (names its split seed).
        hidden: the MLP's hidden widths.
        members: training records per model.
        epochs, batch_size, lr: the training settings every tool uses (Adam).
        shadows: shadow models (the target is one more).
        seed: the config seed.
        attack_model: the attack classifier, one of
            :data:`leakbench.attacks.shokri.ATTACK_MODELS`, for every tool.
    """

    label: str
    dataset: str
    variant: str
    hidden: tuple[int, ...]
    members: int
    epochs: int
    batch_size: int
    lr: float
    shadows: int
    seed: int
    attack_model: str

    def to_json(self) -> str:
        """The shape as JSON (the child process reads it back with :meth:`from_json`)."""
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> PeerShape:
        """Inverse of :meth:`to_json`."""
        fields = json.loads(text)
        return cls(**{**fields, "hidden": tuple(fields["hidden"])})

    def model_seeds(self) -> list[int]:
        """Model k's seed (k = 0 the target), the same for leakbench and the plain loop."""
        return [derive_seed(self.seed, "peers", self.label, k) for k in range(self.shadows + 1)]


@dataclass(frozen=True)
class Case:
    """What a tool works on: the shape, the pool and the membership split."""

    shape: PeerShape
    pool: Pool
    splits: MembershipSplits

    def new_model(self, seed: int) -> nn.Module:
        """A freshly initialised MLP of the shape, drawn from ``seed``."""
        return seeded_model(
            arch="mlp",
            arch_params={"hidden": list(self.shape.hidden)},
            input_shape=self.pool.input_shape,
            num_classes=self.pool.num_classes,
            seed=seed,
        )

    def keep(self) -> np.ndarray:
        """bool [1 + shadows, N]: the target's training mask, then each shadow's."""
        return np.vstack([self.splits.target_in[None, :], self.splits.shadow_in])

    def eval_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """The evaluated records' indices and their membership in the target."""
        index = np.flatnonzero(self.splits.target_in | self.splits.target_out)
        return index, self.splits.target_in[index]


def _stacked(case: Case, params: dict[str, torch.Tensor], seeds: list[int]) -> StackedModels:
    """K trained models of the case's MLP as :class:`StackedModels`."""
    return StackedModels(
        arch="mlp",
        arch_params={"hidden": list(case.shape.hidden)},
        input_shape=case.pool.input_shape,
        num_classes=case.pool.num_classes,
        seeds=tuple(seeds),
        params=params,
    )


def _leakbench_attack(case: Case, models: StackedModels) -> float:
    """The study's query and Shokri attack on target = model 0, shadows = the rest."""
    target = dataclasses.replace(
        models, seeds=models.seeds[:1], params={k: v[:1] for k, v in models.params.items()}
    )
    shadows = dataclasses.replace(
        models, seeds=models.seeds[1:], params={k: v[1:] for k, v in models.params.items()}
    )
    outputs = query_models(
        pool=case.pool,
        splits=case.splits,
        target=target,
        shadows=shadows,
        noise_queries=NOISE_QUERIES,
        seed=case.shape.seed,
    )
    _, scores = evaluate_attack(
        outputs=outputs,
        attack=ATTACK,
        params={"attack_model": case.shape.attack_model},
        seed=case.shape.seed,
    )
    return scores["auc"]


def run_leakbench(case: Case) -> tuple[float, float, float]:
    """Train the 17 models in one stacked call; attack. Returns (train s, attack s, AUC)."""
    shape = case.shape
    start = time.perf_counter()
    models = train_stacked(
        arch="mlp",
        arch_params={"hidden": list(shape.hidden)},
        x=case.pool.x,
        y=case.pool.y,
        num_classes=case.pool.num_classes,
        keep=case.keep(),
        seeds=shape.model_seeds(),
        config=TrainConfig(epochs=shape.epochs, batch_size=shape.batch_size, lr=shape.lr),
    )
    trained = time.perf_counter()
    auc = _leakbench_attack(case, models)
    return trained - start, time.perf_counter() - trained, auc


def run_plain(case: Case) -> tuple[float, float, float]:
    """Train one model at a time with a DataLoader loop; attack as leakbench does."""
    shape = case.shape
    x, y = torch.from_numpy(case.pool.x), torch.from_numpy(case.pool.y)
    start = time.perf_counter()
    states = []
    for seed, mask in zip(shape.model_seeds(), case.keep(), strict=True):
        model = case.new_model(seed)
        rows = torch.from_numpy(np.flatnonzero(mask))
        loader = DataLoader(
            TensorDataset(x[rows], y[rows]),
            batch_size=shape.batch_size,
            shuffle=True,
            generator=torch.Generator().manual_seed(seed),
        )
        optimizer = torch.optim.Adam(model.parameters(), lr=shape.lr)
        loss_fn = nn.CrossEntropyLoss()
        model.train()
        for _ in range(shape.epochs):
            for xb, yb in loader:
                optimizer.zero_grad()
                loss_fn(model(xb), yb).backward()
                optimizer.step()
        states.append(model.state_dict())
    params = {name: torch.stack([s[name] for s in states]) for name in states[0]}
    trained = time.perf_counter()
    auc = _leakbench_attack(case, _stacked(case, params, shape.model_seeds()))
    return trained - start, time.perf_counter() - trained, auc


def run_art(case: Case) -> tuple[float, float, float]:
    """ART's ShadowModels and MembershipInferenceBlackBox with PyTorchClassifier models."""
    from art.attacks.inference.membership_inference import (
        MembershipInferenceBlackBox,
        ShadowModels,
    )
    from art.estimators.classification import PyTorchClassifier
    from art.estimators.classification.scikitlearn import ScikitlearnClassifier

    shape = case.shape

    class FixedFit(PyTorchClassifier):
        """ART's classifier whose ``fit`` uses the shape's epochs and batch size
        (``ShadowModels`` calls ``fit(x, y)`` with ART's defaults otherwise)."""

        def fit(self, x: np.ndarray, y: np.ndarray, **kwargs: Any) -> None:
            super().fit(x, y, batch_size=shape.batch_size, nb_epochs=shape.epochs, **kwargs)

    def classifier(seed: int) -> FixedFit:
        model = case.new_model(seed)
        return FixedFit(
            model=model,
            loss=nn.CrossEntropyLoss(),
            optimizer=torch.optim.Adam(model.parameters(), lr=shape.lr),
            input_shape=case.pool.input_shape,
            nb_classes=case.pool.num_classes,
        )

    seeds = shape.model_seeds()
    np.random.seed(seeds[0])  # ART shuffles batches with numpy's global generator
    torch.manual_seed(seeds[0])  # and re-initialises shadows with torch's
    x, y = case.pool.x, case.pool.y
    shadow_side = np.flatnonzero((case.splits.shadow_in | case.splits.shadow_out).any(axis=0))
    rng = np.random.default_rng(seeds[1])
    shadow_rows = rng.permutation(shadow_side)[: 2 * shape.members]
    start = time.perf_counter()
    target = classifier(seeds[0])
    target.fit(x[case.splits.target_in], y[case.splits.target_in])
    shadow_models = ShadowModels(classifier(seeds[1]), shape.shadows, random_state=seeds[1])
    (mx, my, mpred), (nx, ny, npred) = shadow_models.generate_shadow_dataset(
        x[shadow_rows], y[shadow_rows], member_ratio=0.5
    )
    trained = time.perf_counter()

    class BinaryLabels(ScikitlearnClassifier):
        """ART's sklearn wrapper given one-hot in/out labels (ART 1.20's black-box attack
        passes a supplied model 0/1 labels, which the wrapper's ``fit`` cannot read)."""

        def fit(self, x: np.ndarray, y: np.ndarray, **kwargs: Any) -> None:
            super().fit(x, np.eye(2)[np.asarray(y, dtype=np.int64)], **kwargs)

    attack_model = BinaryLabels(model=shokri_attack_model(shape.attack_model, shape.seed))
    attack = MembershipInferenceBlackBox(target, attack_model=attack_model)
    attack.fit(x=mx, y=my, test_x=nx, test_y=ny, pred=mpred, test_pred=npred)
    index, member = case.eval_rows()
    p_in = attack.infer(x[index], y[index], probabilities=True)[:, 1]  # [P(out), P(in)]
    auc = metrics.auc(scores=np.asarray(p_in, dtype=np.float64), member=member)
    return trained - start, time.perf_counter() - trained, auc


TOOLS: dict[str, Callable[[Case], tuple[float, float, float]]] = {
    "leakbench": run_leakbench,
    "art": run_art,
    "plain": run_plain,
}
"""The benchmarked tools by name, in printing order."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tool", choices=list(TOOLS))
    parser.add_argument("--data", type=Path, required=True, help="the shape's pool and splits")
    parser.add_argument("--shape", type=Path, required=True, help="the shape as JSON")
    parser.add_argument("--threads", type=int, required=True, help="torch CPU threads")
    args = parser.parse_args()
    configure_torch(args.threads)
    case = Case(
        shape=PeerShape.from_json(args.shape.read_text()),
        pool=Pool.load(args.data / "pool.npz"),
        splits=MembershipSplits.from_arrays(read_npz(args.data / "splits.npz")),
    )
    train_s, attack_s, auc = TOOLS[args.tool](case)
    print(json.dumps({"train_s": train_s, "attack_s": attack_s, "auc": auc}))


if __name__ == "__main__":
    main()
