"""A bar chart of the verdicts by clause family, as inline SVG (no script, no network).

One row per family, in the order the run met them: a bar as long as the family has
clauses, split into passed, failed, undecided and not applicable, with the counts
written beside it. Colours are SVG presentation attributes, which the HTML report's
Content-Security-Policy allows (it forbids inline ``style``).
"""

from __future__ import annotations

from html import escape

from conformance.records import Verdict
from conformance.reporting.saved import SavedReport

COLOURS = {
    Verdict.PASSED: "#2da44e",
    Verdict.FAILED: "#cf222e",
    Verdict.ERROR: "#d4a72c",
    Verdict.NOT_APPLICABLE: "#afb8c1",
}
ROW, LABEL, WIDTH, UNIT_MAX = 22, 110, 760, 40


def family_chart(report: SavedReport) -> str:
    families = report.families()
    if not families:
        return ""
    counts = {
        family: {
            v: sum(c.verdict is v and c.family == family for c in report.clauses) for v in Verdict
        }
        for family in families
    }
    largest = max(sum(by.values()) for by in counts.values())
    unit = min(UNIT_MAX, (WIDTH - LABEL - 160) / largest)
    height = ROW * len(families) + 30
    parts = [
        f'<svg class="chart" id="family-chart" xmlns="http://www.w3.org/2000/svg" '
        f'width="{WIDTH}" height="{height}" role="img" '
        f'aria-label="verdicts by clause family"><title>Verdicts by clause family</title>'
    ]
    for row, family in enumerate(families):
        y = 8 + row * ROW
        parts.append(
            f'<text x="{LABEL - 8}" y="{y + 13}" text-anchor="end" font-size="12" '
            f'fill="#1b1f24">{escape(family)}</text>'
        )
        x = float(LABEL)
        for verdict in Verdict:
            n = counts[family][verdict]
            if n:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{n * unit:.1f}" height="16" '
                    f'fill="{COLOURS[verdict]}" data-family="{escape(family)}" '
                    f'data-bar="{verdict.value}"><title>{escape(family)}: {n} '
                    f"{verdict.value}</title></rect>"
                )
                x += n * unit
        shown = ", ".join(f"{counts[family][v]} {v.value}" for v in Verdict if counts[family][v])
        parts.append(
            f'<text x="{x + 6:.1f}" y="{y + 13}" font-size="11" fill="#57606a">'
            f"{escape(shown)}</text>"
        )
    legend_y = 8 + len(families) * ROW + 10
    x = float(LABEL)
    for verdict in Verdict:
        parts.append(
            f'<rect x="{x:.1f}" y="{legend_y - 9}" width="10" height="10" '
            f'fill="{COLOURS[verdict]}"/><text x="{x + 14:.1f}" y="{legend_y}" '
            f'font-size="11" fill="#57606a">{verdict.value}</text>'
        )
        x += 120
    parts.append("</svg>")
    return "".join(parts)
