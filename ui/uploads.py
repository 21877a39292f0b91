"""Reports added from the browser: checked by content, stored under the index folder, then ingested.

A file is accepted only when its bytes are what its name says (a PDF starts with `%PDF-`, a text or
Markdown file decodes as UTF-8 and holds no NUL bytes), it is under the size cap, and its name is a
plain file name. It is stored under `<index>/uploads/` with a safe name and ingested through the
same locked, atomic ingest as `qa ingest`; when the ingest skips or fails it, the stored copy is
removed and the index is left as it was.
"""

from __future__ import annotations

import re
import shutil
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

UPLOAD_DIR = "uploads"
KINDS = {".pdf": "pdf", ".txt": "text", ".md": "text"}
_UNSAFE = re.compile(r"[^\w.\-（）()\[\] ]+")


@dataclass
class UploadRejected(Exception):
    """Why a file was refused, as a message key and its values (shown in the user's language)."""

    key: str
    values: dict[str, object] = field(default_factory=dict)


def safe_name(name: str) -> str:
    """The stored name: NFC, no path, no control or shell characters, at most 120 characters.

    A name that carries a path (`../x.pdf`, `C:\\x.pdf`) is refused rather than trimmed: it did not
    come from a browser's file picker.
    """
    if not isinstance(name, str) or not name.strip():
        raise UploadRejected("upload.bad_name", {"name": str(name)})
    if "/" in name or "\\" in name or name.strip() in {".", ".."} or "\x00" in name:
        raise UploadRejected("upload.path_in_name", {"name": name})
    cleaned = _UNSAFE.sub("_", unicodedata.normalize("NFC", name)).strip(" ._")
    stem, dot, suffix = cleaned.rpartition(".")
    if not dot or not stem:
        raise UploadRejected("upload.wrong_type", {"name": name})
    return f"{stem[:110]}.{suffix.lower()}"


def check_upload(name: str, data: Path, max_bytes: int) -> str:
    """The safe name of an acceptable upload; raises UploadRejected naming the reason."""
    stored = safe_name(name)
    suffix = Path(stored).suffix
    if suffix not in KINDS:
        raise UploadRejected("upload.wrong_type", {"name": name})
    size = data.stat().st_size
    if size > max_bytes:
        raise UploadRejected(
            "upload.too_big", {"name": name, "mb": max_bytes / 1_000_000, "size": size / 1_000_000}
        )
    if size == 0:
        raise UploadRejected("upload.empty", {"name": name})
    with data.open("rb") as handle:
        head = handle.read(1024)
    if KINDS[suffix] == "pdf":
        if not head.lstrip(b"\r\n\t ").startswith(b"%PDF-"):
            raise UploadRejected("upload.not_what_it_says", {"name": name})
    else:
        raw = data.read_bytes()
        try:
            raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise UploadRejected("upload.not_what_it_says", {"name": name}) from None
        if b"\x00" in raw:
            raise UploadRejected("upload.not_what_it_says", {"name": name})
    return stored


def store_upload(data: Path, index_dir: Path, stored_name: str) -> Path:
    """Copy the checked file under <index>/uploads/, never over an existing report of that name."""
    folder = index_dir / UPLOAD_DIR
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / stored_name
    stem, suffix = target.stem, target.suffix
    n = 2
    while target.exists():
        target = folder / f"{stem}-{n}{suffix}"
        n += 1
    shutil.copyfile(data, target)
    return target
