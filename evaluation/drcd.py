"""SQuAD-style reading-comprehension sets (DRCD) as an open-retrieval benchmark.

Every paragraph becomes one Document with one Chunk (its article title as the section path,
the way report chunks carry their heading breadcrumb); every question becomes a Question whose
relevant passage is its own paragraph and whose acceptable answers are the annotated spans.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from corpus.types import Chunk, Document
from evaluation.questions import Question, QuestionSetError, QuestionType, evenly_spaced

DEFAULT_SLICE_QUESTIONS = 200
DEFAULT_SLICE_PARAGRAPHS = 300

# A set's articles are split in two by a hash of the article id: the learned confidence model
# trains on the "train" articles only, and every check (`qa eval --split check`, the CI floors)
# uses the "check" articles, so no checked question or paragraph was ever seen in training.
ArticlePart = Literal["all", "train", "check"]


def article_part(article_id: str) -> Literal["train", "check"]:
    """Fixed by the article id alone: SHA-256 as an integer, even -> train, odd -> check."""
    return "train" if int(hashlib.sha256(article_id.encode()).hexdigest(), 16) % 2 == 0 else "check"


@dataclass(frozen=True)
class Paragraph:
    """One context paragraph of the set and where it sits."""

    paragraph_id: str  # the set's own id, e.g. "1147-5"
    article: str
    text: str
    doc_id: str

    @property
    def chunk_id(self) -> str:
        return f"{self.doc_id}:0"


@dataclass
class SquadSet:
    """The paragraphs to index and the questions to ask, already restricted to a slice."""

    source: Path
    paragraphs: list[Paragraph]
    questions: list[Question]

    def documents(self) -> list[Document]:
        return [
            Document(
                doc_id=p.doc_id,
                path=self.source,
                file_name=self.source.name,
                title=p.article,
                kind="text",
                text=p.text,
                line_starts=[0],
                metadata={"paragraph": p.paragraph_id},
                script="zh-Hant",
            )
            for p in self.paragraphs
        ]

    def chunks(self) -> list[Chunk]:
        return [
            Chunk(
                chunk_id=p.chunk_id,
                doc_id=p.doc_id,
                ordinal=0,
                file_name=self.source.name,
                title=p.article,
                text=p.text,
                char_start=0,
                char_end=len(p.text),
                section_path=(p.article,),
                line_start=1,
                line_end=1,
                script="zh-Hant",
            )
            for p in self.paragraphs
        ]

    def fingerprint(self) -> str:
        """Identifies the indexed paragraph set, so a cached index is reused only for the same slice."""
        digest = hashlib.sha256()
        for p in self.paragraphs:
            digest.update(p.doc_id.encode())
        return digest.hexdigest()[:16]


def is_squad_json(path: Path) -> bool:
    """True when the file is one JSON document with a SQuAD-style top-level `data` list."""
    with path.open("rb") as fh:
        head = fh.read(4096).decode("utf-8-sig", errors="replace").lstrip()
    if not head.startswith("{"):
        return False
    first_line = head.split("\n", 1)[0]
    try:
        obj = json.loads(first_line)
    except json.JSONDecodeError:
        return '"data"' in head or '"version"' in head
    # A JSONL question set has a complete object on its first line; a one-line SQuAD file has `data`.
    return isinstance(obj, dict) and "data" in obj


def _doc_id(paragraph_id: str, text: str) -> str:
    return hashlib.sha256(f"{paragraph_id}\n{text}".encode()).hexdigest()[:20]


def _question_type(answers: tuple[str, ...]) -> QuestionType:
    # DRCD has no question types; figures are the one split that tells something.
    return "number" if any(any(ch.isdigit() for ch in a) for a in answers) else "fact"


def load_squad(
    path: Path | str,
    *,
    limit: int | None = None,
    max_paragraphs: int | None = None,
    part: ArticlePart = "all",
) -> SquadSet:
    """Read a SQuAD-style JSON set.

    `limit` keeps that many questions spread evenly over the set (a fixed slice). `max_paragraphs`
    restricts the corpus to the gold paragraphs of the kept questions plus distractors up to that
    many paragraphs in total: first the other paragraphs of the same articles (the hardest
    competitors, as in the full set), then paragraphs spread evenly over the rest. `part` keeps the
    articles of one half only (see `article_part`), questions and paragraphs alike.
    """
    path = Path(path)
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8-sig"))
        articles = data["data"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise QuestionSetError(f"{path.name}: not a readable SQuAD-style JSON file ({exc})") from None

    paragraphs: list[Paragraph] = []
    questions: list[Question] = []
    article_of: dict[str, int] = {}
    try:
        for article_no, article in enumerate(articles):
            title = str(article.get("title", ""))
            if part != "all" and article_part(str(article.get("id", title))) != part:
                continue
            for p_no, raw in enumerate(article["paragraphs"]):
                pid = str(raw.get("id", f"{article_no}-{p_no}"))
                text = str(raw["context"])
                para = Paragraph(paragraph_id=pid, article=title, text=text, doc_id=_doc_id(pid, text))
                if para.doc_id not in article_of:  # a paragraph listed twice (CMRC trial) is indexed once
                    paragraphs.append(para)
                    article_of[para.doc_id] = article_no
                for qa in raw["qas"]:
                    answers = tuple(dict.fromkeys(str(a["text"]) for a in qa["answers"] if a["text"]))
                    if not answers:
                        continue
                    questions.append(
                        Question(
                            id=str(qa["id"]),
                            question=str(qa["question"]),
                            lang="zh-Hant",
                            type=_question_type(answers),
                            doc=None,
                            answers=answers,
                            gold_chunk_ids=(para.chunk_id,),
                        )
                    )
    except (KeyError, TypeError, AttributeError) as exc:
        raise QuestionSetError(f"{path.name}: unexpected SQuAD structure (missing {exc})") from None
    if not questions:
        raise QuestionSetError(f"{path.name}: no questions with answers")

    questions = evenly_spaced(questions, limit)
    if max_paragraphs is not None:
        paragraphs = _restrict(paragraphs, questions, article_of, max_paragraphs)
    return SquadSet(source=path, paragraphs=paragraphs, questions=questions)


def _restrict(
    paragraphs: list[Paragraph],
    questions: list[Question],
    article_of: dict[str, int],
    max_paragraphs: int,
) -> list[Paragraph]:
    gold = {cid for q in questions for cid in q.gold_chunk_ids}
    keep = [p for p in paragraphs if p.chunk_id in gold]
    gold_articles = {article_of[p.doc_id] for p in keep}
    siblings = [p for p in paragraphs if p.chunk_id not in gold and article_of[p.doc_id] in gold_articles]
    others = [p for p in paragraphs if p.chunk_id not in gold and article_of[p.doc_id] not in gold_articles]
    room = max(0, max_paragraphs - len(keep))
    keep += siblings[:room]
    room = max(0, max_paragraphs - len(keep))
    take = min(room, len(others))  # a set smaller than the cap is kept whole, each paragraph once
    if take:
        keep += [others[i * len(others) // take] for i in range(take)]
    order = {p.doc_id: i for i, p in enumerate(paragraphs)}
    return sorted(keep, key=lambda p: order[p.doc_id])
