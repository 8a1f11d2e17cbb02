"""A conformance badge (SVG, shields.io "flat" style) from a saved report.

``session contract | 55/55 passed`` in green when every applicable clause passed; red
with the count when a MUST clause failed; yellow when only SHOULD/MAY clauses failed;
orange when clauses are undecided (``error``); grey when the run was interrupted or ran
nothing. ``not_applicable`` clauses are left out of the fraction, never counted as
passed. Text widths follow Verdana 11px, the font the badge names.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from conformance.records import Verdict
from conformance.reporting.saved import SavedReport

LABEL = "session contract"
GREEN, YELLOW, ORANGE, RED, GREY = "#4c1", "#dfb317", "#fe7d37", "#e05d44", "#9f9f9f"

# Advance widths of Verdana at 11px, in pixels (ASCII); other characters count as 7.5.
_WIDTHS = {
    **dict.fromkeys(" ", 3.9),
    **dict.fromkeys("il|.,:;'!", 3.4),
    **dict.fromkeys("fjrt()[]/-", 4.6),
    **dict.fromkeys("0123456789", 7.0),
    **dict.fromkeys("abcdeghknopqsuvxyz", 6.8),
    **dict.fromkeys("mw", 10.2),
    **dict.fromkeys("ABCDEFGHIJKLNOPQRSTUVXYZ", 7.6),
    **dict.fromkeys("MW", 9.4),
}


def badge_message(report: SavedReport) -> tuple[str, str]:
    """The badge's right-hand text and colour."""
    totals = report.totals()
    failed = report.by_verdict(Verdict.FAILED)
    must = [c for c in failed if c.level == "MUST"]
    applicable = totals["total"] - totals["not_applicable"]
    fraction = f"{totals['passed']}/{applicable} passed"
    if report.interrupted():
        return "interrupted", GREY
    if must:
        return f"{len(must)} MUST failed", RED
    if totals["error"]:
        return f"{totals['error']} undecided", ORANGE
    if failed:
        return fraction, YELLOW
    if applicable == 0:
        return "nothing checked", GREY
    return fraction, GREEN


def render_badge(report: SavedReport) -> str:
    message, colour = badge_message(report)
    left, right = _width(LABEL) + 10, _width(message) + 10
    total = left + right
    title = f"{LABEL}: {message}"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total:g}" height="20" role="img" '
        f"aria-label={quoteattr(title)}>"
        f"<title>{escape(title)}</title>"
        '<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" '
        'stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{total:g}" height="20" rx="3" fill="#fff"/></clipPath>'
        '<g clip-path="url(#r)">'
        f'<rect width="{left:g}" height="20" fill="#555"/>'
        f'<rect x="{left:g}" width="{right:g}" height="20" fill="{colour}"/>'
        f'<rect width="{total:g}" height="20" fill="url(#s)"/></g>'
        '<g fill="#fff" text-anchor="middle" '
        'font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="{left / 2:g}" y="15" fill="#010101" fill-opacity=".3">{escape(LABEL)}</text>'
        f'<text x="{left / 2:g}" y="14">{escape(LABEL)}</text>'
        f'<text x="{left + right / 2:g}" y="15" fill="#010101" fill-opacity=".3">'
        f"{escape(message)}</text>"
        f'<text x="{left + right / 2:g}" y="14">{escape(message)}</text>'
        "</g></svg>\n"
    )


def _width(text: str) -> float:
    return round(sum(_WIDTHS.get(char, 7.5) for char in text), 1)
