"""The ReportQA web app: chat with cited answers, passage search with exports, and a document viewer.

`build_app(pipeline)` lays out the Gradio Blocks; `serve(config)` opens the index once and serves it.
The pipeline is shared read-only by all sessions; everything a user accumulates (the conversation)
lives in `gr.State`, so concurrent users never see each other's answers.
"""

from __future__ import annotations

import atexit
import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import gradio as gr

from corpus.types import Chunk
from index.types import DocumentInfo, SearchFilter
from qa.errors import QAError
from qa.query import MAX_QUESTION_CHARS
from ui.citations import ExportFiles, citation_record, format_citation, write_exports
from ui.exports import answer_text, conversation_docx, conversation_markdown
from ui.feedback import AnswerRecord, CitedSource, FeedbackStore
from ui.forms import is_number, page_bound, parse_page_range
from ui.i18n import DEFAULT_LANG, LANG_NAMES, LANGS, Lang, normalise_lang, t
from ui.pages import render_page
from ui.payloads import answer_payload, error_payload, hits_payload
from ui.render import (
    DocumentRow,
    Turn,
    esc,
    format_timestamp,
    notice,
    render_answer,
    render_answer_actions,
    render_documents,
    render_hits,
    render_page_image,
    render_page_view,
    render_transcript,
)
from ui.uploads import UploadRejected, check_upload, store_upload

if TYPE_CHECKING:
    from qa.config import Config
    from qa.pipeline import Pipeline
    from qa.retrieval import Mode

log = logging.getLogger(__name__)
_NO_PROGRESS = gr.Progress()

CSS_PATH = Path(__file__).with_name("static") / "app.css"
SEARCH_MODES = ("hybrid", "bm25", "dense")

# Citation markers link to their <details>; "Show in document" buttons ask the server for the page;
# "Copy citation" puts the formatted citation on the clipboard. Delegated on the component root
# because the inner HTML is replaced on every update.
_INTERACTIONS_JS = """
watch('value', () => {
  // After a new turn, scroll the conversation so the latest question is at the top.
  const chat = element.querySelector('.rq-chat');
  const questions = chat ? chat.querySelectorAll('.rq-q') : [];
  if (questions.length) { chat.scrollTop = questions[questions.length - 1].offsetTop - 8; }
});
element.addEventListener('toggle', (event) => {
  // An opened source scrolls its passage box to the quoted sentence.
  const mark = event.target.open ? event.target.querySelector('.rq-passage mark') : null;
  if (mark) { mark.parentElement.scrollTop = Math.max(mark.offsetTop - 40, 0); }
}, true);
element.addEventListener('click', (event) => {
  const ref = event.target.closest('a.rq-cite-ref');
  if (ref) {
    event.preventDefault();
    const target = element.querySelector('#' + CSS.escape(ref.dataset.target));
    if (target) { target.open = true; target.scrollIntoView({behavior: 'smooth', block: 'nearest'}); }
    return;
  }
  const view = event.target.closest('button.rq-view-page');
  if (view) { trigger('click', {chunk_id: view.dataset.chunkId, quote: view.dataset.quote || ''}); return; }
  const rating = event.target.closest('button.rq-fb');
  if (rating) {
    const bar = rating.closest('.rq-actions');
    bar.querySelectorAll('button.rq-fb').forEach((b) => b.classList.toggle('rq-chosen', b === rating));
    const comment = bar.querySelector('.rq-fb-comment');
    trigger('click', {action: 'feedback', turn: Number(bar.dataset.turn), rating: rating.dataset.rating,
                      comment: comment ? comment.value : ''});
    return;
  }
  const table = event.target.closest('button.rq-table-csv');
  if (table) {
    // The BOM lets spreadsheet programs read the Chinese text as UTF-8.
    const blob = new Blob(['\ufeff' + table.dataset.csv], {type: 'text/csv;charset=utf-8'});
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = table.dataset.name || 'table.csv';
    document.body.appendChild(link); link.click(); link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    return;
  }
  const copy = event.target.closest('button.rq-copy, button.rq-copy-answer');
  if (copy) {
    const text = copy.dataset.text !== undefined
      ? copy.dataset.text : copy.parentElement.querySelector('.rq-cite-text').textContent;
    const label = copy.textContent;
    const done = () => {
      copy.textContent = copy.dataset.done || '✓';
      setTimeout(() => { copy.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, () => {});
    } else {
      const area = document.createElement('textarea');
      area.value = text; document.body.appendChild(area); area.select();
      document.execCommand('copy'); area.remove(); done();
    }
  }
});
"""


def chat_hint(lang: Lang = DEFAULT_LANG) -> str:
    """Shown under the question box whenever there is no message to show there."""
    return f'<p class="rq-hint">{esc(t("chat.hint", lang))}</p>'


CHAT_HINT = chat_hint()

# Before Gradio draws anything: the page's language follows ?lang= (zh-TW by default), and the
# evaluator switch is remembered per browser. Both only set attributes on <html>.
_HEAD = """<script>
(() => {
  const wanted = new URLSearchParams(location.search).get('lang') || '';
  const lang = /^en/i.test(wanted) ? 'en' : /^zh-(cn|hans)/i.test(wanted) ? 'zh-CN' : 'zh-TW';
  document.documentElement.lang = lang;
  const root = document.documentElement;
  if (localStorage.getItem('rq-evaluator') === '1') { root.classList.add('rq-evaluator'); }
  // Gradio sets lang from the browser locale after loading; keep the interface's language.
  new MutationObserver(() => {
    const want = document.documentElement.dataset.rqLang || lang;
    if (document.documentElement.lang !== want) { document.documentElement.lang = want; }
  }).observe(document.documentElement, {attributes: true, attributeFilter: ['lang']});
})();
</script>"""

