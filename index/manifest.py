"""The manifest: what an index generation contains and how it was built."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from index.errors import IndexCorruptError
from index.types import DocumentInfo, ModelIdentity

# 2: generations may hold unit vectors (index/unit_vectors.py). Format 1 indexes still open: their
# answers encode candidate sentences per question, and the next ingest reads every document again.
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class DocumentEntry:
    """One indexed file: enough to detect a change without reading the file again."""

    doc_id: str
    path: str  # absolute path at ingest time ("" for documents built in code)
    file_name: str
    title: str
    kind: str
    content_hash: str  # sha256 of the file bytes
    size: int
    mtime_ns: int
    chunks: int
    pages: int
    lines: int
    indexed_at: str
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass
class Manifest:
    model: ModelIdentity
    settings: dict[str, object]  # chunking and lexical settings that shaped the stored data
    dense_kind: str
    documents: list[DocumentEntry] = field(default_factory=list)
    chunk_count: int = 0
    format_version: int = FORMAT_VERSION
    # English name -> Chinese names the reports define (corpus/bilingual.py); older indexes have none.
    glossary: dict[str, list[str]] = field(default_factory=dict)

    def save(self, folder: Path) -> None:
        data = asdict(self)
        (folder / MANIFEST).write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> Manifest:
        path = folder / MANIFEST
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise IndexCorruptError(folder.parent, "manifest.json is missing") from None
        except (OSError, ValueError) as exc:
            raise IndexCorruptError(folder.parent, f"manifest.json is unreadable: {exc}") from None
        version = data.get("format_version")
        if version not in READABLE_VERSIONS:
            raise IndexCorruptError(
                folder.parent, f"index format {version} is not the supported format {FORMAT_VERSION}"
            )
        try:
            return cls(
                model=ModelIdentity(**data["model"]),
                settings=dict(data["settings"]),
                dense_kind=str(data["dense_kind"]),
                documents=[DocumentEntry(**d) for d in data["documents"]],
                chunk_count=int(data["chunk_count"]),
                format_version=int(version),
                glossary={str(k): [str(n) for n in v] for k, v in dict(data.get("glossary") or {}).items()},
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise IndexCorruptError(folder.parent, f"manifest.json is malformed: {exc}") from None

    def document_infos(self) -> list[DocumentInfo]:
        """The indexed reports as listed to users, whatever backend holds them."""
        return [
            DocumentInfo(
                doc_id=d.doc_id,
                title=d.title,
                file_name=d.file_name,
                path=d.path,
                kind=d.kind,
                pages=d.pages,
                lines=d.lines,
                chunks=d.chunks,
                indexed_at=d.indexed_at,
                content_hash=d.content_hash,
                metadata=dict(d.metadata),
            )
            for d in self.documents
        ]

    def glossary_lines(self, limit: int = 20) -> list[str]:
        """The mined bilingual names for `qa info`: a count, then up to `limit` pairs."""
        if not self.glossary:
            return ["glossary: no bilingual names found in the reports"]
        lines = [f"glossary: {len(self.glossary)} English names defined in the reports"]
        for key, names in list(self.glossary.items())[:limit]:
            lines.append(f"  {key} = {' / '.join(names)}")
        if len(self.glossary) > limit:
            lines.append(f"  ... and {len(self.glossary) - limit} more (qa info --json lists all)")
        return lines

    def by_path(self) -> dict[str, DocumentEntry]:
        return {d.path: d for d in self.documents if d.path}
