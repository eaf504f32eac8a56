"""Single-thread workers (leakbench.training.workers) and the trainers that use them."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from conftest import ARCHS, CLASSES, random_data

from leakbench.errors import ConfigError
from leakbench.training import Hooks, TrainConfig, train_sequential, train_stacked
from leakbench.training.workers import groups, run_groups, worker_count

CPU = torch.device("cpu")


@pytest.fixture
def two_threads():
    """torch at two intra-op threads, restored after."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_groups_are_contiguous_and_the_first_take_the_remainder():
    assert groups(5, 2) == [slice(0, 3), slice(3, 5)]
    assert groups(7, 3) == [slice(0, 3), slice(3, 5), slice(5, 7)]
    assert groups(4, 1) == [slice(0, 4)]
    assert groups(2, 2) == [slice(0, 1), slice(1, 2)]


def test_worker_count_follows_threads_and_models(two_threads):
    assert worker_count(None, 8, CPU) == 2  # the job's thread count
    assert worker_count(None, 1, CPU) == 1  # never more workers than models
    assert worker_count(3, 2, CPU) == 2
    assert worker_count(1, 8, CPU) == 1
    assert worker_count(None, 8, torch.device("meta")) == 1  # the CPU only


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "2"])
def test_bad_worker_counts_name_key_value_and_allowed(value):
    with pytest.raises(ConfigError, match=rf"workers: {value!r} is not allowed; allowed: None"):
        worker_count(value, 4, CPU)


def test_run_groups_runs_each_group_on_its_own_single_thread_worker(two_threads):
    seen = []

    def train(part):
        seen.append((part, torch.get_num_threads(), threading.current_thread().name))
        return part.stop - part.start

    assert run_groups(5, 2, train) == [3, 2]  # in the groups' order
    assert {threads for _, threads, _ in seen} == {1}
    assert len({name for _, _, name in seen}) == 2
    assert all(name.startswith("leakbench-worker") for _, _, name in seen)
    assert torch.get_num_threads() == 2  # restored


def test_one_group_runs_in_the_calling_thread_with_its_threads(two_threads):
    seen = []
    here = threading.current_thread()
    run_groups(
        3, 1, lambda part: seen.append((torch.get_num_threads(), threading.current_thread()))
    )
    assert seen == [(2, here)]


def test_a_workers_error_reaches_the_caller_and_threads_are_restored(two_threads):
    def train(part):
        if part.start:
            raise ConfigError("keep: bad")
        return 0

    with pytest.raises(ConfigError, match="keep: bad"):
        run_groups(2, 2, train)
    assert torch.get_num_threads() == 2


def _train(trainer, workers, seeds=(3, 4, 5), hooks=None):
    params, shape = ARCHS["mlp"]
    x, y = random_data(shape, n=45)
    rng = np.random.default_rng(1)
    keep = np.zeros((len(seeds), len(y)), dtype=bool)
    for k, row in enumerate(keep):
        row[rng.choice(len(y), 20 + k, replace=False)] = True  # unequal counts too
    extra = {} if hooks is None else {"hooks": hooks}
    return trainer(
        arch="mlp",
        arch_params=params,
        x=x,
        y=y,
        num_classes=CLASSES,
        keep=keep,
        seeds=list(seeds),
        config=TrainConfig(epochs=3, batch_size=8, lr=0.05),
        workers=workers,
        **extra,
    )


@pytest.mark.parametrize("trainer", [train_stacked, train_sequential])
def test_workers_give_the_same_models_and_the_same_bytes_on_rerun(trainer, two_threads):
    one = _train(trainer, 1)
    two = _train(trainer, None)  # two workers at two threads
    again = _train(trainer, None)
    assert one.seeds == two.seeds
    for name, p in two.params.items():
        assert p.shape == one.params[name].shape
        torch.testing.assert_close(p, one.params[name], rtol=1e-5, atol=1e-6)
        assert torch.equal(p, again.params[name])


def test_stacked_workers_equal_each_group_trained_as_its_own_stack(two_threads):
    two = _train(train_stacked, 2)
    with_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        first = _train(train_stacked, 1, seeds=(3, 4))
    finally:
        torch.set_num_threads(with_threads)
    for name, p in first.params.items():
        assert torch.equal(two.params[name][:2], p)


def test_hooks_keep_the_whole_stack_in_one_worker(two_threads):
    counts = []
    hooks = Hooks(callback=lambda progress: counts.append(len(progress.params["1.weight"])))
    _train(train_stacked, 2, hooks=hooks)
    assert counts and set(counts) == {3}


@pytest.mark.parametrize(("dropout", "workers"), [(0.0, 2), (0.5, 1)])
def test_plain_loop_keeps_models_with_dropout_in_one_worker(
    monkeypatch, two_threads, dropout, workers
):
    """nn.Dropout draws from torch's one global generator, which threads share: two
    workers would interleave their draws differently from run to run."""
    import leakbench.training.sequential as sequential

    used = []
    real = sequential.run_groups
    monkeypatch.setattr(
        sequential,
        "run_groups",
        lambda count, chosen, train: used.append(chosen) or real(count, chosen, train),
    )
    params, shape = ARCHS["mlp"]
    x, y = random_data(shape, n=24)
    train_sequential(
        arch="mlp",
        arch_params={**params, "dropout": dropout},
        x=x,
        y=y,
        num_classes=CLASSES,
        keep=np.ones((2, len(y)), dtype=bool),
        seeds=[1, 2],
        config=TrainConfig(epochs=1, batch_size=8, lr=0.05),
    )
    assert used == [workers]