# The language selector: set <html lang> and keep the choice in the address for reloads and links.
_LANG_JS = """(lang, turns) => {
  document.documentElement.dataset.rqLang = lang;
  document.documentElement.lang = lang;
  const url = new URL(location.href);
  url.searchParams.set('lang', lang);
  history.replaceState(null, '', url);
  return [lang, turns];
}"""

# The evaluator switch only shows or hides scores and modes that every page already carries.
_EVALUATOR_JS = """(on) => {
  document.documentElement.classList.toggle('rq-evaluator', on);
  localStorage.setItem('rq-evaluator', on ? '1' : '0');
  return on;
}"""


# The document view brings the cited passage into sight whenever it shows a new page.
_PAGE_VIEW_JS = """
watch('value', () => {
  const box = element.querySelector('.rq-hl');
  if (box) {
    // Scroll the page picture so the first highlighted line sits in the middle of the view.
    const scroller = element.querySelector('.rq-page-scroll');
    const place = () => {
      scroller.scrollTop = Math.max(box.offsetTop - scroller.clientHeight / 2, 0);
      element.scrollIntoView({block: 'start'});
    };
    const img = element.querySelector('img.rq-page-img');
    if (img && !img.complete) { img.addEventListener('load', place, {once: true}); } else { place(); }
    return;
  }
  const mark = element.querySelector('.rq-page-text mark');
  if (mark) {
    const box = mark.parentElement;
    box.scrollTop = Math.max(mark.offsetTop - 60, 0);
    element.scrollIntoView({block: 'start'});
  }
});
"""


@dataclass(frozen=True)
class UISettings:
    """Knobs of the web app (composed into the project Config by the lead)."""

    concurrency: int = 4  # questions answered at the same time per process
    default_results: int = 10
    max_results: int = 50
    context_lines: int = 12  # lines shown around a cited passage of a text file
    export_max_age_s: float = 3600.0  # export files older than this are deleted on the next export
    allow_upload: bool = False  # `qa serve --allow-upload`: the Documents view can add reports
    max_upload_mb: float = 50.0  # a larger file is refused with a message
    examples: tuple[str, ...] = (
        "113 年中央政府科研預算總額達多少？",
        "2024 年數位經濟規模達到多少？",
        "5G 网络非偏乡人口覆盖率是多少？",
        "How many S&T projects were funded in 2024?",
        "Which ministries lead the Smart Nation Plan?",
    )


def _theme() -> gr.themes.Base:
    # Local fonts only: the app must not reach out to font CDNs, and CJK glyphs need a CJK face.
    cjk = ("Noto Sans CJK TC", "Noto Sans TC", "PingFang TC", "Microsoft JhengHei", "system-ui", "sans-serif")
    return gr.themes.Default(primary_hue="blue", font=cjk, font_mono=("Noto Sans Mono CJK TC", "monospace"))


