"""The `qa` command as a user runs it: real processes, real index, hostile input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO


def run_qa(
    *args: str, index: Path | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "qa", *args]
    if index is not None:
        cmd += ["--index", str(index)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "QA_CONFIG": ""}
    return subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, input=stdin, env=env, timeout=300)


def test_search_json_has_addresses_and_marked_terms(fixture_index) -> None:
    out = run_qa("search", "平均可用率", "-k", "3", "--json", index=fixture_index.index_dir)
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    top = payload["hits"][0]
    assert "87.5%" in top["text"]
    assert top["line_start"] is not None and top["line_end"] >= top["line_start"]
    assert top["section_path"] and "可用" in top["matched_terms"]
    assert {"score", "title", "address", "file_name", "chunk_id"} <= top.keys()


def test_search_text_output_and_doc_filter(fixture_index) -> None:
    out = run_qa(
        "search",
        "monitoring stations",
        "--doc",
        "harbour-survey.txt",
        "-k",
        "2",
        index=fixture_index.index_dir,
    )
    assert out.returncode == 0, out.stderr
    assert "Harbour Water Quality Survey 2024" in out.stdout and "lines" in out.stdout
    assert "**" in out.stdout  # matched terms are marked when not on a terminal

    bad = run_qa("search", "x", "--doc", "no-such-report", index=fixture_index.index_dir)
    assert bad.returncode == 2 and "No indexed report matches" in bad.stderr


@pytest.mark.parametrize(
    "question",
    ["", "   ", "？？！!...", "\x01\x07\x1b[31m", "<script></script>"],
)
def test_unsearchable_questions_get_a_message_not_a_traceback(fixture_index, question: str) -> None:
    out = run_qa("search", question, index=fixture_index.index_dir)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr and out.stderr.startswith("qa: ")


@pytest.mark.parametrize(
    "question",
    [
        "發電量" * 3400,  # over 10,000 characters
        "潮流機組\x01的\x1b可用率<b>多少</b>？",
        "<img src=x onerror=alert(1)> dissolved oxygen",
    ],
)
def test_odd_but_searchable_questions_return_results(fixture_index, question: str) -> None:
    out = run_qa("search", question, "--json", index=fixture_index.index_dir)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["hits"]


def test_missing_index_says_how_to_build_one(tmp_path: Path) -> None:
    out = run_qa("search", "任何問題", index=tmp_path / "none")
    assert out.returncode == 2 and "qa ingest" in out.stderr and "Traceback" not in out.stderr


def test_ask_json_and_batch_file(fixture_index, tmp_path: Path) -> None:
    out = run_qa("ask", "潮流機組的平均可用率是多少？", "--json", index=fixture_index.index_dir)
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    assert answer["abstained"] is False and "87.5%" in answer["answer"]
    assert answer["citations"] and answer["citations"][0]["quote"]

    # A NUL byte cannot travel in argv, but it can arrive on standard input.
    questions = "潮流機組的平均可用率是多少？\nWhat was the mean\x00 dissolved oxygen?\n\n"
    batch = run_qa("ask", "--file", "-", "--json", index=fixture_index.index_dir, stdin=questions)
    assert batch.returncode == 0, batch.stderr
    lines = [json.loads(line) for line in batch.stdout.splitlines()]
    assert len(lines) == 2 and all("abstained" in line for line in lines)


def test_info_lists_documents(fixture_index) -> None:
    out = run_qa("info", "--json", index=fixture_index.index_dir)
    assert out.returncode == 0, out.stderr
    names = {d["file_name"] for d in json.loads(out.stdout)["documents"]}
    assert names == {"harbour-survey.txt", "海洋能源示範計畫報告.md"}
