"""A rectification-progress chart as PNG, drawn with the standard library only.

matplotlib would add tens of megabytes and about a second of import time to every worker
for one picture; a bar chart needs rectangles, a few digits and a PNG encoder (zlib +
struct). The chart: per period, the cumulative registered hazards as a grey bar with the
cumulative closed ones as a green bar in front of it, the y-axis maximum and the first and
last dates written in a small built-in digit font. Labels in words belong to the client.
"""

import struct
import zlib
from collections.abc import Sequence

from app.stats.schemas import TimePoint

Color = tuple[int, int, int]
WHITE: Color = (255, 255, 255)
AXIS: Color = (60, 60, 60)
GRID: Color = (225, 225, 225)
REGISTERED: Color = (176, 186, 197)
CLOSED: Color = (46, 160, 67)


# 3×5 glyphs for digits and the date separator.
_GLYPHS = {
    "0": ("111", "101", "101", "101", "111"),
    "1": ("010", "110", "010", "010", "111"),
    "2": ("111", "001", "111", "100", "111"),
    "3": ("111", "001", "111", "001", "111"),
    "4": ("101", "101", "111", "001", "001"),
    "5": ("111", "100", "111", "001", "111"),
    "6": ("111", "100", "111", "101", "111"),
    "7": ("111", "001", "010", "010", "010"),
    "8": ("111", "101", "111", "101", "111"),
    "9": ("111", "101", "111", "001", "111"),
    "-": ("000", "000", "111", "000", "000"),
}


class Canvas:
    def __init__(self, width: int, height: int, background: Color = WHITE) -> None:
        self.width, self.height = width, height
        self.rows = [bytearray(bytes(background) * width) for _ in range(height)]

    def rect(self, x0: int, y0: int, x1: int, y1: int, color: Color) -> None:
        """Fill [x0, x1) × [y0, y1), clipped to the canvas."""
        x0, x1 = max(0, min(x0, x1)), min(self.width, max(x0, x1))
        y0, y1 = max(0, min(y0, y1)), min(self.height, max(y0, y1))
        if x0 >= x1:
            return
        span = bytes(color) * (x1 - x0)
        for y in range(y0, y1):
            self.rows[y][x0 * 3 : x1 * 3] = span

    def text(self, x: int, y: int, value: str, color: Color = AXIS, scale: int = 2) -> int:
        """Write digits and '-' with the top-left corner at (x, y); returns the width used."""
        start = x
        for char in value:
            glyph = _GLYPHS.get(char)
            if glyph is not None:
                for gy, line in enumerate(glyph):
                    for gx, bit in enumerate(line):
                        if bit == "1":
                            self.rect(
                                x + gx * scale,
                                y + gy * scale,
                                x + (gx + 1) * scale,
                                y + (gy + 1) * scale,
                                color,
                            )
            x += 4 * scale
        return x - start

    def png(self) -> bytes:
        raw = b"".join(b"\x00" + bytes(row) for row in self.rows)

        def chunk(kind: bytes, data: bytes) -> bytes:
            body = kind + data
            return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 6))
            + chunk(b"IEND", b"")
        )


def progress_png(points: Sequence[TimePoint], width: int = 800, height: int = 360) -> bytes:
    canvas = Canvas(width, height)
    left, right, top, bottom = 60, 20, 20, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((p.cumulative_registered for p in points), default=0) or 1
    for i in range(5):  # horizontal grid lines at quarters
        y = top + plot_h * i // 4
        canvas.rect(left, y, left + plot_w, y + 1, GRID)
    slot = plot_w / max(len(points), 1)
    bar = max(1, int(slot * 0.8))
    for i, point in enumerate(points):
        x = left + int(i * slot + (slot - bar) / 2)
        reg_h = round(plot_h * point.cumulative_registered / peak)
        closed_h = round(plot_h * point.cumulative_closed / peak)
        canvas.rect(x, top + plot_h - reg_h, x + bar, top + plot_h, REGISTERED)
        inner = max(1, bar // 2)
        offset = (bar - inner) // 2
        canvas.rect(x + offset, top + plot_h - closed_h, x + offset + inner, top + plot_h, CLOSED)
    canvas.rect(left - 1, top, left, top + plot_h + 1, AXIS)
    canvas.rect(left - 1, top + plot_h, left + plot_w, top + plot_h + 1, AXIS)
    canvas.text(6, top, str(peak))
    canvas.text(6, top + plot_h - 10, "0")
    if points:
        canvas.text(left, height - 24, points[0].period.isoformat())
        last = points[-1].period.isoformat()
        canvas.text(width - right - 8 * len(last), height - 24, last)
    # Legend swatches: grey = registered, green = closed.
    canvas.rect(width - 90, 4, width - 78, 14, REGISTERED)
    canvas.rect(width - 50, 4, width - 38, 14, CLOSED)
    return canvas.png()
