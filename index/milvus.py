"""Milvus backend: the index lives in two collections of a Milvus server or cluster.

    <name>       one row per chunk: its record (text, offsets, address), the filter fields (doc_id,
                 pages, section), the 384-d vector and the project's own BM25 tokens, which the
                 engine's BM25 function turns into a sparse vector
    <name>_meta  the manifest, each document's text (for the page viewer) and a pointer row naming
                 the committed generation

Everything lives in the engine so that the store scales with it: a second store (SQLite beside
the client) would tie the index to one machine again, which is what this backend exists to avoid.

Generations without copying: every row carries the generation that wrote it. An ingest writes its
new chunks, document texts and manifest under generation G+1, then replaces the pointer row (one
upsert, the commit), then deletes the rows its manifest no longer names. Readers search `gen <= G`
and drop rows whose document the manifest assigns to another generation, so a run killed at any
point leaves the previous state searchable, and the next run deletes its leftovers.

Tokens are sent hashed ("t" + 16 hex digits): every Milvus analyzer keeps such a word whole, so the
engine's BM25 counts exactly the tokens the local BM25 counts, whatever the analyzer does with
CJK text or punctuation (the single-process and the cluster analyzers differ there).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from corpus.types import Chunk, Document, Page
from index.analysis import lexical_tokens, match_form
from index.errors import IndexError_
from index.manifest import DocumentEntry, Manifest
from index.types import Candidate, DocumentInfo, ModelIdentity, SearchFilter

if TYPE_CHECKING:
    from pymilvus import MilvusClient

    from index.builder import IndexOptions
    from index.embedding import Embedder

log = logging.getLogger(__name__)

TOKEN_ENV = "QA_MILVUS_TOKEN"  # the token never sits in a file or on a command line
META_SUFFIX = "_meta"
POINTER_PK = "pointer"
TEXT_PART = 16_000  # characters per VARCHAR part: at most 64,000 UTF-8 bytes, under the 65,535 cap
MAX_VARCHAR = 65_535
BATCH = 256  # chunks embedded and inserted per request
_DENSE_INDEX = {
    "flat": ("FLAT", {}),
    "hnsw": ("HNSW", {"M": 32, "efConstruction": 80}),
    "ivf": ("IVF_FLAT", {"nlist": 1024}),
}
_DENSE_SEARCH = {"flat": {}, "hnsw": {"ef": 128}, "ivf": {"nprobe": 64}}
_CHUNK_FIELDS = ["pk", "chunk_id", "doc_id", "gen", "record"]


class MilvusUnavailableError(IndexError_):
    def __init__(self, uri: str, reason: str) -> None:
        super().__init__(
            f"Cannot reach the Milvus server at {uri} ({reason}). "
            "Check [index] uri, the token in $" + TOKEN_ENV + ", and that the server is running."
        )


class MilvusIndexMissingError(IndexError_):
    def __init__(self, uri: str, collection: str) -> None:
        super().__init__(f"No index in collection {collection!r} at {uri}. Build one with: qa ingest PATH...")


def token_key(token: str) -> str:
    """A lexical token as one ASCII word that any analyzer keeps whole."""
    return "t" + hashlib.blake2b(token.encode("utf-8"), digest_size=8).hexdigest()


def token_text(tokens: Sequence[str]) -> str:
    return " ".join(token_key(t) for t in tokens)


@dataclass(frozen=True)
class MilvusTarget:
    """Where an index lives: server URI and collection name (the token comes from the environment)."""

    uri: str
    collection: str

    @classmethod
    def from_options(cls, options: IndexOptions, index_dir: Path) -> MilvusTarget:
        if not options.uri:
            raise MilvusUnavailableError("(no uri)", "set [index] uri, e.g. http://127.0.0.1:19530")
        name = (
            options.collection
            or "reportqa_"
            + hashlib.sha1(str(index_dir.expanduser().resolve()).encode("utf-8")).hexdigest()[:12]
        )
        return cls(options.uri, name)

    @property
    def meta(self) -> str:
        return self.collection + META_SUFFIX

    def __str__(self) -> str:
        return f"{self.uri} (collection {self.collection})"


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return str(text).splitlines()[0][:200]


@contextlib.contextmanager
def _engine_errors(uri: str) -> Iterator[None]:
    """Any failure talking to the engine becomes one sentence naming the URI."""
    from pymilvus.exceptions import MilvusException

    try:
        yield
    except MilvusException as exc:
        log.info("Milvus request to %s failed", uri, exc_info=True)
        raise MilvusUnavailableError(uri, _reason(exc)) from None


def connect(target: MilvusTarget, timeout_s: float = 10.0) -> MilvusClient:
    from pymilvus import MilvusClient

    # milvus-lite gives the query iterator no session timestamp; pymilvus warns and uses its own
    # clock, which our strongly consistent reads need anyway. (Set after pymilvus configured logging.)
    logging.getLogger("pymilvus.client.iterator.query_iterator").setLevel(logging.ERROR)
    with _engine_errors(target.uri):
        try:
            client = MilvusClient(uri=target.uri, token=os.environ.get(TOKEN_ENV, ""), timeout=timeout_s)
            client.list_collections()
        except ValueError as exc:  # a malformed URI
            raise MilvusUnavailableError(target.uri, _reason(exc)) from None
    return client


# -- stored records ----------------------------------------------------------------------------
def _chunk_record(c: Chunk) -> str:
    data = asdict(c)
    data["section_path"] = list(c.section_path)
    return json.dumps(data, ensure_ascii=False)


def _script_mark(script: str) -> str:
    """How a chunk record written by `_chunk_record` states its script."""
    return json.dumps({"script": script}, ensure_ascii=False)[1:-1]


def _chunk_from_record(text: str) -> Chunk:
    data = json.loads(text)
    data["section_path"] = tuple(data["section_path"])
    return Chunk(**data)


def _document_record(d: Document) -> str:
    return json.dumps(
        {
            "doc_id": d.doc_id,
            "path": str(d.path),
            "file_name": d.file_name,
            "title": d.title,
            "kind": d.kind,
            "text": d.text,
            "pages": [[p.number, p.label, p.char_start, p.char_end] for p in d.pages],
            "line_starts": d.line_starts,
            "metadata": d.metadata,
            "script": d.script,
        },
        ensure_ascii=False,
    )


def _document_from_record(text: str) -> Document:
    data = json.loads(text)
    return Document(
        doc_id=data["doc_id"],
        path=Path(data["path"]),
        file_name=data["file_name"],
        title=data["title"],
        kind=data["kind"],
        text=data["text"],
        pages=[Page(int(n), str(lab), int(s), int(e)) for n, lab, s, e in data["pages"]],
        line_starts=list(data["line_starts"]),
        metadata=dict(data["metadata"]),
        script=data["script"],
    )


def _parts(text: str) -> list[str]:
    return [text[i : i + TEXT_PART] for i in range(0, len(text), TEXT_PART)] or [""]


@dataclass(frozen=True)
class Committed:
    """The state readers see: generation number, manifest, and which generation holds each document."""

    gen: int
    manifest: Manifest
    doc_gens: dict[str, int]
    cleanup: tuple[str, ...] = ()  # documents whose older rows the last commit still had to delete

    def to_json(self) -> str:
        return json.dumps(
            {"manifest": asdict(self.manifest), "doc_gens": self.doc_gens, "cleanup": list(self.cleanup)},
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, gen: int, text: str) -> Committed:
        data = json.loads(text)
        m = data["manifest"]
        manifest = Manifest(
            model=ModelIdentity(**m["model"]),
            settings=dict(m["settings"]),
            dense_kind=str(m["dense_kind"]),
            documents=[DocumentEntry(**d) for d in m["documents"]],
            chunk_count=int(m["chunk_count"]),
            format_version=int(m["format_version"]),
        )
        return cls(gen, manifest, {k: int(v) for k, v in data["doc_gens"].items()}, tuple(data["cleanup"]))


def read_committed(client: MilvusClient, target: MilvusTarget) -> Committed | None:
    """The committed state, or None when the collection holds no index yet."""
    if not client.has_collection(target.meta) or not client.has_collection(target.collection):
        return None
    rows = client.query(target.meta, filter=f'pk == "{POINTER_PK}"', output_fields=["gen"])
    if not rows:
        return None
    gen = int(rows[0]["gen"])
    parts = client.query(
        target.meta,
        filter=f'kind == "manifest" and gen == {gen}',
        output_fields=["part", "body"],
        limit=16384,
    )
    text = "".join(r["body"] for r in sorted(parts, key=lambda r: int(r["part"])))
    return Committed.from_json(gen, text)


def _pk(hit: dict[str, Any]) -> str:
    """The primary key of a search hit (pymilvus names it after the primary field)."""
    return str(hit["pk"] if "pk" in hit else hit["entity"]["pk"])


def _quote(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _in_list(field: str, values: Sequence[str]) -> str:
    return f"{field} in [{', '.join(_quote(v) for v in values)}]"


# -- reading -----------------------------------------------------------------------------------
class MilvusIndex:
    """A committed generation in Milvus, behind the same interface as LocalIndex."""

    def __init__(self, target: MilvusTarget, client: MilvusClient, committed: Committed) -> None:
        self.target = target
        self._client = client
        self._committed = committed
        self._search_params = _DENSE_SEARCH.get(committed.manifest.dense_kind, {})
        self._chunks: list[Chunk] | None = None
        self._lock = threading.Lock()

    @classmethod
    def open(cls, options: IndexOptions, index_dir: Path) -> MilvusIndex:
        target = MilvusTarget.from_options(options, index_dir)
        client = connect(target)
        with _engine_errors(target.uri):
            committed = read_committed(client, target)
            if committed is None:
                client.close()
                raise MilvusIndexMissingError(target.uri, target.collection)
            client.load_collection(target.collection)
        return cls(target, client, committed)

    @property
    def manifest(self) -> Manifest:
        return self._committed.manifest

    @property
    def generation(self) -> str:
        return f"gen-{self._committed.gen:06d}"

    def live_generation(self) -> str | None:
        """The generation the pointer row names now (None when the server cannot say)."""
        try:
            rows = self._client.query(self.target.meta, filter=f'pk == "{POINTER_PK}"', output_fields=["gen"])
        except Exception:  # the server is briefly unreachable: keep what is loaded
            return None
        return f"gen-{int(rows[0]['gen']):06d}" if rows else None

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._client.close()

    # -- filtering -------------------------------------------------------------------------
    def _expr(self, flt: SearchFilter | None) -> str:
        parts = [f"gen <= {self._committed.gen}"]
        if flt is not None:
            if flt.doc_ids:
                parts.append(_in_list("doc_id", flt.doc_ids))
            if flt.page_min is not None:
                parts.append(f"page_end >= {int(flt.page_min)} and page_end >= 0")
            if flt.page_max is not None:
                parts.append(f"page_start <= {int(flt.page_max)} and page_start >= 0")
            needle = (flt.section_contains or "").strip().lower()
            if needle:
                # LIKE has no portable escape; '%' and '_' only widen the match, and the exact
                # substring test is repeated on the rows that come back.
                parts.append(f"section like {_quote('%' + needle + '%')}")
            if flt.scripts:
                # The script lives only in the stored record; the exact test is repeated on the rows.
                either = " or ".join(
                    f"record like {_quote('%' + _script_mark(s) + '%')}" for s in flt.scripts
                )
                parts.append(f"({either})")
        return " and ".join(parts)

    def _visible(self, doc_id: str, gen: int, chunk: Chunk | None, flt: SearchFilter | None) -> bool:
        if self._committed.doc_gens.get(doc_id) != gen:
            return False  # an older version of a document, or one a later commit removed
        if flt is not None and flt.scripts and chunk is not None and chunk.script not in flt.scripts:
            return False
        needle = (flt.section_contains or "").strip().lower() if flt is not None else ""
        return not needle or chunk is None or needle in "\n".join(chunk.section_path).lower()

    # -- search ----------------------------------------------------------------------------
    def candidates(
        self,
        vector: np.ndarray | None,
        tokens: Sequence[str] | None,
        depth: int,
        flt: SearchFilter | None = None,
    ) -> list[Candidate]:
        expr = self._expr(flt)
        query_text = token_text(tokens) if tokens else ""
        rows: dict[str, dict[str, Any]] = {}
        dense: dict[str, float] = {}
        lexical: dict[str, float] = {}
        dense_order: list[str] = []
        lexical_order: list[str] = []
        with _engine_errors(self.target.uri):
            if vector is not None and depth > 0:
                for hit in self._search("vector", [vector.astype(np.float32).tolist()], depth, expr, "IP"):
                    pk = _pk(hit)
                    rows.setdefault(pk, hit["entity"])
                    dense[pk] = float(hit["distance"])
                    dense_order.append(pk)
            if tokens is not None and query_text and depth > 0:
                for hit in self._search("sparse", [query_text], depth, expr, "BM25"):
                    pk = _pk(hit)
                    rows.setdefault(pk, hit["entity"])
                    # milvus-lite reports BM25 as a negative distance, a cluster as a positive score.
                    lexical[pk] = abs(float(hit["distance"]))
                    lexical_order.append(pk)
            chunks = {pk: _chunk_from_record(r["record"]) for pk, r in rows.items()}
            keep = [
                pk
                for pk in dict.fromkeys(dense_order + lexical_order)
                if self._visible(rows[pk]["doc_id"], int(rows[pk]["gen"]), chunks[pk], flt)
            ]
            if not keep:
                return []
            # Both scores for every candidate, as the local backend gives them, so fusion is unchanged.
            if vector is not None:
                missing = [pk for pk in keep if pk not in dense]
                if missing:
                    got = self._client.query(
                        self.target.collection, filter=_in_list("pk", missing), output_fields=["pk", "vector"]
                    )
                    q = vector.astype(np.float32)
                    for r in got:
                        dense[r["pk"]] = float(np.asarray(r["vector"], dtype=np.float32) @ q)
            if tokens is not None:
                missing = [pk for pk in keep if pk not in lexical]
                if missing and query_text:
                    scoped = f"{expr} and {_in_list('pk', missing)}"
                    for hit in self._search(
                        "sparse", [query_text], len(missing), scoped, "BM25", fields=["pk"]
                    ):
                        lexical[_pk(hit)] = abs(float(hit["distance"]))
        dense_rank = {pk: r for r, pk in enumerate([p for p in dense_order if p in set(keep)], 1)}
        lexical_rank = {pk: r for r, pk in enumerate([p for p in lexical_order if p in set(keep)], 1)}
        return [
            Candidate(
                chunk=chunks[pk],
                dense=dense.get(pk) if vector is not None else None,
                lexical=lexical.get(pk, 0.0) if tokens is not None else None,
                dense_rank=dense_rank.get(pk),
                lexical_rank=lexical_rank.get(pk),
            )
            for pk in keep
        ]

    def _search(
        self, field: str, data: list[Any], limit: int, expr: str, metric: str, fields: list[str] | None = None
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"metric_type": metric}
        if field == "vector" and self._search_params:
            params["params"] = self._search_params
        result = self._client.search(
            self.target.collection,
            data=data,
            anns_field=field,
            limit=limit,
            filter=expr,
            output_fields=fields or _CHUNK_FIELDS,
            search_params=params,
        )
        return list(result[0]) if result else []

    # -- documents -------------------------------------------------------------------------
    def documents(self) -> list[DocumentInfo]:
        return self.manifest.document_infos()

    def document(self, doc_id: str) -> Document | None:
        gen = self._committed.doc_gens.get(doc_id)
        if gen is None:
            return None
        with _engine_errors(self.target.uri):
            parts = self._client.query(
                self.target.meta,
                filter=f'kind == "doc" and gen == {gen} and key == {_quote(doc_id)}',
                output_fields=["part", "body"],
                limit=16384,
            )
        if not parts:
            return None
        return _document_from_record("".join(r["body"] for r in sorted(parts, key=lambda r: int(r["part"]))))

    def chunk(self, chunk_id: str) -> Chunk | None:
        with _engine_errors(self.target.uri):
            rows = self._client.query(
                self.target.collection,
                filter=f"chunk_id == {_quote(chunk_id)} and gen <= {self._committed.gen}",
                output_fields=_CHUNK_FIELDS,
            )
        for r in rows:
            if self._visible(r["doc_id"], int(r["gen"]), None, None):
                return _chunk_from_record(r["record"])
        return None

    def all_chunks(self) -> list[Chunk]:
        """Every visible chunk in manifest order (read once, then kept: the UI and eval list them)."""
        with self._lock:
            if self._chunks is None:
                self._chunks = self._read_all()
            return list(self._chunks)

    def _read_all(self) -> list[Chunk]:
        chunks: list[Chunk] = []
        with _engine_errors(self.target.uri):
            it = self._client.query_iterator(
                self.target.collection,
                batch_size=1000,
                filter=f"gen <= {self._committed.gen}",
                output_fields=_CHUNK_FIELDS,
            )
            try:
                while batch := it.next():
                    chunks += [
                        _chunk_from_record(r["record"])
                        for r in batch
                        if self._visible(r["doc_id"], int(r["gen"]), None, None)
                    ]
            finally:
                it.close()
        order = {d.doc_id: i for i, d in enumerate(self.manifest.documents)}
        chunks.sort(key=lambda c: (order.get(c.doc_id, len(order)), c.ordinal))
        return chunks


# -- writing -----------------------------------------------------------------------------------
def _create_collections(client: MilvusClient, target: MilvusTarget, dim: int, options: IndexOptions) -> None:
    from pymilvus import DataType, Function, FunctionType

    if not client.has_collection(target.collection):
        schema = client.create_schema(auto_id=False)
        schema.add_field("pk", DataType.VARCHAR, is_primary=True, max_length=1024)
        schema.add_field("chunk_id", DataType.VARCHAR, max_length=1024)
        schema.add_field("doc_id", DataType.VARCHAR, max_length=512)
        schema.add_field("gen", DataType.INT64)
        schema.add_field("page_start", DataType.INT64)
        schema.add_field("page_end", DataType.INT64)
        schema.add_field("section", DataType.VARCHAR, max_length=MAX_VARCHAR)
        schema.add_field("record", DataType.VARCHAR, max_length=MAX_VARCHAR)
        # "standard" exists in every Milvus; hashed tokens make its behaviour irrelevant.
        schema.add_field(
            "tokens",
            DataType.VARCHAR,
            max_length=MAX_VARCHAR,
            enable_analyzer=True,
            analyzer_params={"tokenizer": "standard"},
        )
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
        schema.add_function(
            Function(
                name="bm25",
                function_type=FunctionType.BM25,
                input_field_names=["tokens"],
                output_field_names=["sparse"],
            )
        )
        index = client.prepare_index_params()
        kind, params = _DENSE_INDEX.get(options.dense_kind, _DENSE_INDEX["flat"])
        index.add_index("vector", index_type=kind, metric_type="IP", params=params)
        index.add_index(
            "sparse",
            index_type="SPARSE_INVERTED_INDEX",
            metric_type="BM25",
            params={"bm25_k1": options.bm25_k1, "bm25_b": options.bm25_b},
        )
        client.create_collection(
            target.collection, schema=schema, index_params=index, consistency_level="Strong"
        )
    if not client.has_collection(target.meta):
        schema = client.create_schema(auto_id=False)
        schema.add_field("pk", DataType.VARCHAR, is_primary=True, max_length=1024)
        schema.add_field("kind", DataType.VARCHAR, max_length=16)
        schema.add_field("gen", DataType.INT64)
        schema.add_field("key", DataType.VARCHAR, max_length=1024)
        schema.add_field("part", DataType.INT64)
        schema.add_field("body", DataType.VARCHAR, max_length=MAX_VARCHAR)
        schema.add_field("v", DataType.FLOAT_VECTOR, dim=2)  # Milvus requires a vector field
        index = client.prepare_index_params()
        index.add_index("v", index_type="FLAT", metric_type="L2")
        client.create_collection(target.meta, schema=schema, index_params=index, consistency_level="Strong")


def _chunk_row(c: Chunk, tokens: list[str], vector: np.ndarray, gen: int) -> dict[str, Any]:
    record = _chunk_record(c)
    text = token_text(tokens)
    if max(len(record.encode("utf-8")), len(text)) > MAX_VARCHAR:
        raise ValueError(f"chunk {c.chunk_id} is longer than a Milvus VARCHAR field holds")
    return {
        "pk": f"{gen}|{c.chunk_id}",
        "chunk_id": c.chunk_id,
        "doc_id": c.doc_id,
        "gen": gen,
        "page_start": -1 if c.page_start is None else c.page_start,
        "page_end": -1 if c.page_end is None else c.page_end,
        "section": "\n".join(c.section_path).lower()[: MAX_VARCHAR // 4],
        "record": record,
        "tokens": text,
        "vector": vector.tolist(),
    }


def _meta_rows(kind: str, gen: int, key: str, text: str) -> list[dict[str, Any]]:
    return [
        {
            "pk": f"{kind}|{gen}|{key}|{i}",
            "kind": kind,
            "gen": gen,
            "key": key,
            "part": i,
            "body": body,
            "v": [0.0, 0.0],
        }
        for i, body in enumerate(_parts(text))
    ]


class MilvusWriter:
    """Writes one ingest into Milvus; the same calls as the local writer (see index.builder)."""

    def __init__(self, index_dir: Path, options: IndexOptions) -> None:
        self.index_dir = index_dir
        self.options = options
        self.target = MilvusTarget.from_options(options, index_dir)
        self._client: MilvusClient | None = None
        self._committed: Committed | None = None

    @property
    def client(self) -> MilvusClient:
        if self._client is None:
            self._client = connect(self.target)
        return self._client

    def check(self) -> None:
        """Fail before reading or embedding anything when the server cannot be reached."""
        with _engine_errors(self.target.uri):
            self._committed = read_committed(self.client, self.target)

    @contextlib.contextmanager
    def lock(self, timeout: float) -> Iterator[None]:
        # One writer per index, enforced on this machine: Milvus has no lock a client could take.
        from index.storage import write_lock

        with write_lock(self.index_dir, timeout):
            yield

    def previous(self, rebuild: bool) -> Manifest | None:
        if self._committed is None:
            self.check()
        return None if rebuild or self._committed is None else self._committed.manifest

    def write(
        self,
        embedder: Embedder,
        documents: Sequence[tuple[Document, list[Chunk]]],
        entries: list[DocumentEntry],
        carried: list[DocumentEntry],
        settings: dict[str, object],
        progress: bool,
    ) -> None:
        from tqdm.auto import tqdm

        options = self.options
        client = self.client
        with _engine_errors(self.target.uri):
            old = read_committed(client, self.target)
            if old is not None and old.manifest.dense_kind != options.dense_kind:
                # The dense index type is fixed when the collection is created.
                client.drop_collection(self.target.collection)
                client.drop_collection(self.target.meta)
                old = None
            _create_collections(client, self.target, embedder.identity.dim, options)
            client.load_collection(self.target.collection)
            base = old.gen if old is not None else 0
            gen = base + 1
            # Leftovers of a run killed before its commit, and rows an earlier commit left behind.
            client.delete(self.target.collection, filter=f"gen > {base}")
            client.delete(self.target.meta, filter=f'kind != "pointer" and gen > {base}')
            if old is not None and old.cleanup:
                self._drop_older(old.cleanup, old.gen)

            analysis = options.analysis
            total = sum(len(c) for _, c in documents)
            bar = tqdm(total=total, desc="milvus", unit="chunk", disable=not progress)
            pending: list[tuple[Chunk, str]] = []

            def flush_batch() -> None:
                texts = [t for _, t in pending]
                vectors = embedder.encode_passages(texts) if texts else np.zeros((0, 0), dtype=np.float32)
                rows = [
                    _chunk_row(c, lexical_tokens(c.index_text, analysis), v, gen)
                    for (c, _), v in zip(pending, vectors, strict=True)
                ]
                client.insert(self.target.collection, rows)
                bar.update(len(rows))
                pending.clear()

            try:
                for doc, chunks in documents:
                    client.insert(self.target.meta, _meta_rows("doc", gen, doc.doc_id, _document_record(doc)))
                    for c in chunks:
                        pending.append((c, match_form(c.index_text, analysis)))
                        if len(pending) >= BATCH:
                            flush_batch()
                flush_batch()
            finally:
                bar.close()

            old_gens = old.doc_gens if old is not None else {}
            doc_gens = {d.doc_id: old_gens[d.doc_id] for d in carried if d.doc_id in old_gens}
            doc_gens.update({d.doc_id: gen for d, _ in documents})
            dropped = tuple(sorted(set(old_gens) - {d.doc_id for d in carried}))
            manifest = Manifest(
                model=embedder.identity,
                settings=settings,
                dense_kind=options.dense_kind,
                documents=carried + entries,
                chunk_count=sum(d.chunks for d in carried + entries),
            )
            committed = Committed(gen, manifest, doc_gens, dropped)
            client.insert(self.target.meta, _meta_rows("manifest", gen, "", committed.to_json()))
            # Seal what was written (BM25 statistics then cover the whole collection), then commit.
            client.flush(self.target.collection)
            client.flush(self.target.meta)
            client.upsert(
                self.target.meta,
                [
                    {
                        "pk": POINTER_PK,
                        "kind": "pointer",
                        "gen": gen,
                        "key": "",
                        "part": 0,
                        "body": "",
                        "v": [0.0, 0.0],
                    }
                ],
            )
            self._drop_older(dropped, gen)
            client.delete(self.target.meta, filter=f'kind == "manifest" and gen < {gen}')
            client.flush(self.target.collection)
            self._committed = committed

    def _drop_older(self, doc_ids: Sequence[str], gen: int) -> None:
        """Delete the rows of `doc_ids` written before `gen` (replaced or removed documents)."""
        for i in range(0, len(doc_ids), 1000):
            ids = list(doc_ids[i : i + 1000])
            self.client.delete(self.target.collection, filter=f"gen < {gen} and {_in_list('doc_id', ids)}")
            self.client.delete(
                self.target.meta, filter=f'kind == "doc" and gen < {gen} and {_in_list("key", ids)}'
            )

    def close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.close()
            self._client = None
