"""The leakbench command line."""

from __future__ import annotations

import yaml

from leakbench.cli import main


def test_list_names_every_registry(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in (
        "datasets:",
        "adult",
        "purchase_synth",
        "checkin_synth",
        "attacks:",
        "shokri",
        "loss",
        "confidence",
        "architectures:",
        "cnn",
        "studies:",
        "membership",
        "collaborative_embedding",
    ):
        assert name in out, name


def test_validate_accepts_the_default_config(repo_root, capsys, monkeypatch):
    monkeypatch.chdir(repo_root)
    assert main(["validate", "config/config.yaml"]) == 0
    assert (
        "valid (studies: collaborative, collaborative_defences, collaborative_embedding, "
        "membership, membership_lira, "
        "memorisation, property_poisoning, privacy, scorecard, zhao)" in capsys.readouterr().out
    )


def test_validate_rejects_a_bad_config_with_exit_2(repo_root, tmp_path, capsys, monkeypatch):
    config = yaml.safe_load((repo_root / "config/test.yaml").read_text())
    config["membership"]["grid"][0]["members"] = 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(config))
    monkeypatch.chdir(repo_root)
    assert main(["validate", str(bad)]) == 2
    assert "membership.grid.0.members: 0 is less than the minimum of 1" in capsys.readouterr().err


def test_fetch_without_a_digest_stops_and_record_digest_pins_it(tmp_path, capsys, monkeypatch):
    from leakbench.data import sources

    published = tmp_path / "dataset_location.tgz"
    published.write_bytes(b"stand-in bytes")
    raw = sources.RawFile(
        filename="dataset_location.tgz",
        sha256=sources.UNSTATED,
        sources=(sources.LocalSource(published),),
    )

    class Spec:
        raw_files = (raw,)

    monkeypatch.setattr("leakbench.data.registry.get_dataset", lambda name: Spec())
    raw_dir = tmp_path / "raw"
    assert main(["fetch", "location30", "--raw-dir", str(raw_dir)]) == 2
    assert "--record-digest" in capsys.readouterr().err
    assert main(["fetch", "location30", "--raw-dir", str(raw_dir), "--record-digest"]) == 0
    assert (raw_dir / "dataset_location.tgz.sha256").read_text().strip() == sources.sha256_file(
        published
    )
    assert main(["fetch", "location30", "--raw-dir", str(raw_dir)]) == 0
