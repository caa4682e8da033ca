"""IDX files: the array format of MNIST and Fashion-MNIST (Y. LeCun's site), raw or gzip-compressed.

An IDX file is a 4-byte magic number ``00 00 <type> <ndim>``, then ``ndim`` big-endian uint32
sizes, then the values in row-major order, big-endian.  Nothing in a file is executed: reading one
is parsing a header and handing the rest to numpy.

>>> import gzip, io, numpy as np
>>> raw = bytes([0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3]) + bytes(range(6))
>>> read_idx(io.BytesIO(raw)).tolist()
[[0, 1, 2], [3, 4, 5]]
>>> read_idx(io.BytesIO(gzip.compress(raw))).shape
(2, 3)
"""

from __future__ import annotations

import gzip
import math
import os
from typing import IO

import numpy as np

__all__ = ["read_idx", "IdxError"]

# type byte -> big-endian numpy dtype
_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_GZIP_MAGIC = b"\x1f\x8b"


class IdxError(ValueError):
    """The bytes are not a well-formed IDX file (the message names the file and what is wrong)."""


def read_idx(source: str | os.PathLike | IO[bytes]) -> np.ndarray:
    """The array stored in an IDX file (a path or a binary file object), gzip-compressed or not.

    Raises :class:`IdxError` (a ValueError) naming the file when the header or the length is wrong.  A
    declared size of 0 gives an empty array of that shape (the format allows it).
    """
    name = os.fspath(source) if isinstance(source, (str, os.PathLike)) else getattr(source, "name", "<stream>")
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as f:
            data = f.read()
    else:
        data = source.read()
    if data[:2] == _GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as e:
            raise IdxError(f"read_idx: {name!s}: a damaged gzip file ({e})") from None
    return _parse(data, str(name))


def _parse(data: bytes, name: str) -> np.ndarray:
    if len(data) < 4:
        raise IdxError(f"read_idx: {name}: too short for an IDX header ({len(data)} bytes)")
    if data[0] != 0 or data[1] != 0:
        raise IdxError(f"read_idx: {name}: not an IDX file (magic number {data[:4].hex()}, expected 0000 <type> "
                       "<ndim>)")
    code, ndim = data[2], data[3]
    if code not in _DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in _DTYPES)
        raise IdxError(f"read_idx: {name}: unknown value type 0x{code:02X} (known: {known})")
    if ndim == 0:
        raise IdxError(f"read_idx: {name}: the header declares 0 dimensions")
    end = 4 + 4 * ndim
    if len(data) < end:
        raise IdxError(f"read_idx: {name}: the header declares {ndim} dimensions but the file ends at byte "
                       f"{len(data)}")
    shape = tuple(int(s) for s in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_DTYPES[code])
    count = math.prod(shape)  # Python ints: sizes whose product passes int64 cannot wrap around to match
    expected = count * dtype.itemsize
    if len(data) - end != expected:
        raise IdxError(f"read_idx: {name}: shape {shape} of {dtype.itemsize}-byte values needs {expected:,} bytes "
                       f"of data, the file has {len(data) - end:,}")
    # Native byte order, writable, owning its memory (frombuffer over bytes would be read-only); a size
    # of 0 (a well-formed file holding no values) is an empty array of the declared shape.
    values = np.frombuffer(data, dtype=dtype, count=count, offset=end)
    return values.astype(dtype.newbyteorder("="), copy=True).reshape(shape)
