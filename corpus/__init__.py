"""Corpus layer: read reports (PDF, text, Markdown), recover their structure, cut citable chunks."""

from corpus.chunking import ChunkingConfig, chunk_document
from corpus.normalize import detect_script, matching_text, to_canonical_script
from corpus.pipeline import CorpusReadResult, FileSummary, read_corpus
from corpus.reading import ReadingConfig, iter_report_files, read_document
from corpus.segment import Token, segment, tokenize
from corpus.types import Chunk, CorpusError, Document, Page, Skipped

__all__ = [
    "Chunk",
    "ChunkingConfig",
    "CorpusError",
    "CorpusReadResult",
    "Document",
    "FileSummary",
    "Page",
    "ReadingConfig",
    "Skipped",
    "Token",
    "chunk_document",
    "detect_script",
    "iter_report_files",
    "matching_text",
    "read_corpus",
    "read_document",
    "segment",
    "to_canonical_script",
    "tokenize",
]
