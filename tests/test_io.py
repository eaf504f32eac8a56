"""Atomic, deterministic writers."""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from leakbench.io import (
    atomic_path,
    read_json,
    read_npz,
    remove_stale_temporaries,
    write_bytes,
    write_json,
    write_npz,
)


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_npz_bytes_depend_only_on_arrays(tmp_path):
    arrays = {"b": np.arange(5, dtype=np.int64), "a": np.eye(2, dtype=np.float32)}
    write_npz(tmp_path / "one.npz", **arrays)
    time.sleep(2.1)  # zip timestamps have 2-second resolution
    write_npz(tmp_path / "two.npz", **dict(reversed(list(arrays.items()))))
    assert _sha(tmp_path / "one.npz") == _sha(tmp_path / "two.npz")
    back = read_npz(tmp_path / "one.npz")
    assert sorted(back) == ["a", "b"]
    np.testing.assert_array_equal(back["a"], arrays["a"])


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.json"
    write_json(target, {"kept": 1})
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half written")
        raise RuntimeError("killed")
    assert read_json(target) == {"kept": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_a_writer_killed_mid_write_leaves_the_target_and_a_temporary_that_is_removable(
    tmp_path,
):
    target = tmp_path / "sub" / "model.safetensors"
    write_bytes(target, b"finished")
    killed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os, signal, sys\n"
            "from leakbench.io import atomic_path\n"
            "with atomic_path(sys.argv[1]) as tmp:\n"
            "    tmp.write_bytes(b'half')\n"
            "    os.kill(os.getpid(), signal.SIGKILL)\n",
            str(target),
        ],
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL
    assert target.read_bytes() == b"finished"
    (stale,) = [p for p in target.parent.iterdir() if p != target]
    assert stale.name.startswith(".model.safetensors.") and stale.name.endswith(".tmp")
    kept = [tmp_path / ".notes.tmp", tmp_path / "run.tmp", tmp_path / ".a.b.tmp"]
    for path in kept:
        path.write_text("not ours")
    assert remove_stale_temporaries(tmp_path) == [stale]
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == sorted(
        [".a.b.tmp", ".notes.tmp", "model.safetensors", "run.tmp"]
    )


def test_json_is_canonical_and_numpy_safe(tmp_path):
    write_json(tmp_path / "a.json", {"z": np.float32(0.5), "a": np.arange(2)})
    assert (tmp_path / "a.json").read_text() == '{\n  "a": [\n    0,\n    1\n  ],\n  "z": 0.5\n}\n'
    with pytest.raises(ValueError):
        write_json(tmp_path / "nan.json", {"x": float("nan")})
