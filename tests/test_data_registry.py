"""The dataset registry and the pinned sources of every real dataset."""

from __future__ import annotations

import pytest

from leakbench.data.registry import DATASETS, get_dataset
from leakbench.data.sources import UrlSource
from leakbench.errors import ConfigError, UnknownNameError


def test_unknown_dataset_lists_the_allowed_names():
    with pytest.raises(UnknownNameError) as err:
        get_dataset("imagenet")
    assert isinstance(err.value, ConfigError)
    assert str(err.value) == (
        "dataset: unknown value 'imagenet'; allowed: adult, checkin_synth, cifar10, cifar100, "
        "fashion_mnist, foursquare_tsmc, lfw, location30, location_synth, mnist5k, purchase100, "
        "purchase_synth, purchase_synth10, purchase_synth2, purchase_synth20, purchase_synth50, "
        "texas100"
    )


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_spec_is_consistent(name):
    spec = get_dataset(name)
    assert spec.name == name
    assert spec.synthetic == (not spec.raw_files)
    if spec.synthetic:
        assert "synthetic" in spec.description.lower()
    for raw in spec.raw_files:
        assert isinstance(raw.sources[0], UrlSource), f"{raw.filename}: official source first"
        assert len(raw.sources) >= 2, f"{raw.filename}: needs a mirror"


def test_real_datasets_pin_the_measured_hashes():
    pins = {raw.filename: raw.sha256 for spec in DATASETS.values() for raw in spec.raw_files}
    assert pins["adult.data"] == "5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d"
    assert pins["adult.test"] == "a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05"
    assert (
        pins["mnist_5k.csv.gz"]
        == "846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d"
    )
