"""One self-contained HTML report: no network asset, no external file.

A header with the verdict and the totals; then, on the first screen, the failures
grouped by cause (:mod:`conformance.causes`: each cause with the clauses it breaks,
linked, most clauses first) and a bar chart by family (inline SVG); filters by verdict
and by family (plain JavaScript, state kept in the URL fragment, e.g.
``report.html#verdict=failed&family=auth``, so a filtered view can be linked), the clause
table and one section per clause, failed and undecided first, the passed and not
applicable folded in a ``<details>``: for a failure every finding with the exchanges
(request and response headers and bodies), the curl reproduction and the replay
command; for the others their reason or evidence.

Everything from the run is escaped with :func:`html.escape`, and a Content-Security-Policy
allows only this file's own style and script, by hash: a body that slipped through
escaping still could not run or load anything.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape

from conformance.records import Verdict
from conformance.reporting.chart import family_chart
from conformance.reporting.saved import (
    SavedBody,
    SavedClause,
    SavedExchange,
    SavedFinding,
    SavedReport,
)

VERDICT_LABELS = {
    Verdict.PASSED: "passed",
    Verdict.FAILED: "failed",
    Verdict.NOT_APPLICABLE: "not applicable",
    Verdict.ERROR: "error",
}

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1b1f24;background:#f6f8fa}
header,main{max-width:1200px;margin:0 auto;padding:16px 24px}
header{background:#fff;border-bottom:1px solid #d0d7de;max-width:none}
h1{font-size:22px;margin:4px 0 8px}h2{font-size:18px;margin:24px 0 8px}
.status{font-weight:600;padding:6px 12px;border-radius:6px;display:inline-block}
.status.ok{background:#dafbe1;color:#116329}.status.bad{background:#ffebe9;color:#a40e26}
.status.warn{background:#fff8c5;color:#7d4e00}
.meta{color:#57606a}.meta code{color:#1b1f24}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0}
.card{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:8px 16px;min-width:90px}
.card b{display:block;font-size:22px}
.filters{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:10px 14px;display:flex;gap:18px;flex-wrap:wrap;align-items:center}
.filters label{margin-right:10px;white-space:nowrap}
table{border-collapse:collapse;width:100%;background:#fff;margin-top:12px}
th,td{border:1px solid #d0d7de;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}td:first-child{white-space:nowrap}
.v{font-weight:600;white-space:nowrap}
.v-passed{color:#116329}.v-failed{color:#a40e26}.v-error{color:#7d4e00}.v-not_applicable{color:#57606a}
tr.r-failed{background:#fff5f5}tr.r-error{background:#fffbea}
details.clause{background:#fff;border:1px solid #d0d7de;border-radius:6px;margin:8px 0;padding:6px 12px}
details.clause>summary{cursor:pointer;font-weight:600}
.finding{border-left:3px solid #cf222e;padding:4px 12px;margin:10px 0}
.exchange{border:1px solid #d0d7de;border-radius:6px;margin:8px 0;padding:6px 10px;background:#fbfcfd}
pre{background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:8px;overflow:auto;white-space:pre-wrap;word-break:break-all;margin:4px 0}
.k{color:#57606a;font-weight:600;margin-top:6px}
button.copy{float:right;font-size:12px}
[hidden]{display:none!important}
#causes ol{padding-left:0;list-style:none}
.cause{background:#fdeceb;border:1px solid #f3b8b3;border-left:6px solid #c21d2b;border-radius:6px;margin:8px 0;padding:8px 14px}
.cause b{font-size:15px}.cause .ids a{margin-right:8px}
details.fold{margin:12px 0}details.fold>summary{cursor:pointer;font-weight:600;color:#57606a}
svg.chart{background:#fff;border:1px solid #d0d7de;border-radius:6px;margin:8px 0}
"""

