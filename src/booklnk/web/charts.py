"""Bar charts as inline SVG, drawn on the server (pure): no chart library, no CDN, nothing
to download; each bar has its value as a tooltip and the chart a summary for screen
readers (the numbers are also in the table beside it and in the CSV)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT, GAP = 600, 180, 2


def bars(points: Sequence[tuple[str, int]], *, summary: str, written: Callable[[int], str]) -> Markup:
    """Vertical bars left to right (time reads so in either language), scaled to the
    largest value; negative values (a refund-only day) draw as nothing above the axis."""
    if not points:
        return Markup("")
    top = max(max(value for _, value in points), 1)
    width = WIDTH / len(points)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(summary)}"'
        ' preserveAspectRatio="none" dir="ltr">'
    ]
    for index, (label, value) in enumerate(points):
        height = max(value, 0) / top * (HEIGHT - 10)
        x = index * width + GAP / 2
        parts.append(
            f'<rect x="{x:.1f}" y="{HEIGHT - height:.1f}" width="{max(width - GAP, 1):.1f}"'
            f' height="{height:.1f}"><title>{escape(label)}: {escape(written(value))}</title></rect>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
