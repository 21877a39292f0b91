"""Tables: cell grids recovered from bordered PDF tables, and the typed `Table` read from table text.

PDF pages: pdfplumber finds the ruling lines of bordered tables and the words inside each cell; the
page text (from pypdf) then gets each table's lines replaced by one tab-separated line per row, the
form the .txt reports use. From there on, PDF, text (tab rows) and Markdown (pipe rows) tables are
read alike by `parse_table`.
"""

from __future__ import annotations

import bisect
import difflib
import io
import logging
import re
from dataclasses import dataclass, replace
from typing import Any

from corpus.cleaning import squash
from corpus.normalize import is_cjk
from corpus.types import Document, Table

log = logging.getLogger(__name__)

Grid = list[list[str]]
MARGIN_LINES = 2  # running header/footer lines a page may have (corpus.cleaning.margin_lines' depth)

_NUMBER = re.compile(
    r"^(附表|附图|附圖|表|Table)\s*([\dA-Z一二三四五六七八九十]+(?:[-–.]\d+)*)\s*[：:、.]?\s*"
)
_UNIT_LABEL = re.compile(r"[（(]?\s*(?:單位|单位|Unit)\s*[：:]\s*([^）)]+?)\s*[）)]?\s*$", re.IGNORECASE)
_PARENS = re.compile(r"\s*[（(]([^（）()]{1,40})[）)]\s*$")
_NOTE = re.compile(
    r"^(?:資料來源|资料来源|來源|来源|註|注|備註|备注|說明|说明|Source|Note)s?\s*\d*\s*[：:.]", re.IGNORECASE
)
_YEARISH = re.compile(r"^(?:19|20)\d{2}\s*年?$")
_NUMERIC_CELL = re.compile(r"^[-+(]?\s*[\d,]+(?:\.\d+)?\s*%?[)]?$|^[-–—]$")


@dataclass(frozen=True)
class PageTable:
    """One bordered table found on a PDF page: its cells and where its text starts and ends."""

    grid: Grid
    first_line: int  # index in the page's text lines after splicing
    last_line: int  # inclusive
    at_top: bool  # nothing but the table above it on the page
    at_bottom: bool  # nothing but (at most) the page number below it


_CJK_GAP = re.compile(r"(?<=[\u4e00-\u9fff])[ \u3000]+(?=[\u4e00-\u9fff])")


def close_cjk_gaps(text: str) -> str:
    """A name wrapped inside its cell (「國家科學及技術 委員會」) read whole: no space between Chinese."""
    return _CJK_GAP.sub("", text)


def join_wrapped(text: str) -> str:
    """A cell's wrapped lines as one line: no space inside CJK, one space next to Latin or digits."""
    parts = [p.strip() for p in text.split("\n") if p.strip()]
    out = ""
    for part in parts:
        tight = (is_cjk(out[-1]) and is_cjk(part[0])) if out else True
        # A number wrapped in a narrow column (「430,1」/「60」) was never spaced.
        tight = tight or (out[-1:] in set("0123456789,.") and part[0].isdigit())
        if out and not tight and out[-1] not in "（(/-" and part[0] not in "，。、）)":
            out += " "
        out += part
    return re.sub(r"[ \t]+", " ", out)


def grid_rows(raw: list[list[str | None]]) -> Grid:
    """pdfplumber's rows (None for cells covered by a merged neighbour) as clean strings."""
    rows = [[join_wrapped(cell or "").replace("\t", " ") for cell in row] for row in raw]
    return [row for row in rows if any(row)]


def find_grids(data: bytes, start: int, stop: int) -> list[list[Grid]]:
    """Bordered tables of pages [start, stop), top to bottom; [] for a page that cannot be read."""
    import pdfplumber

    out: list[list[Grid]] = []
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except Exception as exc:  # pypdf already read the file; without tables the text still stands
        log.info("table detection unavailable: %s", str(exc)[:120])
        return [[] for _ in range(start, stop)]
    pdfium: Any = _open_pdfium(data)
    drawn = _pages_with_drawings(pdfium, start, stop)
    with pdf:
        for index in range(start, stop):
            if index not in drawn:
                out.append([])
                continue
            try:
                page = pdf.pages[index]
                found = sorted(page.find_tables(), key=lambda t: (t.bbox[1], t.bbox[0]))
                grids = []
                for table in found:
                    raw = table.extract()
                    if not any(cell for row in raw for cell in row):
                        # pdfminer cannot decode some CJK fonts (an embedded CMap as /Encoding):
                        # the cells are read again by pdfium, which draws with those fonts.
                        raw = _pdfium_cells(pdfium, index, table) if pdfium is not None else raw
                    grids.append(grid_rows(raw))
                out.append([g for g in grids if len(g) >= 1 and max(len(r) for r in g) >= 2])
                page.close()
            except Exception as exc:  # one odd page costs only its tables
                log.info("page %d: tables not read (%s)", index + 1, str(exc)[:120])
                out.append([])
    if pdfium is not None:
        pdfium.close()
    return out


