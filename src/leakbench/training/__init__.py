"""Training: hyper-parameters, the stacked trainer, its sequential reference, checkpoints."""

from leakbench.training.checkpoint import load_models, save_models
from leakbench.training.config import OPTIMIZERS, TrainConfig
from leakbench.training.device import DEVICE_ENV, resolve_device
from leakbench.training.ensemble import StackedModels, seeded_model
from leakbench.training.predict import predict_logits
from leakbench.training.sequential import train_sequential
from leakbench.training.stacked import train_stacked

__all__ = [
    "DEVICE_ENV",
    "OPTIMIZERS",
    "StackedModels",
    "TrainConfig",
    "load_models",
    "predict_logits",
    "resolve_device",
    "save_models",
    "seeded_model",
    "train_sequential",
    "train_stacked",
]