SCRIPT = """
(function () {
  var boxes = Array.prototype.slice.call(document.querySelectorAll('input[name=verdict]'));
  var family = document.getElementById('family');
  var shown = document.getElementById('shown');
  var items = Array.prototype.slice.call(document.querySelectorAll('[data-verdict]'));
  var rows = document.querySelectorAll('tr[data-verdict]');
  function fromHash() {
    var state = {};
    location.hash.replace(/^#/, '').split('&').forEach(function (pair) {
      var at = pair.indexOf('=');
      if (at > 0) { state[decodeURIComponent(pair.slice(0, at))] = decodeURIComponent(pair.slice(at + 1)); }
    });
    if (state.verdict !== undefined) {
      var wanted = state.verdict.split(',');
      boxes.forEach(function (box) { box.checked = wanted.indexOf(box.value) >= 0; });
    }
    if (state.family !== undefined) { family.value = state.family; }
    if (family.selectedIndex < 0) { family.value = ''; }
  }
  function apply(save) {
    var verdicts = boxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
    items.forEach(function (item) {
      var ok = verdicts.indexOf(item.getAttribute('data-verdict')) >= 0 &&
        (family.value === '' || item.getAttribute('data-family') === family.value);
      item.hidden = !ok;
    });
    var count = 0;
    for (var i = 0; i < rows.length; i++) { if (!rows[i].hidden) { count++; } }
    shown.textContent = String(count);
    if (save) {
      var hash = '#verdict=' + encodeURIComponent(verdicts.join(',')) +
        (family.value ? '&family=' + encodeURIComponent(family.value) : '');
      try { history.replaceState(null, '', hash); } catch (e) { /* file: URLs may refuse */ }
    }
  }
  boxes.forEach(function (box) { box.addEventListener('change', function () { apply(true); }); });
  family.addEventListener('change', function () { apply(true); });
  window.addEventListener('hashchange', function () { fromHash(); apply(false); });
  Array.prototype.forEach.call(document.querySelectorAll('button.copy'), function (button) {
    button.hidden = !navigator.clipboard;
    button.addEventListener('click', function () {
      var text = document.getElementById(button.getAttribute('data-for')).textContent;
      navigator.clipboard.writeText(text).then(function () { button.textContent = 'copied'; });
    });
  });
  fromHash();
  apply(false);
  document.documentElement.setAttribute('data-ready', 'true');
})();
"""