class ReportApp:
    """Request handlers over one shared, read-only pipeline."""

    def __init__(self, pipeline: Pipeline, settings: UISettings) -> None:
        self.pipeline = pipeline
        self.settings = settings
        self._docs: dict[str, DocumentInfo] = {d.doc_id: d for d in pipeline.documents()}
        self._docs_generation = pipeline.generation
        self.export_root = Path(tempfile.mkdtemp(prefix="reportqa-exports-"))
        # Concurrent searches export at once: one lock orders clean-up against folder creation.
        self._export_lock = threading.Lock()
        self._exporting: set[Path] = set()
        self.feedback = FeedbackStore(pipeline.config.index_dir)
        atexit.register(shutil.rmtree, self.export_root, ignore_errors=True)

    # ---- shared helpers -------------------------------------------------------------------------

    @property
    def docs(self) -> dict[str, DocumentInfo]:
        """The indexed reports, re-read once the pipeline has moved to a newly ingested generation."""
        generation = self.pipeline.generation
        if generation != self._docs_generation:
            self._docs = {d.doc_id: d for d in self.pipeline.documents()}
            self._docs_generation = generation
        return self._docs

    def header_html(self, lang: Lang = DEFAULT_LANG) -> str:
        return (
            f'<div class="rq-header"><h1>{esc(t("app.title", lang))}</h1>'
            f"<p>{esc(t('app.subtitle', lang, n=len(self.docs)))}</p></div>"
        )

    def on_load(self, shown: list[str] | None, lang: str = DEFAULT_LANG) -> tuple[Any, ...]:
        """A page opened after an ingest lists the reports indexed since the app started."""
        self.pipeline.documents()  # looks at the index's CURRENT pointer (at most once a second)
        if sorted(shown or ()) == sorted(self.docs):
            return (gr.skip(),) * 6
        choices = self.doc_choices()
        lang = normalise_lang(lang)
        return (
            self.header_html(lang),
            render_documents(self.document_rows(), lang),
            gr.Dropdown(choices=choices),
            gr.Dropdown(choices=choices),
            gr.Dropdown(choices=choices),
            sorted(self.docs),
        )

    def metadata(self, doc_id: str) -> Mapping[str, str]:
        doc = self.docs.get(doc_id)
        return doc.metadata if doc is not None else {}

    def doc_choices(self) -> list[tuple[str, str]]:
        """(label, doc_id) pairs; the file name is added where titles repeat."""
        titles = [d.title for d in self.docs.values()]
        return [
            (d.title if titles.count(d.title) == 1 else f"{d.title} · {d.file_name}", d.doc_id)
            for d in sorted(self.docs.values(), key=lambda d: d.title)
        ]

    def document_rows(self) -> list[DocumentRow]:
        return [
            DocumentRow(
                doc_id=d.doc_id,
                title=d.title,
                file_name=d.file_name,
                kind=d.kind,
                pages=int(d.pages or 0),
                chunks=int(d.chunks or 0),
                indexed_at=format_timestamp(d.indexed_at),
                publisher=d.metadata.get("publisher", ""),
                year=str(d.metadata.get("year", "")),
            )
            for d in sorted(self.docs.values(), key=lambda d: d.title)
        ]

    def make_filter(
        self,
        doc_ids: Sequence[str] | None,
        page_min: float | None = None,
        page_max: float | None = None,
        section: str | None = None,
    ) -> SearchFilter:
        # API callers can send any JSON value: refuse wrong types with a sentence, not a crash.
        if doc_ids is not None and not isinstance(doc_ids, list | tuple):
            raise ValueError("doc_ids must be a list of report ids.")
        if section is not None and not isinstance(section, str):
            raise ValueError("The section filter must be text.")
        known = tuple(d for d in (doc_ids or ()) if d in self.docs)
        if doc_ids and not known:
            raise ValueError("None of the chosen reports is in the index.")
        first, last = page_bound(page_min), page_bound(page_max)
        if first is not None and last is not None and first > last:
            raise ValueError(f"Pages {first}-{last}: the first page comes after the last.")
        return SearchFilter(
            doc_ids=known,
            page_min=first,
            page_max=last,
            section_contains=(section or "").strip() or None,
        )

    # ---- chat -----------------------------------------------------------------------------------

    def answer_html(
        self,
        question: str,
        doc_ids: Sequence[str] | None,
        history: Sequence[str],
        turn: int,
        lang: Lang = DEFAULT_LANG,
    ) -> tuple[str, AnswerRecord]:
        """Rendered reply and its record; raises QAError / ValueError for the caller to show."""
        answer = self.pipeline.ask(question, filter=self.make_filter(doc_ids), history=tuple(history))
        chunks: dict[str, Chunk] = {hit.chunk.chunk_id: hit.chunk for hit in answer.related}
        for citation in answer.citations:
            if citation.chunk_id not in chunks and (chunk := self.pipeline.chunk(citation.chunk_id)):
                chunks[citation.chunk_id] = chunk
        log.info("answered in %.0f ms (abstained=%s)", answer.latency_ms, answer.abstained)
        record = AnswerRecord(
            question=question,
            text=answer.text,
            citations=tuple(
                CitedSource(c.number, c.title, c.file_name, c.address, c.quote)
                for c in sorted(answer.citations, key=lambda c: c.number)
            ),
            abstained=answer.abstained,
            generation=str(self.pipeline.generation or ""),
        )
        html = render_answer(answer, chunks, turn, lang) + render_answer_actions(
            turn, answer_text(record, lang), lang
        )
        return html, record

    def on_ask(
        self,
        text: str | None,
        doc_ids: list[str] | None,
        turns: list[Turn] | None,
        lang: str = DEFAULT_LANG,
    ) -> Iterator[tuple[Any, ...]]:
        """Show the question at once, then the answer; the input box is cleared on success.

        After each answer the conversation's Markdown and Word exports are rewritten.
        """
        ui = normalise_lang(lang)
        keep = (gr.skip(), gr.skip())
        turns = list(turns or [])
        question = (text or "").strip()
        if not question:
            yield (
                render_transcript(turns, ui),
                turns,
                "",
                notice("info", t("chat.need_question", ui)),
                *keep,
            )
            return
        if len(question) > MAX_QUESTION_CHARS:
            # Refused with the limit stated, and left in the box to be shortened.
            message = notice("warn", t("chat.too_long", ui, limit=MAX_QUESTION_CHARS, length=len(question)))
            yield (render_transcript(turns, ui), turns, question, message, *keep)
            return
        pending = Turn(question, f'<div class="rq-pending">{esc(t("chat.pending", ui))}</div>')
        yield render_transcript([*turns, pending], ui), turns, "", chat_hint(ui), *keep
        try:
            reply, record = self.answer_html(
                question, doc_ids, [turn.question for turn in turns], len(turns), ui
            )
        except (QAError, ValueError) as exc:
            # The reason comes from the question checks, which speak English.
            message = t("chat.refused", ui, reason=str(exc))
            yield render_transcript(turns, ui), turns, question, notice("warn", message), *keep
            return
        except Exception:
            log.exception("answering %r failed", question)
            yield render_transcript(turns, ui), turns, question, notice("error", t("chat.failed", ui)), *keep
            return
        turns.append(Turn(question, reply, record))
        md_path, docx_path = self.export_conversation(turns, ui)
        yield (
            render_transcript(turns, ui),
            turns,
            "",
            chat_hint(ui),
            gr.DownloadButton(value=str(md_path), visible=True),
            gr.DownloadButton(value=str(docx_path), visible=True),
        )

    def export_conversation(self, turns: Sequence[Turn], lang: Lang) -> tuple[Path, Path]:
        """The conversation so far as .md and .docx in a fresh export folder."""
        records = [turn.record for turn in turns if turn.record is not None]
        with self._export_folder() as folder:
            stem = time.strftime("reportqa-conversation-%Y%m%d-%H%M%S")
            md_path = folder / f"{stem}.md"
            md_path.write_text(conversation_markdown(records, lang), encoding="utf-8")
            return md_path, conversation_docx(records, folder / f"{stem}.docx", lang)

    def on_transcript_click(self, turns: list[Turn] | None, lang: str, evt: gr.EventData) -> tuple[Any, ...]:
        """Clicks inside the conversation: 👍/👎 feedback, or "show in document"."""
        ui = normalise_lang(lang)
        if getattr(evt, "action", "") != "feedback":
            return (*self.on_view_chunk(ui, evt), gr.skip())
        skip = (gr.skip(),) * 4
        try:
            index = int(getattr(evt, "turn", -1))
            record = (turns or [])[index].record if 0 <= index < len(turns or []) else None
            if record is None:
                raise LookupError(f"no answer number {index} in this conversation")
            rating = str(getattr(evt, "rating", ""))
            self.feedback.add(record, rating, str(getattr(evt, "comment", "") or ""), ui)
        except Exception:
            log.exception("storing feedback failed")
            return (*skip, notice("error", t("feedback.failed", ui)))
        return (*skip, notice("info", t("feedback.thanks", ui)))

    # ---- search ---------------------------------------------------------------------------------

    def on_search(
        self,
        query: str | None,
        doc_ids: list[str] | None,
        pages: str | None,
        section: str | None,
        k: float,
        mode: str,
        lang: str = DEFAULT_LANG,
    ) -> tuple[str, Any, Any, Any]:
        """Ranked passages plus the three export buttons (hidden when there is nothing to export)."""
        ui = normalise_lang(lang)
        hidden = (gr.DownloadButton(visible=False),) * 3
        query = (query or "").strip()
        if not query:
            return (notice("info", t("search.need_query", ui)), *hidden)
        try:
            flt = self.make_filter(doc_ids, *parse_page_range(pages), section)
            hits = self.pipeline.search(query, k=self.clamp_k(k), filter=flt, mode=self.check_mode(mode))
        except (QAError, ValueError) as exc:
            return (notice("warn", t("search.refused", ui, reason=str(exc))), *hidden)
        except Exception:
            log.exception("search %r failed", query)
            return (notice("error", t("search.failed", ui)), *hidden)
        records = [citation_record(hit, self.metadata(hit.chunk.doc_id)) for hit in hits]
        cited = {r.chunk_id: format_citation(r) for r in records}
        html = render_hits(hits, self.pipeline.highlight, cited, ui)
        if not records:
            return (html, *hidden)
        files = self.export(records, query)
        return (
            html,
            gr.DownloadButton(value=str(files.csv), visible=True),
            gr.DownloadButton(value=str(files.json), visible=True),
            gr.DownloadButton(value=str(files.bibtex), visible=True)
            if files.bibtex
            else gr.DownloadButton(visible=False),
        )

    def clamp_k(self, k: float | None) -> int:
        if k is not None and not is_number(k):
            raise ValueError(f"The number of results k must be a number, not {type(k).__name__}.")
        return max(1, min(int(k or self.settings.default_results), self.settings.max_results))

    @staticmethod
    def check_mode(mode: str | None) -> Mode:
        if mode in SEARCH_MODES:
            return cast("Mode", mode)
        raise ValueError(f"Unknown search mode {mode!r}; use one of {', '.join(SEARCH_MODES)}.")

    def export(self, records: Sequence[Any], query: str) -> ExportFiles:
        """Write the exports into a fresh folder, removing folders left by old searches."""
        with self._export_folder() as folder:
            stem = time.strftime("reportqa-passages-%Y%m%d-%H%M%S")
            return write_exports(records, folder, query, stem=stem)

    @contextmanager
    def _export_folder(self) -> Iterator[Path]:
        """A fresh export folder, kept from clean-up while it is being written; old ones are dropped."""
        with self._export_lock:
            self._drop_old_exports()
            folder = Path(tempfile.mkdtemp(dir=self.export_root))
            self._exporting.add(folder)
        try:
            yield folder
        finally:
            with self._export_lock:
                self._exporting.discard(folder)

    def _drop_old_exports(self) -> None:
        """Delete export folders older than the cutoff (caller holds the export lock).

        A folder still being written is kept whatever its age; one that vanished meanwhile (removed
        by hand, or by the exit handler) is simply skipped.
        """
        cutoff = time.time() - self.settings.export_max_age_s
        for old in list(self.export_root.iterdir()):
            if old in self._exporting:
                continue
            try:
                if old.stat().st_mtime < cutoff:
                    shutil.rmtree(old, ignore_errors=True)
            except FileNotFoundError:
                continue

    # ---- documents ------------------------------------------------------------------------------

    def on_show_page(self, doc_id: str | None, page: float | None, lang: str = DEFAULT_LANG) -> str:
        """The page asked for in the page box; a page the report does not have gets a message."""
        ui = normalise_lang(lang)
        doc = self.docs.get(doc_id or "")
        if doc is None:
            return notice("info", t("docs.choose_report", ui))
        try:
            if doc.pages:
                number = int(page) if is_number(page) else 1
                if not 1 <= number <= int(doc.pages):
                    return notice("warn", t("docs.page_range", ui, pages=doc.pages, page=number))
                return self.page_html(doc, number, (), ui)
            full = self.pipeline.document_text(doc.doc_id)
            return render_page_view(f"{doc.title} · {doc.file_name}", full, lang=ui)
        except Exception:
            log.exception("showing %s page %s failed", doc_id, page)
            return notice("error", t("docs.page_failed", ui))

    def on_step(self, doc_id: str | None, page: float | None, lang: str, step: int) -> tuple[str, Any]:
        """Previous / next page: moves within the report and shows the page."""
        doc = self.docs.get(doc_id or "")
        if doc is None or not doc.pages:
            return self.on_show_page(doc_id, page, lang), gr.Number()
        current = int(page) if is_number(page) else 1
        number = min(max(current + step, 1), int(doc.pages))
        return self.on_show_page(doc_id, number, lang), gr.Number(value=number)

    def page_html(self, doc: DocumentInfo, number: int, quotes: Sequence[str], lang: Lang) -> str:
        """A PDF page as its picture with the quotes' boxes; its extracted text when the file is gone."""
        heading = f"{doc.title} · {t('docs.page_of', lang, page=number, pages=doc.pages)}"
        source = Path(doc.path)
        text = self.pipeline.page_text(doc.doc_id, number)
        span = next((found for q in quotes if (found := _locate(q, text))), None)
        if doc.kind == "pdf" and source.is_file():
            try:
                image = render_page(source, number, [q for q in quotes if q])
            except Exception:
                log.exception("rendering %s page %d failed", source, number)
            else:
                html = render_page_image(
                    heading, image.data_url(), image.width, image.height, image.boxes, lang
                )
                if quotes and not image.boxes:
                    # The picture cannot show where the quote is: mark it in the page's text instead.
                    html += notice("info", t("docs.quote_not_found", lang))
                    html += render_page_view(heading, text, span, lang)
                return html
        return notice("info", t("docs.text_only", lang)) + render_page_view(heading, text, span, lang)

    def on_view_chunk(self, lang: str, evt: gr.EventData) -> tuple[str, Any, Any, Any]:
        """Open the Documents tab at the page (or lines) a citation points to, its quote marked."""
        chunk_id = str(getattr(evt, "chunk_id", ""))
        quote = str(getattr(evt, "quote", "") or "")
        try:
            chunk = self.pipeline.chunk(chunk_id)
            if chunk is None:
                raise LookupError(f"no chunk {chunk_id!r} in the index")
            # Only a quote that really is in the passage is marked (the browser sent it).
            shown = quote if quote and quote in chunk.text else ""
            html, page = self.chunk_view(chunk, normalise_lang(lang), shown)
        except Exception:
            log.exception("viewing chunk %r failed", chunk_id)
            failed = notice("error", t("docs.passage_failed", normalise_lang(lang)))
            return failed, gr.Tabs(), gr.Dropdown(), gr.Number()
        return html, gr.Tabs(selected="docs"), gr.Dropdown(value=chunk.doc_id), gr.Number(value=page)

    def chunk_view(self, chunk: Chunk, lang: Lang = DEFAULT_LANG, quote: str = "") -> tuple[str, int | None]:
        """The cited page (PDF: its picture, the quote boxed) or the cited lines; and the page shown."""
        heading = " · ".join(p for p in (chunk.title, chunk.address, " › ".join(chunk.section_path)) if p)
        doc = self.docs.get(chunk.doc_id)
        if chunk.page_start is not None and doc is not None:
            last = chunk.page_end if chunk.page_end is not None else chunk.page_start
            pages = range(chunk.page_start, max(last, chunk.page_start) + 1)
            wanted = quote or chunk.text
            # The page that holds the quote, when the passage spans two.
            number = next(
                (n for n in pages if _locate(wanted, self.pipeline.page_text(chunk.doc_id, n))), pages[0]
            )
            return self.page_html(doc, number, (wanted,), lang), number
        # Text files have no pages: show the passage with a few lines of context either side.
        full = self.pipeline.document_text(chunk.doc_id)
        lines = self.settings.context_lines
        start = chunk.char_start
        for _ in range(lines):
            start = full.rfind("\n", 0, max(start - 1, 0)) + 1
            if start == 0:
                break
        end = chunk.char_end
        for _ in range(lines):
            nxt = full.find("\n", end + 1)
            if nxt < 0:
                end = len(full)
                break
            end = nxt
        span = (chunk.char_start - start, chunk.char_end - start)
        if quote and (at := full.find(quote, chunk.char_start, chunk.char_end + len(quote))) >= 0:
            span = (at - start, at - start + len(quote))
        return render_page_view(heading, full[start:end], span, lang), None

    # ---- uploads --------------------------------------------------------------------------------

    def on_upload(
        self,
        files: list[Any] | None,
        shown: list[str] | None,
        lang: str,
        progress: gr.Progress = _NO_PROGRESS,
    ) -> tuple[Any, ...]:
        """Check, store and ingest each uploaded file; a failed file leaves the others and the index alone."""
        from qa.pipeline import ingest

        ui = normalise_lang(lang)
        if not self.settings.allow_upload:
            return (notice("error", t("upload.failed", ui, name="")), *(gr.skip(),) * 7)
        paths = [Path(getattr(f, "name", f)) for f in (files or []) if f]
        if not paths:
            return (notice("info", t("upload.need_file", ui)), *(gr.skip(),) * 7)
        messages: list[str] = []
        index_dir = self.pipeline.config.index_dir
        before = self.pipeline.generation
        for i, data in enumerate(paths):
            # Gradio keeps the browser's file name as the temporary file's name.
            name = data.name
            progress((i, len(paths)), desc=t("upload.working", ui))
            try:
                stored_name = check_upload(name, data, int(self.settings.max_upload_mb * 1_000_000))
            except UploadRejected as exc:
                messages.append(notice("warn", t(exc.key, ui, **exc.values)))
                continue
            stored = store_upload(data, index_dir, stored_name)
            try:
                report = ingest([stored], self.pipeline.config, progress=False)
            except Exception:
                log.exception("ingesting upload %s failed", stored)
                stored.unlink(missing_ok=True)
                messages.append(notice("error", t("upload.failed", ui, name=name)))
                continue
            if report.skipped:
                stored.unlink(missing_ok=True)
                reason = "; ".join(s.reason for s in report.skipped)
                messages.append(notice("warn", t("upload.skipped", ui, name=name, reason=reason)))
            elif report.added or report.updated:
                detail = report.details.get(stored.name, "")
                messages.append(notice("info", t("upload.added", ui, name=name, detail=detail)))
            else:
                stored.unlink(missing_ok=True)
                messages.append(notice("info", t("upload.unchanged", ui, name=name)))
        # The pipeline looks for a new generation at most once a second: wait for it, so the list
        # below and the next question already include the new report.
        deadline = time.monotonic() + 5.0
        while self.pipeline.generation == before and time.monotonic() < deadline:
            time.sleep(0.2)
            self.pipeline.documents()
        refreshed = self.on_load(shown, ui)
        return ("".join(messages), *refreshed, None)

    # ---- API ------------------------------------------------------------------------------------

    def api_ask(
        self,
        question: str,
        doc_ids: list[str] | None = None,
        history: list[str] | None = None,
        mode: str = "hybrid",
    ) -> dict[str, Any]:
        """Answer a question over the indexed reports, with verified citations."""
        try:
            flt = self.make_filter(doc_ids)
            # The history goes through as sent: the pipeline checks its type and cleans each entry.
            answer = self.pipeline.ask(question, filter=flt, history=history, mode=self.check_mode(mode))
        except (QAError, ValueError) as exc:
            return error_payload(str(exc))
        except Exception:
            log.exception("API ask %r failed", question)
            return error_payload("internal error; see the server log")
        return answer_payload(answer, self.metadata)

    def api_search(
        self,
        query: str,
        k: int = 10,
        doc_ids: list[str] | None = None,
        page_min: int | None = None,
        page_max: int | None = None,
        section: str | None = None,
        mode: str = "hybrid",
    ) -> dict[str, Any]:
        """Ranked passages for a query, each with its formatted citation."""
        try:
            flt = self.make_filter(doc_ids, page_min, page_max, section)
            hits = self.pipeline.search(query, k=self.clamp_k(k), filter=flt, mode=self.check_mode(mode))
        except (QAError, ValueError) as exc:
            return error_payload(str(exc))
        except Exception:
            log.exception("API search %r failed", query)
            return error_payload("internal error; see the server log")
        return {"query": query, "mode": mode, "results": hits_payload(hits, self.metadata)}


