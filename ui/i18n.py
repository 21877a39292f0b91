"""The web app's message catalogue: every label, message and empty state, in zh-TW, zh-CN and English.

Traditional Chinese is the default because the app's users are Taiwanese staff. Simplified Chinese
is derived from the Traditional text with OpenCC's Taiwan-to-mainland phrase conversion (so the two
never drift apart), except where a key gives its own zh-CN text. Report text is never translated:
only the interface goes through `t`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Literal
from zoneinfo import ZoneInfo

from corpus.normalize import to_simplified_text

Lang = Literal["zh-TW", "zh-CN", "en"]
LANGS: tuple[Lang, ...] = ("zh-TW", "zh-CN", "en")
DEFAULT_LANG: Lang = "zh-TW"
# The names each language is offered under, written in that language.
LANG_NAMES: dict[Lang, str] = {"zh-TW": "繁體中文", "zh-CN": "简体中文", "en": "English"}
# Staff read times in Taiwan's own zone, whatever zone the server runs in.
TAIPEI = ZoneInfo("Asia/Taipei")

# key -> (zh-TW, English[, zh-CN override])
_MESSAGES: dict[str, tuple[str, ...]] = {
    # layout
    "app.title": ("報告問答", "ReportQA"),
    "app.subtitle": (
        "已收錄 {n} 份報告；每個答案都附上出處。",
        "{n} indexed reports; every answer shows its sources.",
    ),
    "tab.chat": ("問答", "Chat"),
    "tab.search": ("檢索", "Search"),
    "tab.docs": ("文件", "Documents"),
    "lang.label": ("介面語言", "Language"),
    "evaluator.label": ("評估者模式", "Evaluator mode"),
    "evaluator.info": ("顯示檢索分數與檢索方式", "Show retrieval scores and modes"),
    "chat.placeholder": ("請輸入關於報告的問題…", "Ask about the reports…"),
    "chat.ask": ("提問", "Ask"),
    "chat.new": ("新對話", "New conversation"),
    "chat.reports": ("報告範圍", "Reports"),
    "chat.reports_info": ("不選即查詢全部報告。", "Leave empty to ask all reports."),
    "chat.examples": ("範例問題", "Examples"),
    "chat.hint": (
        "追問（例如「那 2023 年呢？」）會沿用本次對話的脈絡；換主題請按「新對話」。",
        "Follow-up questions such as 「那 2023 年呢？」 build on the conversation so far; "
        "start a new conversation to change the topic.",
    ),
    "chat.empty": ("請輸入關於報告內容的問題。", "Ask a question about the indexed reports."),
    "chat.need_question": ("請先輸入問題。", "Please type a question first."),
    "chat.pending": ("正在查找報告…", "Searching the reports…"),
    "chat.failed": (
        "系統發生錯誤，請稍後再試；錯誤已記錄。",
        "Something went wrong while answering; the error was logged.",
    ),
    "chat.refused": ("無法回答這個問題：{reason}", "This question cannot be answered: {reason}"),
    "chat.too_long": (
        "問題太長：最多 {limit:,} 字，您輸入了 {length:,} 字。請只保留要問的部分後再送出。",
        "The question is too long: at most {limit:,} characters, and this one has {length:,}. "
        "Keep only what you want to ask and send it again.",
    ),
    "chat.show_all": ("顯示全文（{length:,} 字）", "Show all ({length:,} characters)"),
    "search.placeholder": ("關鍵詞或問題…", "Words or a question…"),
    "search.button": ("檢索", "Search"),
    "search.reports": ("報告範圍", "Reports"),
    "search.section": ("章節包含", "Section contains"),
    "search.pages": ("頁碼", "Pages"),
    "search.pages_placeholder": ("例如 3-10", "e.g. 3-10"),
    "search.k": ("筆數", "Results"),
    "search.mode": ("檢索方式", "Retrieval mode"),
    "search.export_csv": ("匯出 CSV", "Export CSV"),
    "search.export_json": ("匯出 JSON", "Export JSON"),
    "search.export_bib": ("匯出 BibTeX", "Export BibTeX"),
    "search.need_query": ("請輸入查詢詞。", "Type something to search for."),
    "search.failed": ("檢索發生錯誤；錯誤已記錄。", "Search failed; the error was logged."),
    "search.none": ("沒有符合的段落。", "No passages matched."),
    "search.refused": ("無法檢索：{reason}", "Cannot search: {reason}"),
    "docs.report": ("報告", "Report"),
    "docs.page": ("頁碼（PDF）", "Page (PDF)"),
    "docs.show": ("顯示", "Show"),
    "docs.choose": (
        "請選擇報告，或在出處中按「在文件中檢視」。",
        "Choose a report, or open a citation's “Show in document”.",
    ),
    "docs.choose_report": ("請選擇報告。", "Choose a report."),
    "docs.page_failed": ("無法顯示此頁；錯誤已記錄。", "This page cannot be shown; the error was logged."),
    "docs.passage_failed": ("無法顯示此段落。", "This passage cannot be shown."),
    "docs.no_text": ("{heading}：沒有可顯示的文字。", "{heading}: no text to show."),
    "docs.page_range": (
        "這份報告共 {pages} 頁，沒有第 {page} 頁；請輸入 1 到 {pages} 之間的頁碼。",
        "This report has {pages} pages, so there is no page {page}; enter a page from 1 to {pages}.",
    ),
    "docs.prev": ("上一頁", "Previous page"),
    "docs.next": ("下一頁", "Next page"),
    "docs.page_of": ("第 {page} 頁，共 {pages} 頁", "page {page} of {pages}"),
    "docs.text_only": (
        "找不到原始 PDF 檔，改為顯示擷取的文字。",
        "The original PDF file is not available; showing its extracted text.",
    ),
    "docs.quote_not_found": (
        "在頁面影像上找不到引文的位置；引文見下方文字。",
        "The quote could not be located on the page picture; it is marked in the text below.",
    ),
    "docs.none": ("索引中尚無文件。", "The index holds no documents yet."),
    "docs.col.title": ("標題", "Title"),
    "docs.col.file": ("檔案", "File"),
    "docs.col.kind": ("類型", "Kind"),
    "docs.col.pages": ("頁數", "Pages"),
    "docs.col.chunks": ("段落數", "Chunks"),
    "docs.col.publisher": ("發布機關", "Publisher"),
    "docs.col.year": ("年份", "Year"),
    "docs.col.indexed": ("收錄時間（臺北）", "Indexed (Taipei time)"),
    # answers and sources
    "answer.sources": ("出處", "Sources"),
    "answer.closest": ("最接近的段落，供人工核對：", "Closest passages, for checking by hand:"),
    "answer.support": ("引文已逐字核對 · {n} 處出處", "Quotes checked word for word · {n} source(s)"),
    "answer.meta": (
        "信心 {confidence} · {mode} · {seconds} 秒",
        "confidence {confidence} · {mode} · {seconds} s",
    ),
    "source.show": ("在文件中檢視", "Show in document"),
    "source.copy": ("複製引用", "Copy citation"),
    "source.copied": ("已複製 ✓", "Copied ✓"),
    "source.matched": ("符合詞：{terms}", "matched: {terms}"),
    "export.title": ("報告問答對話紀錄", "ReportQA conversation"),
    "export.when": ("匯出時間（臺北）：{when}", "Exported (Taipei time): {when}"),
    "export.md": ("匯出對話 Markdown", "Export conversation (Markdown)"),
    "export.docx": ("匯出對話 Word", "Export conversation (Word)"),
    "answer.copy": ("複製答案與出處", "Copy answer with sources"),
    "feedback.up": ("答案有幫助", "Helpful answer"),
    "feedback.down": ("答案有誤或沒有幫助", "Wrong or unhelpful answer"),
    "feedback.up_short": ("有幫助", "Helpful"),
    "feedback.down_short": ("有誤", "Wrong"),
    "feedback.comment": ("補充說明（選填）", "Comment (optional)"),
    "feedback.send": ("送出回饋", "Send feedback"),
    "feedback.thanks": ("已記錄您的回饋，謝謝！", "Thank you, your feedback was recorded."),
    "feedback.failed": (
        "無法記錄回饋；錯誤已記錄。",
        "The feedback could not be recorded; the error was logged.",
    ),
    "upload.label": ("加入報告（PDF、TXT、MD）", "Add reports (PDF, TXT, MD)"),
    "upload.button": ("加入索引", "Add to the index"),
    "upload.need_file": ("請先選擇檔案。", "Choose a file first."),
    "upload.working": ("正在讀取並加入索引…", "Reading and indexing…"),
    "upload.added": (
        "已加入：{name}（{detail}），現在就可以提問。",
        "Added: {name} ({detail}); you can ask about it now.",
    ),
    "upload.unchanged": ("{name} 已在索引中，內容相同。", "{name} is already indexed with the same content."),
    "upload.skipped": ("未加入 {name}：{reason}", "{name} was not added: {reason}"),
    "upload.failed": (
        "加入 {name} 時發生錯誤；索引未變更，錯誤已記錄。",
        "Adding {name} failed; the index is unchanged and the error was logged.",
    ),
    "upload.bad_name": ("檔名無效：{name}", "Not a usable file name: {name}"),
    "upload.path_in_name": (
        "拒絕 {name}：檔名不可包含路徑。",
        "{name} refused: a file name must not contain a path.",
    ),
    "upload.wrong_type": (
        "拒絕 {name}：只接受 PDF、TXT 或 MD 檔。",
        "{name} refused: only PDF, TXT or MD files are accepted.",
    ),
    "upload.too_big": (
        "拒絕 {name}：檔案 {size:.1f} MB，超過上限 {mb:.0f} MB。",
        "{name} refused: {size:.1f} MB is over the {mb:.0f} MB limit.",
    ),
    "upload.empty": ("拒絕 {name}：檔案是空的。", "{name} refused: the file is empty."),
    "upload.not_what_it_says": (
        "拒絕 {name}：檔案內容與副檔名不符。",
        "{name} refused: its content is not what its name says.",
    ),
    "table.csv": ("下載表格 CSV", "Download table (CSV)"),
}


def normalise_lang(value: object) -> Lang:
    """A supported language code from a selector, query string or header value; else the default."""
    text = str(value or "").strip().lower().replace("_", "-")
    if text.startswith("en"):
        return "en"
    if text in {"zh-cn", "zh-hans", "zh-sg"} or text.startswith("zh-hans"):
        return "zh-CN"
    return DEFAULT_LANG


@cache
def _message(key: str, lang: Lang) -> str:
    entry = _MESSAGES[key]
    if lang == "en":
        return entry[1]
    if lang == "zh-CN":
        if len(entry) > 2:
            return entry[2]
        return to_simplified_text(entry[0], mainland_phrases=True)
    return entry[0]


def t(key: str, lang: Lang = DEFAULT_LANG, **values: object) -> str:
    """The interface text for `key` in `lang`, with {placeholders} filled in."""
    text = _message(key, lang)
    return text.format(**values) if values else text


def keys() -> tuple[str, ...]:
    return tuple(_MESSAGES)


def format_taipei(value: object) -> str:
    """A time the index stored (epoch seconds, ISO text or datetime) as 'YYYY-MM-DD HH:MM' in Taipei."""
    if isinstance(value, int | float):
        value = datetime.fromtimestamp(value, tz=UTC)
    if not isinstance(value, datetime):
        try:
            value = datetime.fromisoformat(str(value or ""))
        except ValueError:
            return str(value or "")
    if value.tzinfo is None:  # the index writes UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(TAIPEI).strftime("%Y-%m-%d %H:%M")