def _pages_with_drawings(pdfium: Any, start: int, stop: int) -> set[int]:
    """Pages of [start, stop) that draw any path; only these can hold a bordered table.

    pdfplumber finds tables from ruled lines and rectangles, and on a page without a single path
    there is none to find, yet parsing the page for them costs more than reading its text (most
    report pages are plain prose). pdfium lists a page's paths, inside forms too, in milliseconds.
    """
    everything = set(range(start, stop))
    if pdfium is None:
        return everything
    import pypdfium2.raw as pdfium_c

    drawn: set[int] = set()
    for index in range(start, stop):
        try:
            page = pdfium[index]
            if next(iter(page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_PATH])), None) is not None:
                drawn.add(index)
        except Exception:  # a page pdfium cannot list is left to pdfplumber
            drawn.add(index)
    return drawn


def _open_pdfium(data: bytes) -> Any:
    try:
        import pypdfium2

        return pypdfium2.PdfDocument(data)
    except Exception as exc:  # without it such tables stay text
        log.info("pdfium unavailable for table cells: %s", str(exc)[:120])
        return None


def _pdfium_cells(document: Any, index: int, table: Any) -> list[list[str | None]]:
    """The table's cell texts read by pdfium within pdfplumber's cell boxes (top-left origin)."""
    page = document[index]
    height = page.get_height()
    text_page = page.get_textpage()
    rows: list[list[str | None]] = []
    for row in table.rows:
        cells: list[str | None] = []
        for box in row.cells:
            if box is None:
                cells.append(None)
                continue
            x0, top, x1, bottom = box
            text = text_page.get_text_bounded(left=x0, bottom=height - bottom, right=x1, top=height - top)
            cells.append(text.replace("\r\n", "\n").replace("\r", "\n"))
        rows.append(cells)
    return rows


def splice(page_text: str, grids: list[Grid]) -> tuple[str, list[PageTable]]:
    """Replace each table's text lines by tab-separated rows; tables not found verbatim stay as text.

    A table's cells, whitespace removed and read row by row, must equal a run of whole lines of the
    page text (again whitespace removed): both come from the same content stream, so anything else
    means the table was not where its cells say, and the text is the safer copy.
    """
    lines = page_text.split("\n")
    keys = [squash(line) for line in lines]
    out: list[str] = []
    found: list[PageTable] = []
    i = 0
    for grid in grids:
        target = squash("".join(cell for row in grid for cell in row))
        if not target:
            continue
        match = None
        for s in range(i, len(lines)):
            if not keys[s] or not target.startswith(keys[s]):
                continue
            acc = ""
            e = s
            while e < len(lines) and target.startswith(acc + keys[e]):
                acc += keys[e]
                e += 1
                if acc == target:
                    match = (s, e)
                    break
            if match:
                break
        if match is None:
            log.debug("table not located in page text: %s", target[:40])
            continue
        s, e = match
        out.extend(lines[i:s])
        first = len(out)
        out.extend("\t".join(row) for row in grid)
        found.append(PageTable(grid, first, len(out) - 1, False, False))
        i = e
    out.extend(lines[i:])
    nonblank = [n for n, line in enumerate(out) if line.strip()]
    if found and nonblank:
        # Above/below the table only the page's margin lines (running header, page number) may stand:
        # at most MARGIN_LINES lines, as corpus.cleaning.margin_lines looks for them.
        top, low = found[0], found[-1]
        above = [n for n in nonblank if n < top.first_line]
        below = [n for n in nonblank if n > low.last_line]
        found[0] = replace(top, at_top=len(above) <= MARGIN_LINES)
        found[-1] = replace(found[-1], at_bottom=len(below) <= MARGIN_LINES)
    return "\n".join(out), found