def _locate(passage: str, page: str) -> tuple[int, int] | None:
    """The span of `passage` on a page; a passage that runs onto the next page matches by its head."""
    for probe in (passage, passage[:80], passage[:30]):
        probe = probe.strip()
        if probe:
            at = page.find(probe)
            if at >= 0:
                return at, min(at + len(passage.strip()), len(page))
    return None


def build_app(pipeline: Pipeline, settings: UISettings | None = None) -> gr.Blocks:
    """Lay out the three views over an opened pipeline (which itself follows newly ingested indexes).

    Components are created with their zh-TW labels; `relabel` lists every component whose text
    depends on the interface language, so switching language updates them all in one event.
    """
    settings = settings or UISettings()
    rq = ReportApp(pipeline, settings)
    choices = rq.doc_choices()
    z = DEFAULT_LANG

    # delete_cache: Gradio's copies of served export files are removed after an hour.
    with gr.Blocks(title="ReportQA 報告問答", analytics_enabled=False, delete_cache=(3600, 3600)) as app:
        turns = gr.State([])
        lang = gr.State(z)
        shown_docs = gr.State(sorted(rq.docs))  # the reports this page lists
        with gr.Row(equal_height=True, elem_id="rq-topbar"):
            header = gr.HTML(rq.header_html(z))
            lang_pick = gr.Radio(
                [(LANG_NAMES[code], code) for code in LANGS],
                value=z,
                label=t("lang.label", z),
                elem_id="rq-lang",
                scale=0,
                min_width=260,
            )
            evaluator = gr.Checkbox(
                False,
                label=t("evaluator.label", z),
                info=t("evaluator.info", z),
                elem_id="rq-evaluator",
                scale=0,
                min_width=200,
            )
        with gr.Tabs(elem_id="rq-tabs") as tabs:
            with (
                gr.Tab(t("tab.chat", z), id="chat", elem_id="rq-tab-chat") as chat_tab,
                gr.Row(equal_height=False),
            ):
                with gr.Column(scale=3):
                    transcript = gr.HTML(
                        render_transcript([], z), js_on_load=_INTERACTIONS_JS, elem_id="rq-transcript"
                    )
                    with gr.Row(equal_height=True):
                        question = gr.Textbox(
                            placeholder=t("chat.placeholder", z),
                            show_label=False,
                            lines=1,
                            max_lines=4,
                            scale=6,
                            elem_id="rq-question",
                        )
                        ask = gr.Button(t("chat.ask", z), variant="primary", scale=1, elem_id="rq-ask")
                    chat_status = gr.HTML(chat_hint(z), elem_id="rq-chat-status")
                with gr.Column(scale=1, min_width=260):
                    new_chat = gr.Button(t("chat.new", z), elem_id="rq-new")
                    with gr.Row():
                        md_file = gr.DownloadButton(
                            t("export.md", z), visible=False, size="sm", elem_id="rq-export-md"
                        )
                        docx_file = gr.DownloadButton(
                            t("export.docx", z), visible=False, size="sm", elem_id="rq-export-docx"
                        )
                    chat_docs = gr.Dropdown(
                        choices,
                        value=[],
                        multiselect=True,
                        label=t("chat.reports", z),
                        info=t("chat.reports_info", z),
                        elem_id="rq-chat-docs",
                    )
                    gr.Examples(
                        [[q] for q in settings.examples], inputs=[question], label=t("chat.examples", z)
                    )

            with gr.Tab(t("tab.search", z), id="search", elem_id="rq-tab-search") as search_tab:
                with gr.Row(equal_height=True):
                    query = gr.Textbox(
                        placeholder=t("search.placeholder", z),
                        show_label=False,
                        scale=6,
                        elem_id="rq-query",
                    )
                    search = gr.Button(t("search.button", z), variant="primary", scale=1, elem_id="rq-search")
                with gr.Row():
                    search_docs = gr.Dropdown(
                        choices,
                        value=[],
                        multiselect=True,
                        label=t("search.reports", z),
                        scale=3,
                        elem_id="rq-search-docs",
                    )
                    section = gr.Textbox(label=t("search.section", z), scale=2, elem_id="rq-section")
                    pages = gr.Textbox(
                        label=t("search.pages", z),
                        placeholder=t("search.pages_placeholder", z),
                        scale=1,
                        elem_id="rq-pages",
                    )
                with gr.Row():
                    k = gr.Slider(
                        1,
                        settings.max_results,
                        value=settings.default_results,
                        step=1,
                        label=t("search.k", z),
                        scale=3,
                    )
                    # Retrieval modes mean something to evaluators only: shown with the evaluator switch.
                    mode = gr.Radio(
                        list(SEARCH_MODES),
                        value="hybrid",
                        label=t("search.mode", z),
                        scale=2,
                        elem_id="rq-mode",
                        elem_classes=["rq-eval-block"],
                    )
                with gr.Row():
                    csv_file = gr.DownloadButton(
                        t("search.export_csv", z), visible=False, size="sm", elem_id="rq-csv"
                    )
                    json_file = gr.DownloadButton(
                        t("search.export_json", z), visible=False, size="sm", elem_id="rq-json"
                    )
                    bib_file = gr.DownloadButton(
                        t("search.export_bib", z), visible=False, size="sm", elem_id="rq-bib"
                    )
                results = gr.HTML("", js_on_load=_INTERACTIONS_JS, elem_id="rq-results")

            with gr.Tab(t("tab.docs", z), id="docs", elem_id="rq-tab-docs") as docs_tab:
                docs_table = gr.HTML(render_documents(rq.document_rows(), z), elem_id="rq-docs")
                with gr.Row(equal_height=True):
                    doc_pick = gr.Dropdown(
                        choices, value=None, label=t("docs.report", z), scale=3, elem_id="rq-doc-pick"
                    )
                    page_no = gr.Number(
                        value=1, label=t("docs.page", z), precision=0, scale=1, elem_id="rq-page-no"
                    )
                    show = gr.Button(t("docs.show", z), scale=1, elem_id="rq-show")
                    prev_page = gr.Button(t("docs.prev", z), scale=1, elem_id="rq-prev")
                    next_page = gr.Button(t("docs.next", z), scale=1, elem_id="rq-next")
                with gr.Row(visible=settings.allow_upload, elem_id="rq-upload-row"):
                    upload = gr.File(
                        label=t("upload.label", z),
                        file_count="multiple",
                        scale=3,
                        elem_id="rq-upload",
                    )
                    with gr.Column(scale=1):
                        add_files = gr.Button(
                            t("upload.button", z), variant="primary", elem_id="rq-upload-add"
                        )
                        upload_status = gr.HTML("", elem_id="rq-upload-status")
                page_view = gr.HTML(
                    notice("info", t("docs.choose", z)),
                    js_on_load=_PAGE_VIEW_JS,
                    elem_id="rq-page-view",
                )

        # Every component whose text depends on the language, with its text in a given language.
        relabel: list[tuple[gr.components.Component | gr.blocks.BlockContext, Callable[[Lang], Any]]] = [
            (header, lambda ln: rq.header_html(ln)),
            (lang_pick, lambda ln: gr.Radio(label=t("lang.label", ln))),
            (evaluator, lambda ln: gr.Checkbox(label=t("evaluator.label", ln), info=t("evaluator.info", ln))),
            (chat_tab, lambda ln: gr.Tab(label=t("tab.chat", ln))),
            (search_tab, lambda ln: gr.Tab(label=t("tab.search", ln))),
            (docs_tab, lambda ln: gr.Tab(label=t("tab.docs", ln))),
            (question, lambda ln: gr.Textbox(placeholder=t("chat.placeholder", ln))),
            (ask, lambda ln: gr.Button(t("chat.ask", ln))),
            (chat_status, lambda ln: chat_hint(ln)),
            (new_chat, lambda ln: gr.Button(t("chat.new", ln))),
            (md_file, lambda ln: gr.DownloadButton(t("export.md", ln))),
            (docx_file, lambda ln: gr.DownloadButton(t("export.docx", ln))),
            (chat_docs, lambda ln: gr.Dropdown(label=t("chat.reports", ln), info=t("chat.reports_info", ln))),
            (query, lambda ln: gr.Textbox(placeholder=t("search.placeholder", ln))),
            (search, lambda ln: gr.Button(t("search.button", ln))),
            (search_docs, lambda ln: gr.Dropdown(label=t("search.reports", ln))),
            (section, lambda ln: gr.Textbox(label=t("search.section", ln))),
            (
                pages,
                lambda ln: gr.Textbox(
                    label=t("search.pages", ln), placeholder=t("search.pages_placeholder", ln)
                ),
            ),
            (k, lambda ln: gr.Slider(label=t("search.k", ln))),
            (mode, lambda ln: gr.Radio(label=t("search.mode", ln))),
            (csv_file, lambda ln: gr.DownloadButton(t("search.export_csv", ln))),
            (json_file, lambda ln: gr.DownloadButton(t("search.export_json", ln))),
            (bib_file, lambda ln: gr.DownloadButton(t("search.export_bib", ln))),
            (docs_table, lambda ln: render_documents(rq.document_rows(), ln)),
            (doc_pick, lambda ln: gr.Dropdown(label=t("docs.report", ln))),
            (page_no, lambda ln: gr.Number(label=t("docs.page", ln))),
            (show, lambda ln: gr.Button(t("docs.show", ln))),
            (upload, lambda ln: gr.File(label=t("upload.label", ln))),
            (add_files, lambda ln: gr.Button(t("upload.button", ln))),
            (prev_page, lambda ln: gr.Button(t("docs.prev", ln))),
            (next_page, lambda ln: gr.Button(t("docs.next", ln))),
        ]
        relabel_outputs = [lang, transcript, *(component for component, _ in relabel)]

        def on_language(value: str | None, current: list[Turn] | None) -> tuple[Any, ...]:
            ln = normalise_lang(value)
            return (ln, render_transcript(current or [], ln), *(text(ln) for _, text in relabel))

        def on_open(request: gr.Request, current: list[Turn] | None) -> tuple[Any, ...]:
            """A page opened with ?lang=en or ?lang=zh-CN starts in that language."""
            wanted = normalise_lang(request.query_params.get("lang") if request else None)
            if wanted == DEFAULT_LANG:
                return (gr.skip(),) * (len(relabel_outputs) + 1)
            return (gr.Radio(value=wanted), *on_language(wanted, current))

        lang_pick.input(
            on_language, [lang_pick, turns], relabel_outputs, js=_LANG_JS, api_visibility="private"
        )
        evaluator.change(None, evaluator, None, js=_EVALUATOR_JS)

        ask_inputs = [question, chat_docs, turns, lang]
        ask_outputs = [transcript, turns, question, chat_status, md_file, docx_file]
        for trigger in (ask.click, question.submit):
            trigger(rq.on_ask, ask_inputs, ask_outputs, api_visibility="private", show_progress="hidden")
        new_chat.click(
            lambda ln: (
                render_transcript([], normalise_lang(ln)),
                [],
                "",
                chat_hint(normalise_lang(ln)),
                gr.DownloadButton(visible=False),
                gr.DownloadButton(visible=False),
            ),
            lang,
            [transcript, turns, question, chat_status, md_file, docx_file],
            api_visibility="private",
        )
        search_inputs = [query, search_docs, pages, section, k, mode, lang]
        search_outputs = [results, csv_file, json_file, bib_file]
        for trigger in (search.click, query.submit):
            trigger(rq.on_search, search_inputs, search_outputs, api_visibility="private")
        view_outputs = [page_view, tabs, doc_pick, page_no]
        transcript.click(
            rq.on_transcript_click, [turns, lang], [*view_outputs, chat_status], api_visibility="private"
        )
        results.click(rq.on_view_chunk, lang, view_outputs, api_visibility="private")
        show.click(rq.on_show_page, [doc_pick, page_no, lang], page_view, api_visibility="private")
        page_no.submit(rq.on_show_page, [doc_pick, page_no, lang], page_view, api_visibility="private")
        for button, step in ((prev_page, -1), (next_page, 1)):
            button.click(
                lambda d, p, ln, step=step: rq.on_step(d, p, ln, step),
                [doc_pick, page_no, lang],
                [page_view, page_no],
                api_visibility="private",
            )
        app.load(on_open, turns, [lang_pick, *relabel_outputs], api_visibility="private")
        app.load(
            rq.on_load,
            [shown_docs, lang],
            [header, docs_table, chat_docs, search_docs, doc_pick, shown_docs],
            api_visibility="private",
        )
        if settings.allow_upload:
            add_files.click(
                rq.on_upload,
                [upload, shown_docs, lang],
                [upload_status, header, docs_table, chat_docs, search_docs, doc_pick, shown_docs, upload],
                api_visibility="private",
            )
        gr.api(rq.api_ask, api_name="ask")
        gr.api(rq.api_search, api_name="search")
    return app


