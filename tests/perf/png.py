"""A minimal PNG reader (8-bit RGB/RGBA, non-interlaced: what Chromium's screenshots are), stdlib only."""

from __future__ import annotations

import struct
import zlib


def read_png(data: bytes) -> tuple[int, int, int, bytes]:
    """Returns (width, height, channels, raw pixel bytes, rows top to bottom)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        chunk = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    out = bytearray()
    previous = bytearray(stride)
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                predictor = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
                line[i] = (line[i] + predictor) & 0xFF
        out += line
        previous = line
    return width, height, channels, bytes(out)


def count_colour(png: tuple[int, int, int, bytes], rgb: tuple[int, int, int], box=None, tolerance: int = 12) -> int:
    width, height, channels, pixels = png
    x0, y0, x1, y1 = box or (0, 0, width, height)
    count = 0
    for y in range(y0, min(y1, height)):
        base = y * width * channels
        for x in range(x0, min(x1, width)):
            i = base + x * channels
            if all(abs(pixels[i + c] - rgb[c]) <= tolerance for c in range(3)):
                count += 1
    return count


def distinct_colours(png: tuple[int, int, int, bytes], step: int = 7) -> int:
    width, height, channels, pixels = png
    seen = set()
    for i in range(0, width * height * channels, channels * step):
        seen.add(bytes(pixels[i : i + 3]))
    return len(seen)