def join_continued_tables(texts: list[str], tables: list[list[PageTable]]) -> list[str]:
    """A table continued at the top of the next page is one table: its repeated header row goes, and
    a row the page break cut in two is joined again.

    The continuation is recognised by position (the table ends its page, the next page opens with a
    table); leading rows identical to the header rows of the table it continues are its repeated header.
    The row after it is the remainder of the previous page's last row when `is_row_remainder` says so.
    """
    pages: list[list[str | None]] = [list(text.split("\n")) for text in texts]
    for k in range(1, len(texts)):
        if not tables[k] or not tables[k - 1]:
            continue
        prev, head = tables[k - 1][-1], tables[k][0]
        if not (prev.at_bottom and head.at_top):
            continue
        # The repeated header: as many leading rows as the table's header has levels, each identical.
        first = 0
        depth = min(_header_depth(prev.grid), len(head.grid) - 1)
        while first < depth and _same_row(head.grid[first], prev.grid[first]):
            pages[k][head.first_line + first] = None
            first += 1
        if (
            first < len(head.grid)
            and pages[k - 1][prev.last_line] is not None
            and is_row_remainder(prev.grid, head.grid[first])
        ):
            # The joined row stands where the row starts, so a citation of it names that page.
            row = join_rows(prev.grid[-1], head.grid[first])
            pages[k - 1][prev.last_line] = "\t".join(row)
            pages[k][head.first_line + first] = None
            # Later pages learn what a whole row fills from the whole row, not from its remainder.
            tables[k][0] = replace(head, grid=[*head.grid[:first], row, *head.grid[first + 1 :]])
    return ["\n".join(line for line in lines if line is not None) for lines in pages]


def _same_row(a: list[str], b: list[str]) -> bool:
    """Rows equal but for a character or two: a header repeated on a scanned page is read again by
    OCR, which may misread a character of it (「占比」 as 「上右比」)."""
    x, y = squash("".join(a)), squash("".join(b))
    if x == y:
        return True
    return (
        len(a) == len(b) and min(len(x), len(y)) >= 4 and difflib.SequenceMatcher(None, x, y).ratio() >= 0.8
    )


def _filled_columns(rows: Grid, width: int) -> set[int]:
    """Columns that every one of these rows fills."""
    return {j for j in range(width) if all(j < len(r) and r[j] for r in rows)}


def is_row_remainder(grid: Grid, row: list[str]) -> bool:
    """Whether `row`, opening the next page, is the rest of `grid`'s last row cut by the page break.

    What a whole row looks like is learned from the table's own data rows on the previous page: a
    column that all of them fill (the label, the total, the agency) is never empty in a genuine row.
    The remainder leaves such a column empty, and either its label cell is empty too (the label
    stayed above) or it holds only the wrapped end of some text (no figure of its own).
    """
    body = [r for r in (grid[_header_depth(grid) :] if len(grid) > 1 else grid) if not _is_note_row(r)]
    if len(body) < 2 or not any(row) or _is_note_row(grid[-1]) or _is_note_row(row):
        return False  # one row above is too little to learn what a whole row fills
    width = max(len(r) for r in grid)
    always = _filled_columns(body, width)
    if not any(j >= len(row) or not row[j] for j in always):
        return False
    if not row[0]:
        return True
    last = grid[-1]
    filled = [j for j, cell in enumerate(row) if cell]
    return not any(is_numeric(row[j]) for j in filled) and len(filled) * 2 <= sum(bool(c) for c in last)


def _is_note_row(row: list[str]) -> bool:
    filled = [c for c in row if c]
    return len(filled) == 1 and bool(_NOTE.match(filled[0]))


def join_rows(upper: list[str], lower: list[str]) -> list[str]:
    """Cell by cell, the text above the page break followed by its rest below it."""
    width = max(len(upper), len(lower))
    cells = [(upper[j] if j < len(upper) else "", lower[j] if j < len(lower) else "") for j in range(width)]
    return [join_wrapped(f"{a}\n{b}") for a, b in cells]


# ---- the Table record, from table text (tab rows or Markdown pipe rows) ----


def split_row(line: str) -> list[str] | None:
    """Cells of a tab-separated or Markdown pipe row; None for a Markdown separator row."""
    cells = _pipe_cells(line)
    if cells is not None:
        return None if _is_separator(cells) else cells
    return [c.strip() for c in line.strip(" \u3000\r").split("\t")]


