"""Pure HTML rendering of answers, passages and documents for the web app.

Every piece of report text goes through `html.escape` here before it reaches a `gr.HTML` component;
markup is only ever produced by this module. Functions take plain records (Answer, Hit, Chunk) and
return strings, so they are unit-tested without a browser.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from corpus.tables import read_table_text
from corpus.types import Chunk
from index.types import Hit
from qa.types import Answer, Citation
from ui.citations import table_csv
from ui.feedback import AnswerRecord
from ui.i18n import DEFAULT_LANG, Lang, format_taipei, t
from ui.pages import Box

Segments = Sequence[tuple[str, bool]]
Highlighter = Callable[[str, Sequence[str]], Sequence[tuple[str, bool]]]

_CITE_MARKER = re.compile(r"\[(\d{1,3})\]")
_BLANK_LINES = re.compile(r"\n{2,}")


@dataclass(frozen=True)
class Turn:
    """One exchange of a conversation as shown: the question and its rendered reply."""

    question: str
    reply_html: str
    record: AnswerRecord | None = None  # what copying, exporting and feedback use


@dataclass(frozen=True)
class DocumentRow:
    """What the documents table shows about one indexed report."""

    doc_id: str
    title: str
    file_name: str
    kind: str
    pages: int
    chunks: int
    indexed_at: str
    publisher: str = ""
    year: str = ""


def esc(text: object) -> str:
    """Escape any value for HTML text and attribute positions."""
    return html.escape(str(text), quote=True)


def notice(kind: str, message: str) -> str:
    """A short status box; kind is one of info, warn, error."""
    return f'<div class="rq-notice rq-{esc(kind)}" role="status">{esc(message)}</div>'


def render_segments(segments: Segments) -> str:
    """Escaped text with the matching segments wrapped in <mark>."""
    return "".join(f"<mark>{esc(seg)}</mark>" if hit else esc(seg) for seg, hit in segments)


def quote_span(citation: Citation, chunk: Chunk) -> tuple[int, int] | None:
    """Where the cited quote sits inside the chunk text, or None when it cannot be located.

    The citation's offsets are document offsets; they are trusted only when they select exactly the
    quote, otherwise the quote is searched for so a stale offset never marks the wrong words.
    """
    start = citation.quote_start - chunk.char_start
    end = citation.quote_end - chunk.char_start
    if 0 <= start < end <= len(chunk.text) and chunk.text[start:end] == citation.quote:
        return start, end
    if citation.quote:
        found = chunk.text.find(citation.quote)
        if found >= 0:
            return found, found + len(citation.quote)
    return None


def table_html(chunk: Chunk, row_line: str | None = None, value: str | None = None) -> str | None:
    """A table chunk as an HTML table: caption, header rows, data rows, notes; None for other chunks.

    `row_line` (a cited row, as quoted) is marked, and within it the cell equal to `value` (the
    answer's figure) gets its own highlight.
    """
    if chunk.kind != "table" or "\t" not in chunk.text:
        return None
    table = read_table_text(chunk.text, chunk.table_header)
    if table is None:
        return None
    marked_row = [c.strip() for c in row_line.strip().split("\t")] if row_line else None
    parts = ['<table class="rq-table">']
    if table.caption:
        parts.append(f"<caption>{esc(table.caption)}</caption>")
    if table.header_rows:
        parts.append("<thead>")
        for row in table.header_rows:
            parts.append("<tr>" + "".join(f'<th scope="col">{esc(c)}</th>' for c in row) + "</tr>")
        parts.append("</thead>")
    parts.append("<tbody>")
    marked_done = False
    for row in table.rows:
        is_marked = (
            not marked_done
            and marked_row is not None
            and [c for c in row if c] == [c for c in marked_row if c]
        )
        marked_done = marked_done or is_marked
        cells = []
        for j, cell in enumerate(row):
            tag = "th" if j == 0 else "td"
            attrs = ' scope="row"' if j == 0 else ""
            if is_marked and value is not None and j > 0 and cell == value:
                cells.append(f'<{tag} class="rq-cell-answer"{attrs}><mark>{esc(cell)}</mark></{tag}>')
            else:
                cells.append(f"<{tag}{attrs}>{esc(cell)}</{tag}>")
        row_class = ' class="rq-row-cited"' if is_marked else ""
        parts.append(f"<tr{row_class}>{''.join(cells)}</tr>")
    parts.append("</tbody></table>")
    if table.notes:
        parts.append("".join(f'<div class="rq-table-note">{esc(n)}</div>' for n in table.notes))
    return f'<div class="rq-table-wrap">{"".join(parts)}</div>'


def passage_html(markup: str) -> str:
    """A passage box; blank lines between a heading and its paragraph are dropped to keep it compact."""
    compact = _BLANK_LINES.sub("\n", markup)
    return f'<div class="rq-passage">{compact}</div>'


def render_marked(text: str, span: tuple[int, int] | None) -> str:
    """Escaped text with one span wrapped in <mark>."""
    if span is None:
        return esc(text)
    start, end = span
    return f"{esc(text[:start])}<mark>{esc(text[start:end])}</mark>{esc(text[end:])}"


def section_label(section_path: Sequence[str]) -> str:
    return " › ".join(section_path)


def source_label(title: str, address: str, section_path: Sequence[str]) -> str:
    """'Title · p. 3 · Chapter › Section' with empty parts left out."""
    return " · ".join(part for part in (title, address, section_label(section_path)) if part)


def render_answer_text(
    text: str, anchors: Mapping[int, str], previews: Mapping[int, str] | None = None
) -> str:
    """Escaped answer text whose [n] markers link to the matching citation element.

    With `previews`, each marker carries a tooltip (report, page, quote) shown on hover, focus or tap.
    """
    out: list[str] = []
    pos = 0
    for match in _CITE_MARKER.finditer(text):
        out.append(esc(text[pos : match.start()]))
        number = int(match.group(1))
        anchor = anchors.get(number)
        if anchor is None:
            out.append(esc(match.group(0)))
        else:
            tip = (previews or {}).get(number)
            preview = f'<span class="rq-preview" role="tooltip">{esc(tip)}</span>' if tip else ""
            link = f'<a class="rq-cite-ref" href="#{esc(anchor)}" data-target="{esc(anchor)}">'
            out.append(f"{link}[{number}]{preview}</a>")
        pos = match.end()
    out.append(esc(text[pos:]))
    return "".join(out)


def table_csv_button(chunk: Chunk | None, lang: Lang = DEFAULT_LANG) -> str:
    """A button that downloads a table chunk as CSV in the browser; '' for prose.

    The CSV travels in the button itself, so the download needs no request and works for any table
    on screen; carriage returns are written as character references because HTML parsing would
    otherwise fold the CSV's CRLF row ends into LF.
    """
    if chunk is None:
        return ""
    text = table_csv(chunk)
    if text is None:
        return ""
    caption = chunk.text.split("\n", 1)[0] if "\t" not in chunk.text.split("\n", 1)[0] else ""
    stem = _FILE_UNSAFE.sub("_", caption).strip("_")[:40] or f"table-{chunk.chunk_id[:8]}"
    return (
        f'<button type="button" class="rq-table-csv" data-name="{esc(stem)}.csv" '
        f'data-csv="{esc(text).replace(chr(13), "&#13;")}">{esc(t("table.csv", lang))}</button>'
    )


_FILE_UNSAFE = re.compile(r"[^\w\-.（）()]+")


def citation_preview(citation: Citation, limit: int = 140) -> str:
    """What a marker's tooltip says: report, page or lines, and the quote (shortened)."""
    quote = " ".join(citation.quote.split())
    if len(quote) > limit:
        quote = quote[: limit - 1] + "…"
    where = " · ".join(part for part in (citation.title, citation.address) if part)
    return f"{where}\n「{quote}」"


def render_citation(
    citation: Citation,
    chunk: Chunk | None,
    anchor: str,
    figure: str | None = None,
    lang: Lang = DEFAULT_LANG,
) -> str:
    """A collapsible source: summary line, then the passage (tables as tables) with the quote marked."""
    summary = source_label(citation.title, citation.address, citation.section_path)
    if chunk is not None:
        table = table_html(chunk, citation.quote, figure)
        passage = table if table is not None else render_marked(chunk.text, quote_span(citation, chunk))
        chunk_id = chunk.chunk_id
    else:
        passage = f"<mark>{esc(citation.quote)}</mark>"
        chunk_id = citation.chunk_id
    return (
        f'<details class="rq-citation" id="{esc(anchor)}" data-number="{citation.number}">'
        f'<summary><span class="rq-num">[{citation.number}]</span> {esc(summary)}</summary>'
        f"{passage_html(passage)}"
        f'<div class="rq-cite-tools"><span class="rq-file">{esc(citation.file_name)}</span>'
        f"{table_csv_button(chunk, lang)}"
        f'<button type="button" class="rq-view-page" data-chunk-id="{esc(chunk_id)}" '
        f'data-quote="{esc(citation.quote)}">{esc(t("source.show", lang))}</button></div>'
        "</details>"
    )


def render_answer(answer: Answer, chunks: Mapping[str, Chunk], turn: int, lang: Lang = DEFAULT_LANG) -> str:
    """The reply to one question: answer text with linked markers, then its cited sources.

    `chunks` maps chunk ids to the cited chunks (for the full passage); `turn` keeps element ids
    unique across a conversation.
    """
    if answer.abstained:
        # A refusal may name the neighbouring fact the reports do state, with its citation.
        cited = {c.number: f"rq-t{turn}-c{c.number}" for c in answer.citations}
        parts = [f'<div class="rq-answer rq-abstained"><p>{render_answer_text(answer.text, cited)}</p>']
        parts.extend(
            render_citation(c, chunks.get(c.chunk_id), cited[c.number], answer.figure, lang)
            for c in answer.citations
        )
        related = answer.related[:3]
        if related:
            parts.append(f'<p class="rq-hint">{esc(t("answer.closest", lang))}</p>')
            for hit in related:
                anchor = f"rq-t{turn}-r{hit.rank}"
                parts.append(
                    f'<details class="rq-citation rq-related" id="{esc(anchor)}"><summary>'
                    f"{esc(source_label(hit.chunk.title, hit.chunk.address, hit.chunk.section_path))}"
                    f"</summary>{passage_html(esc(hit.chunk.text))}</details>"
                )
        parts.append("</div>")
        return "".join(parts)

    anchors = {c.number: f"rq-t{turn}-c{c.number}" for c in answer.citations}
    previews = {c.number: citation_preview(c) for c in answer.citations}
    parts = ['<div class="rq-answer">']
    body = answer.text.strip()
    # A how-much answer leads with its figure on a line of its own; show that line prominently.
    head, _, rest = body.partition("\n")
    if answer.figure and head.startswith(answer.figure) and rest:
        parts.append(f'<div class="rq-figure">{render_answer_text(head, anchors, previews)}</div>')
        body = rest
    parts.append(f'<p class="rq-text">{render_answer_text(body, anchors, previews)}</p>')
    support = t("answer.support", lang, n=len(answer.citations))
    # Staff see what the answer rests on; the score and retrieval mode are for evaluators.
    parts.append(
        f'<div class="rq-meta"><span class="rq-support">{esc(support)}</span><span class="rq-eval"> · '
        + esc(
            t(
                "answer.meta",
                lang,
                confidence=f"{answer.confidence:.0%}",
                mode=answer.mode,
                seconds=f"{answer.latency_ms / 1000:.1f}",
            )
        )
        + "</span></div>"
    )
    if answer.citations:
        head = esc(t("answer.sources", lang))
        parts.append(f'<div class="rq-sources"><div class="rq-sources-head">{head}</div>')
        parts.extend(
            render_citation(c, chunks.get(c.chunk_id), anchors[c.number], answer.figure, lang)
            for c in sorted(answer.citations, key=lambda c: c.number)
        )
        parts.append("</div>")
    parts.append("</div>")
    return "".join(parts)


QUESTION_CLIP = 280  # characters of a long question shown before its expander


def question_html(question: str, lang: Lang = DEFAULT_LANG) -> str:
    """A question as shown in the chat; a long one is clipped, the rest behind an expander."""
    if len(question) <= QUESTION_CLIP:
        return esc(question)
    more = esc(t("chat.show_all", lang, length=len(question)))
    head = esc(question[:QUESTION_CLIP])
    return (
        f'<details class="rq-q-long"><summary><span class="rq-q-head">{head}…</span> '
        f'<span class="rq-more">{more}</span></summary><div class="rq-q-full">{esc(question)}</div></details>'
    )


def render_transcript(turns: Sequence[Turn], lang: Lang = DEFAULT_LANG) -> str:
    """The whole conversation, oldest first; an empty conversation shows a short invitation."""
    if not turns:
        return f'<div class="rq-chat rq-empty">{esc(t("chat.empty", lang))}</div>'
    parts = ['<div class="rq-chat">']
    for turn in turns:
        parts.append(
            f'<div class="rq-q"><div class="rq-bubble">{question_html(turn.question, lang)}</div></div>'
        )
        parts.append(f'<div class="rq-a">{turn.reply_html}</div>')
    parts.append("</div>")
    return "".join(parts)


def render_hits(
    hits: Sequence[Hit],
    highlight: Highlighter,
    citations: Mapping[str, str],
    lang: Lang = DEFAULT_LANG,
) -> str:
    """Ranked search results: score, source line, passage with matched terms and a copyable citation."""
    if not hits:
        return notice("info", t("search.none", lang))
    parts = ['<div class="rq-results">']
    for hit in hits:
        chunk = hit.chunk
        scores = [f"score {hit.score:.3f}"]
        if hit.dense_score is not None:
            scores.append(f"dense {hit.dense_score:.3f}")
        if hit.lexical_score is not None:
            scores.append(f"bm25 {hit.lexical_score:.2f}")
        terms = ", ".join(hit.matched_terms)
        citation = citations.get(chunk.chunk_id, "")
        parts.append(
            f'<article class="rq-hit" data-chunk-id="{esc(chunk.chunk_id)}">'
            f'<header><span class="rq-rank">#{hit.rank}</span> '
            f'<span class="rq-src">{esc(source_label(chunk.title, chunk.address, chunk.section_path))}</span>'
            f'<span class="rq-scores rq-eval">{esc(" · ".join(scores))}</span></header>'
            f"{table_html(chunk) or passage_html(render_segments(highlight(chunk.text, hit.matched_terms)))}"
            + (f'<div class="rq-terms">{esc(t("source.matched", lang, terms=terms))}</div>' if terms else "")
            + f'<div class="rq-cite-line"><code class="rq-cite-text">{esc(citation)}</code>'
            f"{table_csv_button(chunk, lang)}"
            f'<button type="button" class="rq-copy" data-done="{esc(t("source.copied", lang))}">'
            f"{esc(t('source.copy', lang))}</button>"
            f'<button type="button" class="rq-view-page" data-chunk-id="{esc(chunk.chunk_id)}">'
            f"{esc(t('source.show', lang))}</button></div>"
            "</article>"
        )
    parts.append("</div>")
    return "".join(parts)


def render_documents(rows: Sequence[DocumentRow], lang: Lang = DEFAULT_LANG) -> str:
    """The table of indexed reports (scrolls sideways on a narrow screen instead of wrapping)."""
    if not rows:
        return notice("info", t("docs.none", lang))
    columns = ("title", "file", "kind", "pages", "chunks", "publisher", "year", "indexed")
    head = "".join(f'<th scope="col">{esc(t("docs.col." + c, lang))}</th>' for c in columns)
    body = "".join(
        "<tr>"
        f"<td>{esc(r.title)}</td><td>{esc(r.file_name)}</td><td>{esc(r.kind)}</td>"
        f'<td class="rq-n">{r.pages or "–"}</td><td class="rq-n">{r.chunks}</td>'
        f"<td>{esc(r.publisher)}</td><td>{esc(r.year)}</td><td>{esc(r.indexed_at)}</td>"
        "</tr>"
        for r in rows
    )
    return (
        f'<div class="rq-table-wrap"><table class="rq-docs"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def render_page_view(
    heading: str, text: str, span: tuple[int, int] | None = None, lang: Lang = DEFAULT_LANG
) -> str:
    """A page or excerpt of a document, with an optional span (the cited passage) marked."""
    if not text:
        return notice("info", t("docs.no_text", lang, heading=heading))
    return (
        f'<div class="rq-page"><div class="rq-page-head">{esc(heading)}</div>{_page_body(text, span)}</div>'
    )


_TAB_RUN = re.compile(r"(?:^[^\n]*\t[^\n]*(?:\n|$))+", re.MULTILINE)


def _page_body(text: str, span: tuple[int, int] | None) -> str:
    """Page text as preformatted prose, with each run of tab-separated rows shown as a table."""
    parts: list[str] = []
    pos = 0
    for match in _TAB_RUN.finditer(text):
        if match.start() > pos:
            parts.append(_pre(text, pos, match.start(), span))
        rows = [line.split("\t") for line in match.group(0).rstrip("\n").split("\n")]
        cited = span is not None and span[0] < match.end() and match.start() < span[1]
        body = "".join("<tr>" + "".join(f"<td>{esc(c.strip())}</td>" for c in row) + "</tr>" for row in rows)
        cls = "rq-table rq-table-cited" if cited else "rq-table"
        parts.append(f'<table class="{cls}"><tbody>{body}</tbody></table>')
        pos = match.end()
    if pos < len(text):
        parts.append(_pre(text, pos, len(text), span))
    return "".join(parts)


def _pre(text: str, start: int, end: int, span: tuple[int, int] | None) -> str:
    local = None
    if span is not None and span[0] < end and start < span[1]:
        local = (max(span[0], start) - start, min(span[1], end) - start)
    return f'<pre class="rq-page-text">{render_marked(text[start:end], local)}</pre>'


def format_timestamp(value: object) -> str:
    """Indexing time as 'YYYY-MM-DD HH:MM' in Taipei time, whatever form the index stores it in."""
    return format_taipei(value)


def render_page_image(
    heading: str, image_url: str, width: int, height: int, boxes: Sequence[Box], lang: Lang = DEFAULT_LANG
) -> str:
    """A rendered PDF page with the quoted sentence's boxes laid over it (positions in percent)."""
    marks = "".join(
        f'<div class="rq-hl" style="left:{b.left:.3%};top:{b.top:.3%};width:{b.width:.3%};'
        f'height:{b.height:.3%}"></div>'
        for b in boxes
    )
    return (
        f'<div class="rq-page"><div class="rq-page-head">{esc(heading)}</div>'
        f'<div class="rq-page-scroll"><div class="rq-page-sheet">'
        f'<img class="rq-page-img" src="{esc(image_url)}" width="{width}" height="{height}" '
        f'alt="{esc(heading)}">{marks}</div></div></div>'
    )


# Thumb icons drawn inline (shapes after Feather icons, MIT): an emoji needs a colour-emoji font,
# which many office machines lack, and would show as an empty box.
_THUMB_UP = (
    '<svg class="rq-icon" viewBox="0 0 24 24" aria-hidden="true"><path d="M14 9V5a3 3 0 0 0-3-3l-4 9v11h11.28'
    'a2 2 0 0 0 2-1.7l1.38-9a2 2 0 0 0-2-2.3zM7 22H4a2 2 0 0 1-2-2v-7a2 2 0 0 1 2-2h3"/></svg>'
)
_THUMB_DOWN = (
    '<svg class="rq-icon" viewBox="0 0 24 24" aria-hidden="true"><path d="M10 15v4a3 3 0 0 0 3 3l4-9V2H5.72'
    "a2 2 0 0 0-2 1.7l-1.38 9a2 2 0 0 0 2 2.3zm7-13h2.67A2.31 2.31 0 0 1 22 4v7"
    'a2.31 2.31 0 0 1-2.33 2H17"/></svg>'
)


def render_answer_actions(turn: int, copy_text: str, lang: Lang = DEFAULT_LANG) -> str:
    """Under an answer: copy it with its sources, and 👍 / 👎 with an optional comment."""
    text = esc(copy_text).replace("\r", "&#13;")
    done, copy = esc(t("source.copied", lang)), esc(t("answer.copy", lang))
    up, down, comment = (esc(t(k, lang)) for k in ("feedback.up", "feedback.down", "feedback.comment"))
    up_short, down_short = esc(t("feedback.up_short", lang)), esc(t("feedback.down_short", lang))
    return (
        f'<div class="rq-actions" data-turn="{turn}">'
        f'<button type="button" class="rq-copy-answer" data-text="{text}" data-done="{done}">{copy}</button>'
        f'<button type="button" class="rq-fb" data-rating="up" title="{up}" aria-label="{up}">'
        f"{_THUMB_UP}{up_short}</button>"
        f'<button type="button" class="rq-fb" data-rating="down" title="{down}" aria-label="{down}">'
        f"{_THUMB_DOWN}{down_short}</button>"
        f'<input type="text" class="rq-fb-comment" maxlength="2000" placeholder="{comment}" '
        f'aria-label="{comment}"></div>'
    )
