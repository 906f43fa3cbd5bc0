"""A real (tiny) PNG for tests that stand in for GetMetricWidgetImage."""

from __future__ import annotations

import struct
import zlib


def png(width: int = 800, height: int = 400) -> bytes:
    """A white grayscale PNG of ``width`` x ``height``: the size GetMetricWidgetImage draws for the product."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")
