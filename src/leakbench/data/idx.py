"""Reader of the IDX format of the MNIST family (LeCun et al., "THE MNIST DATABASE").

Layout: a 4-byte magic number ``0x00 0x00 <dtype code> <number of dimensions>``, then one
big-endian uint32 per dimension, then the values in row-major (C) order, big-endian.
Gzip-compressed files (recognised by their first two bytes, 0x1f 0x8b) are decompressed
transparently.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

from leakbench.errors import DataError

# dtype code -> big-endian numpy dtype, per the format's definition.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (plain or gzip-compressed) into a native-endian array.

    Raises:
        DataError: naming the file, if it is not valid gzip, has a bad magic number or an
            unknown dtype code, or is truncated or too long for its declared dimensions.
    """
    data = Path(path).read_bytes()
    if data[:2] == _GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as err:
            raise DataError(f"{path}: not a valid gzip stream: {err}") from err
    return parse_idx(data, name=str(path))


def parse_idx(data: bytes, *, name: str) -> np.ndarray:
    """Parse the bytes of an uncompressed IDX file; ``name`` labels errors.

    Raises:
        DataError: see :func:`read_idx`.
    """
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise DataError(
            f"{name}: bad IDX magic number {data[:4].hex() or '(empty)'}; "
            "allowed: 0000 followed by a dtype code and a dimension count"
        )
    code, ndim = data[2], data[3]
    if code not in IDX_DTYPES:
        allowed = ", ".join(f"0x{c:02x}" for c in IDX_DTYPES)
        raise DataError(f"{name}: unknown IDX dtype code 0x{code:02x}; allowed: {allowed}")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(
            f"{name}: truncated IDX header: {len(data)} bytes, need {header} for {ndim} dims"
        )
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found = len(data) - header
    if found != expected:
        problem = "truncated" if found < expected else "too long"
        raise DataError(
            f"{name}: {problem} IDX data: {found} bytes after the header, expected {expected} "
            f"for shape {shape} of {dtype}"
        )
    values = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return values.astype(dtype.newbyteorder("="))
