"""Training: hyper-parameters, the stacked trainer (fast path and torch.func fallback, one
loop with hooks), its sequential reference, prediction and checkpoints."""

from leakbench.training.checkpoint import load_models, save_models
from leakbench.training.config import OPTIMIZERS, TrainConfig
from leakbench.training.device import DEVICE_ENV, resolve_device
from leakbench.training.engine import ENGINES, make_engine
from leakbench.training.ensemble import StackedModels, seeded_model
from leakbench.training.fast_registry import register_stacked_layer
from leakbench.training.hooks import Hooks, Progress
from leakbench.training.predict import logits_function, predict_logits
from leakbench.training.sequential import train_sequential
from leakbench.training.stacked import TrainedStack, train_modules, train_stacked

__all__ = [
    "DEVICE_ENV",
    "ENGINES",
    "OPTIMIZERS",
    "Hooks",
    "Progress",
    "StackedModels",
    "TrainConfig",
    "TrainedStack",
    "load_models",
    "logits_function",
    "make_engine",
    "predict_logits",
    "register_stacked_layer",
    "resolve_device",
    "save_models",
    "seeded_model",
    "train_modules",
    "train_sequential",
    "train_stacked",
]
