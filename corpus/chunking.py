"""Cut a Document into citable chunks along its structure."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from corpus.normalize import detect_script
from corpus.structure import Block, Section, Span, parse_sections
from corpus.types import Chunk, ChunkKind, Document

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
_CLAUSE_END = re.compile(r"[，、,;:：]\s*|\s+")
# A sentence has these; a caption line (「智慧國家方案總體指標2024年階段達成情形」) has none.
_SENTENCE_MARKS = re.compile(r"[。！？；：，!?;]|[.:](?:\s|$)")


@dataclass
class ChunkingConfig:
    """Chunk sizes in budget characters: one per CJK character, one per three other characters."""

    target_chars: int = 350  # Chinese characters; English counted so ~ same token budget
    max_chars: int = 500
    min_chars: int = 80  # tiny tail pieces merge with their neighbour in the same section
    overlap_sentences: int = 1  # small overlap between consecutive chunks of one section
    table_max_rows: int = 12
    # Layout of the chunks themselves; part of the index settings, so raising it makes the next
    # ingest read every document again. 2: tables from PDF cell grids, cut at page breaks;
    # 3: later slices repeat every header level of a table; 4: an unnumbered caption line right
    # above a table travels with the table; 5: Markdown pipe tables arrive as tab-separated rows.
    chunk_format: int = 5


def budget(text: str) -> int:
    """Length on the chunk-size scale: CJK characters count 1, other non-space characters 1/3.

    A CJK character is about one model token and an English token about 3-4 characters, so
    350 budget characters are ~350 CJK characters or ~1,000 characters of English.
    """
    cjk = len(_CJK.findall(text))
    other = len(text) - cjk - text.count(" ") - text.count("\n")
    return cjk + (other + 2) // 3


@dataclass
class _Piece:
    units: list[Span]
    kind: ChunkKind
    header: str | None = None

    @property
    def start(self) -> int:
        return self.units[0].start

    @property
    def end(self) -> int:
        return self.units[-1].end


def chunk_document(doc: Document, config: ChunkingConfig | None = None) -> list[Chunk]:
    """Chunks that never cross a section, never cut a sentence or a table row."""
    config = config or ChunkingConfig()
    chunks: list[Chunk] = []
    for section in parse_sections(doc):
        if section.heading_only and section.path:
            continue  # a heading directly followed by a sub-heading: its title is in the children's paths
        for piece in _section_pieces(doc.text, section, config, [p.char_start for p in doc.pages]):
            chunks.append(_make_chunk(doc, section.path, piece, len(chunks)))
    return chunks


def _section_pieces(
    text: str, section: Section, config: ChunkingConfig, page_starts: list[int] | None = None
) -> list[_Piece]:
    pieces: list[_Piece] = []
    for block in _captions_to_tables(text, section.blocks):
        if block.kind == "table":
            pieces.extend(_table_pieces(text, block, config, page_starts or []))
        else:
            pieces.extend(_text_pieces(text, block, config))
    return _merge_small(text, pieces, config)


def _captions_to_tables(text: str, blocks: list[Block]) -> list[Block]:
    """A table without a numbered caption takes the line right above it as its caption, when that
    line is one whole line and reads as a title (no sentence marks): so the table's chunk carries
    the words that name it, and reading the chunk back finds its caption."""
    out: list[Block] = []
    for block in blocks:
        prev = out[-1] if out else None
        if block.kind == "table" and block.units and prev is not None and prev.kind == "text" and prev.units:
            last = prev.units[-1]
            line = text[last.start : last.end].strip()
            first_row = text[block.units[0].start : block.units[0].end].split("\n")[0]
            whole_line = last.start == 0 or text[last.start - 1] == "\n"
            titled = bool(line) and "\n" not in line and not _SENTENCE_MARKS.search(line)
            if titled and whole_line and "\t" in first_row:
                out[-1] = Block(prev.kind, prev.units[:-1], prev.header)
                units = [Span(last.start, block.units[0].end), *block.units[1:]]
                header = "\n".join(p for p in (line, block.header) if p)
                block = Block("table", units, header)
        out.append(block)
    return [b for b in out if b.units]


def _split_long(text: str, span: Span, config: ChunkingConfig) -> list[Span]:
    """A sentence longer than max_chars is cut at clause boundaries (or, failing that, anywhere)."""
    if budget(text[span.start : span.end]) <= config.max_chars:
        return [span]
    out: list[Span] = []
    start = span.start
    last_cut = None
    for m in _CLAUSE_END.finditer(text, span.start, span.end):
        if budget(text[start : m.end()]) > config.target_chars and last_cut is not None:
            out.append(Span(start, last_cut))
            start = last_cut
        last_cut = m.end()
    while budget(text[start : span.end]) > config.max_chars:
        cut = start + config.max_chars
        out.append(Span(start, cut))
        start = cut
    out.append(Span(start, span.end))
    return [s for s in out if s.end > s.start]


def _text_pieces(text: str, block: Block, config: ChunkingConfig) -> list[_Piece]:
    units = [s for unit in block.units for s in _split_long(text, unit, config)]
    pieces: list[_Piece] = []
    current: list[Span] = []
    fresh = 0  # units in `current` that are not overlap from the previous piece
    for unit in units:
        if current and fresh and budget(text[current[0].start : unit.end]) > config.target_chars:
            pieces.append(_Piece(current, "text"))
            overlap = current[-config.overlap_sentences :] if config.overlap_sentences > 0 else []
            if overlap and budget(text[overlap[0].start : unit.end]) > config.max_chars:
                overlap = []
            current, fresh = list(overlap), 0
        current.append(unit)
        fresh += 1
    if current and fresh:
        pieces.append(_Piece(current, "text"))
    return pieces


def _table_pieces(text: str, block: Block, config: ChunkingConfig, page_starts: list[int]) -> list[_Piece]:
    """Slices of rows; a PDF table is also cut at page breaks, so that a cited row has one page."""
    header_budget = budget(block.header or "")
    pieces: list[_Piece] = []
    current: list[Span] = []
    for row in block.units:
        new_page = bool(current and page_starts) and bisect.bisect_right(
            page_starts, row.start
        ) != bisect.bisect_right(page_starts, current[-1].end - 1)
        if current and (
            new_page
            or len(current) >= config.table_max_rows
            or budget(text[current[0].start : row.end]) + (header_budget if pieces else 0) > config.max_chars
        ):
            pieces.append(_Piece(current, "table", block.header if pieces else None))
            current = []
        current.append(row)
    if current:
        pieces.append(_Piece(current, "table", block.header if pieces else None))
    return pieces


def _merge_small(text: str, pieces: list[_Piece], config: ChunkingConfig) -> list[_Piece]:
    """Merge pieces under min_chars into a neighbour of the same section."""
    out: list[_Piece] = []
    for piece in pieces:
        small = budget(text[piece.start : piece.end]) < config.min_chars
        if out and (small or budget(text[out[-1].start : out[-1].end]) < config.min_chars):
            prev = out[-1]
            # Pieces of one table stay apart: they were cut by rows so that each repeats the header.
            if not (prev.kind == "table" and piece.kind == "table"):
                units = prev.units + [u for u in piece.units if u.start >= prev.end]
                kind: ChunkKind = "table" if "table" in (prev.kind, piece.kind) else "text"
                header = prev.header if prev.kind == "table" else None
                out[-1] = _Piece(units, kind, header)
                continue
        out.append(piece)
    return out


def _make_chunk(doc: Document, path: tuple[str, ...], piece: _Piece, ordinal: int) -> Chunk:
    start, end = piece.start, piece.end
    body = doc.text[start:end]
    page_start = page_end = line_start = line_end = None
    page_label = None
    ocr = False
    if doc.pages:
        starts = [p.char_start for p in doc.pages]
        first = doc.pages[max(0, bisect.bisect_right(starts, start) - 1)]
        last = doc.pages[max(0, bisect.bisect_right(starts, max(start, end - 1)) - 1)]
        page_start, page_end = first.number, last.number
        page_label = first.label if first.number == last.number else f"{first.label}-{last.label}"
        ocr = any(p.ocr for p in doc.pages[first.number - 1 : last.number])
    elif doc.line_starts:
        line_start = bisect.bisect_right(doc.line_starts, start)
        line_end = bisect.bisect_right(doc.line_starts, max(start, end - 1))
    return Chunk(
        chunk_id=f"{doc.doc_id}:{ordinal}",
        doc_id=doc.doc_id,
        ordinal=ordinal,
        file_name=doc.file_name,
        title=doc.title,
        text=body,
        char_start=start,
        char_end=end,
        section_path=path,
        page_start=page_start,
        page_end=page_end,
        page_label=page_label,
        line_start=line_start,
        line_end=line_end,
        script=detect_script(body),
        kind=piece.kind,
        table_header=piece.header,
        ocr=ocr,
    )