def launch(
    app: gr.Blocks,
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    auth: tuple[str, str] | None = None,
    settings: UISettings | None = None,
    block: bool = True,
) -> None:
    """Start the server; with block=False it returns once the server is listening (for tests)."""
    settings = settings or UISettings()
    app.queue(default_concurrency_limit=settings.concurrency)
    app.launch(
        server_name=host,
        server_port=port,
        auth=auth,
        prevent_thread_lock=not block,
        show_error=False,
        quiet=not block,
        footer_links=["api"],
        # Gradio refuses anything far over the app's own cap before it reaches the disk.
        max_file_size=int(settings.max_upload_mb * 2_000_000),
        ssr_mode=False,
        theme=_theme(),
        css=CSS_PATH.read_text(encoding="utf-8"),
        head=_HEAD,
    )


def warm_up(pipeline: Pipeline) -> None:
    """Run one search so the embedding model is loaded before the first user waits for it."""
    started = time.perf_counter()
    try:
        pipeline.search("warm up", k=1)
    except QAError as exc:
        log.warning("warm-up search failed: %s", exc)
    log.info("model ready in %.1f s", time.perf_counter() - started)


def serve(
    config: Config,
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    auth: tuple[str, str] | None = None,
    settings: UISettings | None = None,
) -> None:
    """Open the index once and serve the app until interrupted.

    Raises qa.errors.QAError (IndexMissing, ModelMismatch, ...) when the index cannot be opened.
    """
    from qa.pipeline import Pipeline

    pipeline = Pipeline.open(config)
    warm_up(pipeline)
    app = build_app(pipeline, settings)
    if host not in ("127.0.0.1", "localhost", "::1") and auth is None:
        log.warning("serving on %s without a login; anyone on the network can use the app", host)
    launch(app, host=host, port=port, auth=auth, settings=settings)
