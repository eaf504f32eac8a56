"""Training: hyper-parameters, the stacked trainer, its sequential reference, checkpoints."""

from leakbench.training.checkpoint import load_models, save_models
from leakbench.training.config import TrainConfig
from leakbench.training.sequential import train_sequential
from leakbench.training.stacked import StackedModels, predict_logits, train_stacked

__all__ = [
    "StackedModels",
    "TrainConfig",
    "load_models",
    "predict_logits",
    "save_models",
    "train_sequential",
    "train_stacked",
]
