"""Small server-side SVG charts for admin pages: stacked horizontal bars and line series.

The charts are plain inline SVG, so pages need no JavaScript and no third-party
assets. Each chart carries a ``<title>`` and ``<desc>`` (referenced by
``aria-labelledby``) and a ``<title>`` per bar segment or point, which browsers
show as a tooltip. Every piece of text is escaped here, because labels come
from data (channel names, statuses) and end up inside markup.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe

FONT = 'font-family="system-ui, sans-serif" font-size="12"'
_ids = itertools.count(1)


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    color: str


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def nice_max(value: float) -> float:
    """The smallest round number (1, 1.2, 1.5, 2, … 8 × 10ⁿ) at or above ``value``, at least 1."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if step * power >= value)


def _open(width: int, height: int, title: str, desc: str) -> list[str]:
    uid = f"chart{next(_ids)}"
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-width:{width}px" role="img" '
        f'aria-labelledby="{uid}-title {uid}-desc" {FONT}>',
        f'<title id="{uid}-title">{_e(title)}</title>',
        f'<desc id="{uid}-desc">{_e(desc)}</desc>',
    ]


LEGEND_ROW = 18


def _legend_rows(series: list[Series], x0: int, width: int) -> list[list[tuple[int, Series]]]:
    """Legend entries placed left to right, wrapping to a new row before the right edge."""
    rows: list[list[tuple[int, Series]]] = [[]]
    x = x0
    for s in series:
        item_w = 28 + 7 * len(s.label)
        if rows[-1] and x + item_w > width:
            rows.append([])
            x = x0
        rows[-1].append((x, s))
        x += item_w
    return rows


def _legend(rows: list[list[tuple[int, Series]]], y0: int) -> list[str]:
    parts = []
    for r, row in enumerate(rows):
        y = y0 + r * LEGEND_ROW
        parts += [f'<rect x="{x}" y="{y}" width="12" height="12" fill="{_e(s.color)}"/>'
                  f'<text x="{x + 16}" y="{y + 10}" fill="currentColor">{_e(s.label)}</text>'
                  for x, s in row]
    return parts


def stacked_bars(*, title: str, desc: str, rows: list[tuple[str, dict[str, int]]],
                 series: list[Series], width: int = 720) -> SafeString:
    """One horizontal bar per ``(label, {series key: value})`` row, its segments stacked."""
    label_w, value_w, bar_h, gap, top = 130, 60, 22, 8, 8
    plot_w = width - label_w - value_w
    shown = [s for s in series if any(values.get(s.key) for _, values in rows)]
    peak = max((sum(values.values()) for _, values in rows), default=0)
    scale = plot_w / nice_max(peak)
    legend = _legend_rows(shown, label_w, width)
    bars_h = top + max(len(rows), 1) * (bar_h + gap)
    height = bars_h + 10 + len(legend) * LEGEND_ROW
    parts = _open(width, height, title, desc)
    if not rows:
        parts.append(f'<text x="{width // 2}" y="{top + 18}" text-anchor="middle" '
                     f'fill="currentColor">No deliveries in this period.</text>')
    for i, (label, values) in enumerate(rows):
        y = top + i * (bar_h + gap)
        parts.append(f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end" '
                     f'fill="currentColor">{_e(label)}</text>')
        x = float(label_w)
        for s in shown:
            value = values.get(s.key, 0)
            if not value:
                continue
            w = value * scale
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{max(w, 1):.1f}" height="{bar_h}" '
                         f'fill="{_e(s.color)}"><title>{_e(label)}, {_e(s.label)}: {value}'
                         f'</title></rect>')
            x += w
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 15}" fill="currentColor">'
                     f'{sum(values.values())}</text>')
    parts += _legend(legend, bars_h + 6)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 — every interpolated text went through _e


def line_series(*, title: str, desc: str, x_labels: list[str], series: list[Series],
                values: dict[str, list[int]], label_every: int = 1,
                width: int = 720, height: int = 240) -> SafeString:
    """One line per series over ``x_labels``; ``values[series.key]`` has one number per label."""
    left, right, top = 44, 36, 10
    legend = _legend_rows(series, left, width)
    bottom = 32 + len(legend) * LEGEND_ROW
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(x_labels), 1)
    step = plot_w / max(n - 1, 1)
    peak = nice_max(max((v for s in series for v in values.get(s.key, [])), default=0))
    parts = _open(width, height, title, desc)
    for tick in range(5):
        value = peak * tick / 4
        y = top + plot_h - plot_h * tick / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="currentColor" stroke-opacity="0.15"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" '
                     f'fill="currentColor">{value:g}</text>')
    for i, label in enumerate(x_labels):
        if i % label_every == 0 or i == n - 1:
            parts.append(f'<text x="{left + i * step:.1f}" y="{top + plot_h + 16}" '
                         f'text-anchor="middle" fill="currentColor">{_e(label)}</text>')
    for s in series:
        points = [(left + i * step, top + plot_h - plot_h * v / peak)
                  for i, v in enumerate(values.get(s.key, []))]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{_e(s.color)}" '
                     f'stroke-width="2"/>')
        for (x, y), label, v in zip(points, x_labels, values.get(s.key, []), strict=False):
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{_e(s.color)}">'
                         f'<title>{_e(label)}, {_e(s.label)}: {v}</title></circle>')
    parts += _legend(legend, top + plot_h + 28)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 — every interpolated text went through _e
