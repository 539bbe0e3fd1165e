"""Charts drawn as SVG on the server: no script, no library, readable at a glance and in print."""

from __future__ import annotations

import datetime as dt

from markupsafe import Markup, escape

INK, BAR, GRID = "#1d2330", "#24508f", "#d9d6cc"


def _nice_max(value: int) -> int:
    for step in (4, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 50000):
        if value <= step:
            return step
    return value


def columns(
    points: list[tuple[dt.date, int]], title: str, width: int = 720, height: int = 220
) -> Markup:
    """Draw one column per day (loans per day), weekends lighter, a label per week."""
    left, bottom, top = 40, 24, 10
    top_value = _nice_max(max((n for _, n in points), default=0) or 1)
    plot_w, plot_h = width - left - 8, height - bottom - top
    step = plot_w / max(1, len(points))
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for frac in (0, 0.5, 1) if top_value % 2 == 0 else (0, 1):
        y = top + plot_h * (1 - frac)
        parts.append(
            f'<line x1="{left}" x2="{width - 8}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="{INK}">{int(top_value * frac)}</text>'
        )
    for i, (day, n) in enumerate(points):
        h = plot_h * n / top_value
        x = left + i * step
        fill = BAR if day.isoweekday() < 6 else "#9fb3d1"
        parts.append(
            f'<rect x="{x + step * 0.1:.1f}" y="{top + plot_h - h:.1f}" '
            f'width="{max(1.0, step * 0.8):.1f}" height="{h:.1f}" fill="{fill}">'
            f"<title>{day.isoformat()}: {n}</title></rect>"
        )
        if day.isoweekday() == 1:
            parts.append(
                f'<text x="{x:.1f}" y="{height - 6}" font-size="11" fill="{INK}">'
                f"{day.month}/{day.day}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def bars(rows: list[tuple[str, int]], title: str, width: int = 520) -> Markup:
    """Draw horizontal bars with their labels and numbers (per class, top books)."""
    row_h, label_w = 24, 170
    height = max(1, len(rows)) * row_h + 8
    top_value = max((n for _, n in rows), default=0) or 1
    plot_w = width - label_w - 50
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, (label, n) in enumerate(rows):
        y = 4 + i * row_h
        w = plot_w * n / top_value
        short = label if len(label) <= 14 else label[:13] + "…"
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 16}" text-anchor="end" font-size="13" '
            f'fill="{INK}">{escape(short)}<title>{escape(label)}</title></text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{max(1.0, w):.1f}" height="{row_h - 8}" '
            f'fill="{BAR}"/><text x="{label_w + w + 6:.1f}" y="{y + 16}" font-size="13" '
            f'fill="{INK}">{n}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
