"""The dataset registry: config names -> :class:`DatasetSpec`, in one place.

To add a dataset, write a module beside this one that defines a ``SPEC`` and list it here.
"""

from __future__ import annotations

from leakbench.data import (
    adult,
    cifar,
    fashion_mnist,
    foursquare,
    lfw,
    location,
    mnist,
    purchase,
    shokri_sets,
    text_synth,
)
from leakbench.data.spec import DatasetSpec
from leakbench.errors import UnknownNameError

DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        adult.SPEC,
        mnist.SPEC,
        fashion_mnist.SPEC,
        *purchase.SPECS,
        location.SPEC,
        *shokri_sets.SPECS,
        *cifar.SPECS,
        lfw.SPEC,
        foursquare.SPEC,
        text_synth.SPEC,
    )
}


def get_dataset(name: str) -> DatasetSpec:
    """Return the spec registered under ``name``.

    Raises:
        UnknownNameError: naming the key ``dataset``, the value and the registered names.
    """
    try:
        return DATASETS[name]
    except KeyError:
        raise UnknownNameError("dataset", name, DATASETS) from None