# 「依附表 3」, 「如表 1-2」, "Table 2"; not 「代表 3 人」 (表 inside another word).
_NUMBER_NAMED = re.compile(
    r"(附表|(?:(?<=[依如見见在據据從从按])|(?<![\u4e00-\u9fff]))表|\bTable)\s*(\d+(?:[-–.]\d+)*)",
    re.IGNORECASE,
)


def table_numbers_in(text: str) -> set[str]:
    """The table numbers a text names (「依附表 3」, "Table 1-2"), spelled as `Table.number` is."""
    return {
        f"{'Table' if m.group(1).lower() == 'table' else m.group(1)} {m.group(2)}"
        for m in _NUMBER_NAMED.finditer(text)
    }


def caption_parts(caption: str) -> tuple[str, str, str]:
    """(number, title, unit) of a caption, e.g. 「附表 2 2019-2023 年…比率 (百分比, %)」 -> 附表 2, …, %."""
    caption = caption.strip()
    number = ""
    rest = caption
    if m := _NUMBER.match(caption):
        number = f"{m.group(1)} {m.group(2)}"
        rest = caption[m.end() :]
    unit = ""
    if m := _UNIT_LABEL.search(rest):
        unit = m.group(1).strip()
        rest = rest[: m.start()]
    elif m := _PARENS.search(rest):
        # 「(百分比, %)」, 「(百萬美元，以現階段購買力平價調整)」: the shortest part names the unit.
        parts = [p.strip() for p in re.split(r"[,，]", m.group(1)) if p.strip()]
        if parts:
            unit = min(parts, key=len)
            rest = rest[: m.start()]
    return number, rest.strip(), unit


def is_numeric(cell: str) -> bool:
    return bool(_NUMERIC_CELL.match(cell.strip()))


def _header_depth(rows: Grid) -> int:
    """Header rows: the first row, plus following rows under merged (empty) header cells.

    A first row with one filled cell over a wider table is a title (「課程簡介」) standing above the
    row that names the columns (日期 | 時間 | 課程單元): both are header rows.
    """
    depth = 1
    titled = len(rows) > 2 and len(rows[0]) > 1 and sum(bool(c) for c in rows[0]) == 1 and bool(rows[0][0])
    if titled and all(c and not is_numeric(c) and not _YEARISH.match(c) for c in rows[1]):
        depth = 2
    while depth < len(rows) - 1:
        above, row = rows[depth - 1], rows[depth]
        merged_above = any(not c for c in above[1:])
        # Under merged parent cells, a row of sub-headings (years count as headings, figures do not).
        heading = all(c and (not is_numeric(c) or _YEARISH.match(c)) for c in row[1:])
        if merged_above and not row[0] and heading:
            depth += 1
            continue
        break
    return depth


def header_row_count(row_lines: list[str]) -> int:
    """How many of a table's leading tab or pipe rows are header rows (one, or more under merged cells)."""
    rows = [cells for cells in (split_row(line) for line in row_lines) if cells is not None]
    width = max((len(r) for r in rows), default=0)
    depth = _header_depth([r + [""] * (width - len(r)) for r in rows]) if rows else 0
    # A Markdown separator row under the first header row stands among the header lines.
    return depth + sum(split_row(line) is None for line in row_lines[: depth + 1])


def parse_table(caption: str, row_lines: list[str], notes: list[str], pages: tuple[int, ...] = ()) -> Table:
    """The typed record of a table given its caption line, its row lines and its note lines."""
    rows: Grid = []
    note_rows: list[str] = []
    for line in row_lines:
        cells = split_row(line)
        if cells is None:
            continue
        filled = [c for c in cells if c]
        if len(filled) == 1 and _NOTE.match(filled[0]):
            note_rows.append(filled[0])  # a footnote row spanning the table is not data
            continue
        rows.append(cells)
    width = max((len(r) for r in rows), default=0)
    rows = [r + [""] * (width - len(r)) for r in rows]  # ragged rows padded, never shifted
    depth = _header_depth(rows) if rows else 0
    number, title, unit = caption_parts(caption)
    return Table(
        number=number,
        title=title,
        caption=caption.strip(),
        unit=unit,
        header_rows=tuple(tuple(r) for r in rows[:depth]),
        rows=tuple(tuple(r) for r in rows[depth:]),
        notes=tuple(note_rows + [n.strip() for n in notes if n.strip()]),
        pages=pages,
    )


