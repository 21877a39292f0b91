"""Generative mode against a real OpenAI-compatible HTTP server on loopback."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from fixtures.answer.reports import COASTAL, OCEAN, load_report, rank

from qa.answer import AnswerConfig, answer_question
from qa.generative import Claim, parse_claims
from qa.types import Answer

QUESTION = "2024 年海洋科技研發經費總額是多少？"
SUPPORTED = "2024 年海洋科技研發經費總額為 86.5 億臺幣，較前一年成長 12.3%"
INVENTED = "其中有 99 億臺幣用於購買研究船"  # not in any passage: its citation cannot verify


class ChatHandler(BaseHTTPRequestHandler):
    """Replies like /v1/chat/completions; the requested model name picks the behaviour."""

    requests: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        ChatHandler.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
        model = body["model"]
        if model == "slow":
            time.sleep(3.0)
        if model == "malformed":
            payload = b'{"choices": [{"message": {"role": "assistant"}}]'  # truncated, no content
        else:
            content = f"{SUPPORTED} [1]。{INVENTED} [1][2]。"
            payload = json.dumps(
                {"choices": [{"message": {"role": "assistant", "content": content}}]}
            ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), ChatHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def ask(url: str, model: str, timeout_s: float = 5.0) -> Answer:
    chunks = load_report(OCEAN).chunks + load_report(COASTAL).chunks
    config = dataclasses.replace(
        AnswerConfig(),
        generative_url=url,
        generative_model=model,
        generative_api_key="test-key",
        generative_timeout_s=timeout_s,
    )
    return answer_question(QUESTION, rank(QUESTION, chunks), embedder=None, config=config)


def test_generated_answer_keeps_only_sentences_whose_citations_verify(server_url: str) -> None:
    answer = ask(server_url, "good")
    assert answer.mode == "generative"
    assert not answer.abstained
    assert SUPPORTED in answer.text
    assert INVENTED not in answer.text  # dropped: no cited passage supports it
    assert answer.text.endswith("[1]")
    assert len(answer.citations) == 1
    citation = answer.citations[0]
    assert "86.5 億臺幣" in citation.quote
    document = load_report(OCEAN).text
    assert document[citation.quote_start : citation.quote_end] == citation.quote

    request = ChatHandler.requests[-1]
    assert request["path"] == "/v1/chat/completions"
    assert request["auth"] == "Bearer test-key"
    assert request["model"] == "good"
    prompt = request["messages"][-1]["content"]
    assert "[1]" in prompt and QUESTION in prompt and "86.5 億臺幣" in prompt
    assert "Traditional Chinese" in request["messages"][0]["content"]


def test_malformed_reply_falls_back_to_the_extractive_answer(server_url: str) -> None:
    answer = ask(server_url, "malformed")
    assert answer.mode == "extractive"
    assert answer.figure == "86.5 億臺幣"
    assert answer.citations


def test_timeout_falls_back_to_the_extractive_answer(server_url: str) -> None:
    started = time.perf_counter()
    answer = ask(server_url, "slow", timeout_s=0.5)
    assert time.perf_counter() - started < 2.5
    assert answer.mode == "extractive"
    assert answer.figure == "86.5 億臺幣"


def test_unreachable_endpoint_falls_back_to_the_extractive_answer() -> None:
    answer = ask("http://127.0.0.1:9/v1", "good", timeout_s=1.0)
    assert answer.mode == "extractive" and answer.citations


def test_reply_is_split_into_claims_with_their_citation_numbers() -> None:
    reply = "第一句。第二句 [1]。Third sentence [2][3]. Fourth [1, 2]."
    assert parse_claims(reply) == [
        Claim("第一句。", ()),
        Claim("第二句", (1,)),
        Claim("Third sentence", (2, 3)),
        Claim("Fourth", (1, 2)),
    ]
