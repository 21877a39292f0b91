"""Answers staff can use: feedback stored beside the index and exported, conversations as .md and .docx."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from docx import Document

from ui.exports import answer_text, conversation_docx, conversation_markdown
from ui.feedback import AnswerRecord, CitedSource, FeedbackStore

REPO = Path(__file__).resolve().parents[1]

RECORD = AnswerRecord(
    question="截至2023年底，智慧路燈共安裝了多少盞？",
    text="4,820 [1]\n截至2023年底，本計畫共完成智慧路燈安裝4,820盞。 [1]",
    citations=(
        CitedSource(
            1, "海港市智慧路燈試辦計畫成果報告", "r.txt", "line 31", "本計畫共完成智慧路燈安裝4,820盞"
        ),
    ),
    generation="gen-7",
)
HOSTILE = AnswerRecord(question="=1+1 *bold* <b>", text='=HYPERLINK("x") [1]', citations=RECORD.citations)


def test_feedback_is_stored_beside_the_index_and_read_back(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "index")
    assert store.all() == [] and not store.path.exists()  # reading creates nothing
    first = store.add(RECORD, "down", "  年份不對，\n應為 2024  ", "zh-TW")
    store.add(HOSTILE, "up")
    assert store.path == tmp_path / "index" / "feedback.sqlite3"
    items = FeedbackStore(tmp_path / "index").all()  # a second process sees the same rows
    assert [i.id for i in items] == [first, first + 1]
    assert items[0].rating == "down" and items[0].comment == "年份不對， 應為 2024"
    assert items[0].question == RECORD.question and items[0].answer == RECORD.text
    assert items[0].citations == RECORD.citations and items[0].generation == "gen-7"
    with pytest.raises(ValueError, match="rating"):
        store.add(RECORD, "meh")
    assert len(store.all()) == 2


def test_qa_feedback_export_writes_jsonl_and_csv(tmp_path: Path) -> None:
    index = tmp_path / "index"
    store = FeedbackStore(index)
    store.add(RECORD, "down", "年份不對")
    store.add(HOSTILE, "up")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    qa = [sys.executable, "-m", "qa.cli", "feedback", "--index", str(index)]
    out = subprocess.run([*qa, "--export"], capture_output=True, text=True, env=env, check=True, timeout=300)
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [x["rating"] for x in lines] == ["down", "up"]
    assert lines[0]["citations"][0]["quote"] == "本計畫共完成智慧路燈安裝4,820盞"
    target = tmp_path / "feedback.csv"
    done = subprocess.run(
        [*qa, "--export", str(target)], capture_output=True, text=True, env=env, check=True, timeout=300
    )
    assert "2 judgements" in done.stderr
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    assert (
        rows[0]["comment"] == "年份不對"
        and "[1] 海港市智慧路燈試辦計畫成果報告, line 31" in rows[0]["citations"]
    )
    assert rows[1]["question"] == "'=1+1 *bold* <b>"  # a formula start stays text in a spreadsheet
    bad = subprocess.run(
        [*qa, "--export", str(tmp_path / "missing" / "x.csv")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert bad.returncode != 0 and "cannot write the feedback export" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_copied_answer_carries_its_sources() -> None:
    text = answer_text(RECORD)
    assert text.startswith("4,820 [1]\n")
    assert text.endswith(
        "出處：\n[1] 海港市智慧路燈試辦計畫成果報告, line 31：「本計畫共完成智慧路燈安裝4,820盞」"
    )
    assert "Sources：" in answer_text(RECORD, "en")


def test_conversation_exports_as_markdown_and_word(tmp_path: Path) -> None:
    md = conversation_markdown([RECORD, HOSTILE])
    assert md.startswith("# 報告問答對話紀錄")
    assert "## 1. 截至2023年底，智慧路燈共安裝了多少盞？" in md
    assert "- \\[1\\] 海港市智慧路燈試辦計畫成果報告, line 31：「本計畫共完成智慧路燈安裝4,820盞」" in md
    assert "\\*bold\\* \\<b\\>" in md  # user text cannot turn into markup
    path = conversation_docx([RECORD, HOSTILE], tmp_path / "c.docx")
    doc = Document(str(path))
    paragraphs = [(p.style.name, p.text) for p in doc.paragraphs]
    assert ("Heading 1", "1. 截至2023年底，智慧路燈共安裝了多少盞？") in paragraphs
    assert (
        "List Number",
        "[1] 海港市智慧路燈試辦計畫成果報告, line 31：「本計畫共完成智慧路燈安裝4,820盞」",
    ) in paragraphs
    assert ("Heading 1", "2. =1+1 *bold* <b>") in paragraphs