def render_html(report: SavedReport) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_policy()}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Session contract: {escape(_status(report)[1])} · {escape(report.target)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        _header(report),
        "<main>",
        _causes(report),
        family_chart(report),
        _filters(report),
        _table(report, _first(report)),
        _folded("passed-rows", _table(report, _rest(report)), _rest(report)),
        '<h2 id="details">Clauses</h2>',
        *(_clause(report, clause) for clause in _first(report)),
        _folded(
            "passed-clauses",
            "".join(_clause(report, clause) for clause in _rest(report)),
            _rest(report),
        ),
        "</main>",
        f"<script>{SCRIPT}</script>",
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(parts)


def _policy() -> str:
    def digest(text: str) -> str:
        return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")

    return (
        "default-src 'none'; "
        f"style-src 'sha256-{digest(STYLE)}'; script-src 'sha256-{digest(SCRIPT)}'; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )


def _status(report: SavedReport) -> tuple[str, str]:
    failed = report.by_verdict(Verdict.FAILED)
    must = [c for c in failed if c.level == "MUST"]
    errors = report.by_verdict(Verdict.ERROR)
    if report.interrupted():
        return "warn", "interrupted before every clause was decided"
    if must:
        return "bad", f"{len(must)} MUST clause(s) failed"
    if errors:
        return "warn", f"{len(errors)} clause(s) undecided"
    if failed:
        return "warn", f"passed, but {len(failed)} SHOULD/MAY clause(s) failed"
    if not report.clauses:
        return "warn", "no clause was run"
    return "ok", "every applicable clause passed"


def _header(report: SavedReport) -> str:
    kind, text = _status(report)
    totals = report.totals()
    cards = "".join(
        f'<div class="card"><b class="v-{v.value}">{totals[v.value]}</b>{VERDICT_LABELS[v]}</div>'
        for v in Verdict
    )
    settings = ", ".join(f"{escape(k)}={escape(v)}" for k, v in report.settings)
    notes = "".join(f'<p class="status warn">note: {escape(note)}</p>' for note in report.notes)
    replay = (
        f'<div class="k">Replay this run</div><pre id="replay-run">{escape(report.replay)}</pre>'
        if report.replay
        else ""
    )
    return (
        "<header>"
        f"<h1>Session contract conformance: <code>{escape(report.target)}</code></h1>"
        f'<p><span class="status {kind}" id="status">{escape(text)}</span></p>'
        f'<p class="meta">seed <code>{report.seed}</code> · {len(report.clauses)} clauses in '
        f"{report.duration_ms / 1000:.1f} s · started {escape(report.started_at)} · profile "
        f"<code>{escape(report.profile)}</code> · {escape(report.tool)} {escape(report.version)}"
        f"{' · ' + settings if settings else ''}</p>"
        f'<div class="cards">{cards}</div>{notes}{replay}'
        "</header>"
    )


def _filters(report: SavedReport) -> str:
    totals = report.totals()
    boxes = "".join(
        f'<label><input type="checkbox" name="verdict" value="{v.value}" checked> '
        f"{VERDICT_LABELS[v]} ({totals[v.value]})</label>"
        for v in Verdict
    )
    options = "".join(
        f'<option value="{escape(family)}">{escape(family)}</option>'
        for family in report.families()
    )
    return (
        '<div class="filters" id="filters">'
        f"<span>Verdict: {boxes}</span>"
        '<label>Family: <select id="family"><option value="">all families</option>'
        f"{options}</select></label>"
        f'<span>showing <b id="shown">{len(report.clauses)}</b> of '
        f"{len(report.clauses)} clauses</span>"
        "</div>"
    )


#: What the report shows first: what broke, then what could not be decided.
FIRST = (Verdict.FAILED, Verdict.ERROR)


def _first(report: SavedReport) -> tuple[SavedClause, ...]:
    return tuple(c for v in FIRST for c in report.by_verdict(v))


def _rest(report: SavedReport) -> tuple[SavedClause, ...]:
    return tuple(c for c in report.clauses if c.verdict not in FIRST)


def _folded(element_id: str, inner: str, clauses: tuple[SavedClause, ...]) -> str:
    """The passed and not applicable clauses, folded: they are not what a reader seeks."""
    if not clauses:
        return ""
    counts = ", ".join(
        f"{n} {VERDICT_LABELS[v]}" for v in Verdict if (n := sum(c.verdict is v for c in clauses))
    )
    return (
        f'<details class="fold" id="{element_id}"><summary>{counts} '
        f"(folded)</summary>{inner}</details>"
    )


def _causes(report: SavedReport) -> str:
    if not report.causes:
        return ""
    failed = len(report.by_verdict(Verdict.FAILED))
    items = []
    for cause in report.causes:
        links = "".join(
            f'<a href="#clause-{escape(cid)}"><code>{escape(cid)}</code></a>'
            for cid in cause.clauses
        )
        example = (
            f'<div class="meta">e.g. {escape(_clip(cause.example, 300))}</div>'
            if cause.shape is not None
            else ""
        )
        items.append(
            f'<li class="cause"><b>{escape(_clip(cause.headline(), 160))}</b>'
            f'<div class="ids">breaks {len(cause.clauses)}: {links}</div>{example}</li>'
        )
    return (
        f'<section id="causes"><h2>Failures by cause ({failed} failed clause(s), '
        f"{len(report.causes)} cause(s))</h2><ol>{''.join(items)}</ol></section>"
    )


def _table(report: SavedReport, clauses: tuple[SavedClause, ...]) -> str:
    if not clauses:
        return ""
    rows = []
    for clause in clauses:
        rows.append(
            f'<tr class="r-{clause.verdict.value}" data-verdict="{clause.verdict.value}" '
            f'data-family="{escape(clause.family)}" id="row-{escape(clause.id)}">'
            f'<td><a href="#clause-{escape(clause.id)}"><code>{escape(clause.id)}</code></a></td>'
            f"<td>{escape(clause.family)}</td><td>{escape(clause.level)}</td>"
            f'<td class="v v-{clause.verdict.value}">{VERDICT_LABELS[clause.verdict]}</td>'
            f"<td>{clause.duration_ms / 1000:.2f}&nbsp;s</td>"
            f"<td>{escape(clause.statement)}<br><small>{escape(clause.summary)}</small></td>"
            "</tr>"
        )
    return (
        "<table><thead><tr><th>clause</th><th>family</th><th>level</th>"
        "<th>verdict</th><th>time</th><th>statement and summary</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _clause(report: SavedReport, clause: SavedClause) -> str:
    opened = " open" if clause.verdict is Verdict.FAILED else ""
    body: list[str] = [f"<p>{escape(clause.statement)}</p>"]
    if clause.verdict is Verdict.FAILED:
        total = len(clause.findings)
        body += [_finding(clause, n, total, f) for n, f in enumerate(clause.findings, 1)]
    else:
        label = {Verdict.ERROR: "Undecided", Verdict.NOT_APPLICABLE: "Not applicable"}.get(
            clause.verdict, "Summary"
        )
        body.append(f'<div class="k">{label}</div><p>{escape(clause.summary)}</p>')
        if clause.evidence:
            body.append(f'<div class="k">Evidence ({len(clause.evidence)} exchange(s))</div>')
            body += [_exchange(clause, f"e{x.index}", x) for x in clause.evidence]
    if clause.replay:
        body.append(_pre(f"replay-{clause.id}", "Replay this clause", clause.replay))
    return (
        f'<details class="clause" id="clause-{escape(clause.id)}" '
        f'data-verdict="{clause.verdict.value}" data-family="{escape(clause.family)}"{opened}>'
        f"<summary><code>{escape(clause.id)}</code> [{escape(clause.level)}] "
        f'<span class="v v-{clause.verdict.value}">{VERDICT_LABELS[clause.verdict]}</span> '
        f"· {escape(_clip(clause.summary, 160))}</summary>{''.join(body)}</details>"
    )


def _finding(clause: SavedClause, number: int, total: int, finding: SavedFinding) -> str:
    key = f"{clause.id}-{number}"
    parts = [
        '<div class="finding">',
        f'<div class="k">Problem{f" ({number}/{total})" if total > 1 else ""}</div>',
        f"<p>{escape(finding.message)}</p>",
        f'<div class="k">Expected</div><p>{escape(finding.expected)}</p>',
    ]
    if finding.script:
        parts.append(_pre(f"steps-{key}", "Steps (a shell script)", finding.script))
    else:
        for step_number, step in enumerate(finding.steps, 1):
            parts.append(_pre(f"step-{key}-{step_number}", f"Step {step_number}", step.curl))
    if finding.exchange is not None:
        parts.append(_exchange(clause, f"f{number}", finding.exchange))
    parts.append("</div>")
    return "".join(parts)


def _exchange(clause: SavedClause, tag: str, exchange: SavedExchange) -> str:
    request = exchange.request
    parts = [
        '<div class="exchange">',
        f'<div class="k">Sent: {escape(request.method)} {escape(request.url)}</div>',
        _headers(request.headers),
        _body(request.body),
    ]
    response = exchange.response
    if response is None:
        parts.append(
            f'<div class="k">Received: no response ({escape(exchange.transport_error or "")})</div>'
        )
    else:
        parts += [
            f'<div class="k">Received: {response.status} '
            f"({escape(response.content_type or 'no Content-Type')}) in "
            f"{exchange.elapsed_ms:.0f} ms{' (cut)' if response.truncated else ''}</div>",
            _headers(response.headers),
            _body(response.body),
        ]
    parts.append(_pre(f"curl-{clause.id}-{tag}", "Reproduce", exchange.curl))
    parts.append("</div>")
    return "".join(parts)


def _headers(headers: tuple[tuple[str, str], ...]) -> str:
    if not headers:
        return ""
    text = "\n".join(f"{name}: {value}" for name, value in headers)
    return f"<pre>{escape(text)}</pre>"


def _body(body: SavedBody) -> str:
    if body.size == 0:
        return ""
    note = " (base64: not UTF-8)" if body.encoding == "base64" else ""
    return f'<div class="meta">body, {body.size} bytes{note}</div><pre>{escape(body.text)}</pre>'


def _pre(element_id: str, label: str, text: str) -> str:
    safe_id = escape(element_id)
    return (
        f'<div class="k">{escape(label)} <button class="copy" type="button" '
        f'data-for="{safe_id}">copy</button></div><pre id="{safe_id}">{escape(text)}</pre>'
    )


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
