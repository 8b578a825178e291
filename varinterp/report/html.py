"""Assemble a self-contained HTML page: inline CSS, figures as data URIs, no scripts and
no external resources, so it opens offline. Every piece of text is escaped with
`html.escape`; only the fixed template markup is trusted."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["Section", "render_page", "table_html"]

_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px auto;
max-width:1180px;color:#222;line-height:1.4}
h1{font-size:24px;margin-bottom:4px}h2{font-size:19px;border-bottom:1px solid #ccc;
padding-bottom:3px;margin-top:28px}h3{font-size:15px}
.meta{color:#555;font-size:13px}.missing{color:#8a6d3b;background:#fcf8e3;padding:6px 10px;
border-left:4px solid #f0ad4e}
table{border-collapse:collapse;font-size:12px;margin:8px 0}th,td{border:1px solid #ddd;
padding:3px 6px;text-align:left;vertical-align:top}th{background:#f2f2f2}
tr:nth-child(even){background:#fafafa}img{max-width:100%;border:1px solid #eee}
ul.summary li{margin:2px 0}
"""


@dataclass
class Section:
    """One report section: an id, a heading, and already-safe HTML body parts."""

    id: str
    title: str
    parts: list[str] = field(default_factory=list)

    def text(self, s: str) -> Section:
        self.parts.append(f"<p>{html.escape(s)}</p>")
        return self

    def missing(self, s: str) -> Section:
        self.parts.append(f'<p class="missing">{html.escape(s)}</p>')
        return self

    def heading(self, s: str) -> Section:
        self.parts.append(f"<h3>{html.escape(s)}</h3>")
        return self

    def image(self, uri: str, alt: str, img_id: str = "") -> Section:
        ident = f' id="{html.escape(img_id)}"' if img_id else ""
        self.parts.append(f'<img{ident} src="{html.escape(uri)}" alt="{html.escape(alt)}">')
        return self

    def bullets(self, items: list[str]) -> Section:
        lis = "".join(f"<li>{html.escape(x)}</li>" for x in items)
        self.parts.append(f'<ul class="summary">{lis}</ul>')
        return self

    def raw(self, safe_html: str) -> Section:
        self.parts.append(safe_html)
        return self


def _cell(x) -> str:
    if isinstance(x, float | np.floating):
        if np.isnan(x):
            return ""
        return f"{x:.3g}" if (abs(x) < 1e-3 and x != 0) or abs(x) >= 1e5 else f"{x:.3f}"
    return html.escape(str(x))


def table_html(table: pd.DataFrame, *, table_id: str, columns: list[str] | None = None) -> str:
    """A DataFrame as an escaped HTML table."""
    cols = columns or list(table.columns)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>"
        for row in table[cols].itertuples(index=False)
    )
    ident = html.escape(table_id)
    return f'<table id="{ident}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def render_page(*, title: str, subtitle: str, sections: list[Section]) -> str:
    """The whole page as one string."""
    nav = " · ".join(f'<a href="#{html.escape(s.id)}">{html.escape(s.title)}</a>' for s in sections)
    body = "".join(
        f'<section id="{html.escape(s.id)}"><h2>{html.escape(s.title)}</h2>'
        f"{''.join(s.parts)}</section>"
        for s in sections
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        f'<h1 id="report-title">{html.escape(title)}</h1>'
        f'<p class="meta">{html.escape(subtitle)}</p>'
        f"<nav>{nav}</nav>{body}</body></html>\n"
    )
