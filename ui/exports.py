"""A conversation taken into a memo: plain text for the clipboard, Markdown, and a Word document.

Citations travel with the answers: each answer is followed by its sources (report, page or lines,
and the quote verbatim), so a pasted or exported answer can still be checked against the report.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from ui.feedback import AnswerRecord
from ui.i18n import DEFAULT_LANG, TAIPEI, Lang, t


def source_line(number: int, title: str, address: str, quote: str) -> str:
    where = ", ".join(part for part in (title, address) if part)
    return f"[{number}] {where}：「{' '.join(quote.split())}」"


def answer_text(record: AnswerRecord, lang: Lang = DEFAULT_LANG) -> str:
    """The answer followed by its numbered sources, ready to paste into a memo or an e-mail."""
    lines = [record.text.strip()]
    if record.citations:
        lines += ["", t("answer.sources", lang) + "："]
        lines += [source_line(c.number, c.title, c.address, c.quote) for c in record.citations]
    return "\n".join(lines)


def conversation_markdown(records: Sequence[AnswerRecord], lang: Lang = DEFAULT_LANG) -> str:
    """Questions as headings, answers as text, sources as a numbered list under each answer."""
    stamp = datetime.now(TAIPEI).strftime("%Y-%m-%d %H:%M")
    out = [f"# {t('export.title', lang)}", "", f"{t('export.when', lang, when=stamp)}", ""]
    for i, record in enumerate(records, 1):
        out += [f"## {i}. {_md(record.question)}", "", _md(record.text.strip()), ""]
        if record.citations:
            out += [f"**{t('answer.sources', lang)}**", ""]
            out += [f"- {_md(source_line(c.number, c.title, c.address, c.quote))}" for c in record.citations]
            out.append("")
    return "\n".join(out)


def _md(text: str) -> str:
    """Report and user text kept literal: characters Markdown would read as markup are escaped."""
    for ch in "\\`*_#<>[]|":
        text = text.replace(ch, "\\" + ch)
    return text.replace("\n", "  \n")


def conversation_docx(records: Sequence[AnswerRecord], target: Path, lang: Lang = DEFAULT_LANG) -> Path:
    """A Word document: a heading per question, the answer, then its sources as a numbered list."""
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Pt

    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.size = Pt(11)
    # East Asian text needs an East Asian font set explicitly, or Word falls back to a Latin face.
    normal.font.name = "Calibri"  # creates the style's font element that the East Asian face joins
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), "Microsoft JhengHei")
    doc.add_heading(t("export.title", lang), level=0)
    stamp = datetime.now(TAIPEI).strftime("%Y-%m-%d %H:%M")
    doc.add_paragraph(t("export.when", lang, when=stamp))
    for i, record in enumerate(records, 1):
        doc.add_heading(f"{i}. {record.question}", level=1)
        for paragraph in record.text.strip().split("\n"):
            doc.add_paragraph(paragraph)
        if record.citations:
            doc.add_paragraph(t("answer.sources", lang), style="Heading 3")
            for c in record.citations:
                doc.add_paragraph(source_line(c.number, c.title, c.address, c.quote), style="List Number")
    target.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(target))
    return target