def is_note(line: str) -> bool:
    return bool(_NOTE.match(line.strip()))


# A figure's caption, which reports set below the figure (a table drawn as a figure has no other name).
_FIGURE_CAPTION = re.compile(r"^(?:圖|图|附圖|附图|Figure)\s*\d+(?:[-–.]\d+)*\s")


def read_table_text(text: str, header: str | None = None) -> Table | None:
    """The Table in a table chunk's text (caption, rows, notes), with the repeated header if given."""
    caption = below = ""
    rows: list[str] = []
    notes: list[str] = []
    lines = [ln for ln in ((header or "") + "\n" + text).split("\n") if ln.strip()]
    seen_rows: set[str] = set()
    for line in lines:
        stripped = line.strip(" \u3000\r")
        if "\t" in stripped or (stripped.startswith("|") and stripped.endswith("|")):
            if stripped in seen_rows and rows and stripped == rows[0].strip():
                continue  # the header repeated in front of a later slice
            seen_rows.add(stripped)
            rows.append(stripped)
        elif not rows:
            # The caption is the line right above the rows (a short heading or lead-in sentence
            # merged into the chunk may stand before it); a numbered caption is never replaced.
            if not (caption and _NUMBER.match(caption)):
                caption = stripped
        elif is_note(stripped):
            notes.append(stripped)
        elif not below and _FIGURE_CAPTION.match(stripped):
            below = stripped
    if len(rows) < 1:
        return None
    # A table drawn as a figure is named below it (圖 3-13 …): that name wins over a sentence above.
    if below and (not caption or (not _NUMBER.match(caption) and caption[-1] in "。！？.!?")):
        caption = below
    return parse_table(caption, rows, notes)


def to_grid(table: Table) -> Any:
    """Header rows then data rows (for CSV export and HTML)."""
    return [list(r) for r in table.header_rows] + [list(r) for r in table.rows]


def document_tables(doc: Document) -> list[Table]:
    """Every table of a document as a typed record, with the PDF pages it spans."""
    from corpus.structure import parse_sections  # structure uses this module's note test

    tables: list[Table] = []
    starts = [p.char_start for p in doc.pages]
    for section in parse_sections(doc):
        for block in section.blocks:
            if block.kind != "table" or not block.units:
                continue
            start, end = block.units[0].start, block.units[-1].end
            pages: tuple[int, ...] = ()
            if doc.pages:
                first = max(0, bisect.bisect_right(starts, start) - 1)
                last = max(0, bisect.bisect_right(starts, max(start, end - 1)) - 1)
                pages = tuple(doc.pages[i].number for i in range(first, last + 1))
            table = read_table_text(doc.text[start:end])
            if table is not None:
                tables.append(replace(table, pages=pages))
    return tables


# ---- Markdown pipe tables, read into the one table form ----


def _pipe_cells(line: str) -> list[str] | None:
    text = line.strip(" \u3000\r")
    if "\t" in text or not (text.startswith("|") and text.endswith("|") and len(text) > 1):
        return None
    return [cell.strip() for cell in text[1:-1].split("|")]


def _is_separator(cells: list[str]) -> bool:
    return any(cells) and all(re.fullmatch(r":?-{1,}:?", cell) for cell in cells)


def markdown_rows(lines: list[str]) -> list[str]:
    """Markdown pipe tables as tab-separated rows, the form every other table arrives in.

    Only a real table counts: a pipe row followed by a separator row (`| --- | :-: |`), then the
    pipe rows under it. The separator carries nothing to read, but its line must stay, or every
    later line would be cited one line early: the header row moves down into it and leaves its own
    line blank, so the data rows keep their numbers and the header is one line off.
    """
    out = list(lines)
    i = 0
    while i < len(lines) - 1:
        header, rule = _pipe_cells(lines[i]), _pipe_cells(lines[i + 1])
        if header is None or rule is None or not _is_separator(rule):
            i += 1
            continue
        out[i], out[i + 1] = "", "\t".join(header)
        i += 2
        while i < len(lines) and (cells := _pipe_cells(lines[i])) is not None:
            out[i] = "\t".join(cells)
            i += 1
    return out
