"""Charts drawn on the server as inline SVG: no chart library, no script, no other host.

Colours come from CSS classes in the console's stylesheet (the CSP forbids inline styles);
every chart has a title and a description for screen readers, and the page shows the same
numbers in a table next to it.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from gateway.console.overview import DayCounts

WIDTH = 640
HEIGHT = 236
MARGIN_LEFT = 44
MARGIN_BOTTOM = 44
MARGIN_TOP = 12


def _nice_max(value: int) -> int:
    """A round axis maximum at or above ``value`` (1, 2, 5 times a power of ten)."""
    if value <= 0:
        return 1
    magnitude = 1
    while magnitude * 10 <= value:
        magnitude *= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def stacked_days(days: Sequence[DayCounts], *, title: str, labels: dict[str, str]) -> Markup:
    """Requests per day as stacked bars (allowed, denied, without decision)."""
    top = _nice_max(max((day.total for day in days), default=0))
    plot_w = WIDTH - MARGIN_LEFT - 8
    plot_h = HEIGHT - MARGIN_BOTTOM - MARGIN_TOP
    slot = plot_w / max(len(days), 1)
    bar = max(slot * 0.7, 1.0)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="chart-days-title chart-days-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="chart-days-title">{escape(title)}</title>',
        f'<desc id="chart-days-desc">{escape(_describe(days, labels))}</desc>',
    ]
    for fraction in (0, 0.5, 1):
        y = MARGIN_TOP + plot_h * (1 - fraction)
        parts.append(
            f'<line class="grid" x1="{MARGIN_LEFT}" x2="{WIDTH - 8}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="axis" x="{MARGIN_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{round(top * fraction)}</text>"
        )
    label_every = max(1, -(-len(days) // 6))  # at most six dates: readable on a phone too
    for index, day in enumerate(days):
        x = MARGIN_LEFT + index * slot + (slot - bar) / 2
        base = float(MARGIN_TOP + plot_h)
        for kind, value in (("allow", day.allow), ("deny", day.deny), ("other", day.other)):
            if not value:
                continue
            height = plot_h * value / top
            base -= height
            parts.append(
                f'<rect class="bar-{kind}" x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" '
                f'height="{height:.1f}"><title>{escape(day.day.isoformat())}: '
                f"{value} {escape(labels[kind])}</title></rect>"
            )
        if index % label_every == 0:
            centre = x + bar / 2
            anchor = "start" if index == 0 else "end" if centre > WIDTH - 48 else "middle"
            parts.append(
                f'<text class="axis" x="{x + bar / 2:.1f}" y="{HEIGHT - 6}" '
                f'text-anchor="{anchor}">{day.day.strftime("%d-%m")}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every interpolated text is escaped above)


def _describe(days: Sequence[DayCounts], labels: dict[str, str]) -> str:
    total = {kind: sum(getattr(day, kind) for day in days) for kind in ("allow", "deny", "other")}
    return ", ".join(f"{value} {labels[kind]}" for kind, value in total.items())


def horizontal_bars(rows: Sequence[tuple[str, int]], *, title: str, chart_id: str) -> Markup:
    """One bar per group (partner, purpose), longest first.

    Names and counts are HTML text (they keep the page's font size on any screen); only the
    bar itself is drawn, as a decorative SVG whose length the count beside it states.
    """
    top = max((count for _, count in rows), default=0) or 1
    parts = [f'<ul class="hbars" id="{escape(chart_id)}" aria-label="{escape(title)}">']
    for name, count in rows:
        width = max(100 * count / top, 0.5)
        parts.append(
            f'<li><span class="hbar-name">{escape(name)}</span>'
            f'<svg class="hbar" viewBox="0 0 100 10" preserveAspectRatio="none" '
            f'aria-hidden="true" focusable="false" xmlns="http://www.w3.org/2000/svg">'
            f'<rect class="bar-group" x="0" y="0" width="{width:.1f}" height="10"/></svg>'
            f'<span class="hbar-count">{count}</span></li>'
        )
    parts.append("</ul>")
    return Markup("".join(parts))  # noqa: S704 (every interpolated text is escaped above)
