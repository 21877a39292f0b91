"""The app's named API endpoints (/ask, /search) called with gradio_client over loopback HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import ui_harness as harness  # tests/ is on sys.path, as for conftest
from gradio_client import Client
from gradio_client.exceptions import AuthenticationError

pytestmark = pytest.mark.slow  # builds a real index with the embedding model

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return harness.build_index(tmp_path_factory.getbasetemp() / "ui-index")


@pytest.fixture(scope="module")
def running(config: Any) -> Iterator[Any]:
    app = harness.start_app(config)
    yield app
    app.close()


@pytest.fixture(scope="module")
def client(running: Any, tmp_path_factory: pytest.TempPathFactory) -> Client:
    return Client(
        running.url, verbose=False, analytics_enabled=False, download_files=str(tmp_path_factory.mktemp("dl"))
    )


def doc_id(running: Any, file_name: str) -> str:
    return next(d.doc_id for d in running.pipeline.documents() if d.file_name == file_name)


def test_ask_returns_answer_with_verified_citation(client: Client, running: Any) -> None:
    result = client.predict(question="截至2023年底，智慧路燈共安裝了多少盞？", api_name="/ask")
    json.dumps(result)  # JSON-able all the way down
    assert result["abstained"] is False
    assert "4,820" in result["text"]
    first = result["citations"][0]
    chunk = running.pipeline.chunk(first["chunk_id"])
    assert first["quote"] in chunk.text
    assert first["title"] == "海港市智慧路燈試辦計畫成果報告"
    assert result["related"] and result["related"][0]["citation"]


def test_ask_follow_up_uses_history(client: Client) -> None:
    result = client.predict(
        question="那 2024 年呢？", history=["2023 年智慧路燈安裝了多少盞？"], api_name="/ask"
    )
    assert result["abstained"] is False
    assert result["figure"] == "7,350盞" and result["text"].startswith("7,350")


def test_ask_rejects_bad_input_with_a_message(client: Client) -> None:
    result = client.predict(question="？？？", api_name="/ask")
    assert set(result) == {"error"} and result["error"] and "Traceback" not in result["error"]
    result = client.predict(question="路燈", doc_ids=["not-a-report"], api_name="/ask")
    assert "None of the chosen reports" in result["error"]


@pytest.mark.parametrize(
    "history",
    [[None], [["2023 年智慧路燈安裝了多少盞？"]], [2023], "2023 年智慧路燈安裝了多少盞？", {"q": "2023"}, 7],
)
def test_ask_refuses_a_malformed_history_with_a_message(client: Client, history: object) -> None:
    result = client.predict(question="那 2024 年呢？", history=history, api_name="/ask")
    assert set(result) == {"error"}, result
    assert "history" in result["error"] and "Traceback" not in result["error"]


def test_ask_with_a_long_noisy_history_uses_its_last_turns(client: Client) -> None:
    noise = ["<i>附註</i>" + "與本題無關的長篇文字。" * 800] * 30
    history = [*noise, "\x1b[1m2023 年智慧路燈安裝了多少盞？\x1b[0m"]
    result = client.predict(question="那 2024 年呢？", history=history, api_name="/ask")
    assert result.get("figure") == "7,350盞", result


def test_search_with_filters(client: Client, running: Any) -> None:
    english = doc_id(running, "harbour_ferry_review.pdf")
    result = client.predict(query="2024", k=5, doc_ids=[english], api_name="/search")
    rows = result["results"]
    assert rows and all(r["doc_id"] == english for r in rows)
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    assert rows[0]["page_start"] is not None and rows[0]["citation"].endswith(".")

    paged = client.predict(query="ferry", k=10, doc_ids=[english], page_min=4, page_max=4, api_name="/search")
    assert paged["results"] and {r["page_start"] for r in paged["results"]} == {4}

    unknown = client.predict(query="ferry", mode="fuzzy", api_name="/search")
    assert "Unknown search mode" in unknown["error"]


def test_concurrent_questions_get_their_own_answers(client: Client) -> None:
    questions = {
        "截至2023年底，智慧路燈共安裝了多少盞？": "4,820",
        "How much does converting one ferry cost?": "4.2 million",
        "智慧路燈每盞年平均用電量下降多少？": "四十二",
    }
    jobs = {q: client.submit(question=q, api_name="/ask") for q in questions}
    for question, expected in questions.items():
        result = jobs[question].result(timeout=120)
        assert result["question"] == question
        assert expected in result["text"], result["text"]


def test_login_is_required_when_auth_is_set(config: Any) -> None:
    app = harness.start_app(config, auth=("staff", "s3cret"))
    try:
        # Without a login the app serves neither its configuration nor its API.
        assert httpx.get(app.url + "config").status_code == 401
        assert httpx.get(app.url + "gradio_api/info").status_code == 401
        with pytest.raises(AuthenticationError, match="credentials were not provided"):
            Client(app.url, verbose=False, analytics_enabled=False)
        wrong = httpx.post(app.url + "login", data={"username": "staff", "password": "wrong"})
        assert wrong.status_code == 400 and "Incorrect credentials" in wrong.text
        with pytest.raises(ValueError, match="Could not login"):
            Client(app.url, auth=("staff", "wrong"), verbose=False, analytics_enabled=False)
        authed = Client(app.url, auth=("staff", "s3cret"), verbose=False, analytics_enabled=False)
        assert authed.predict(query="ferry", k=1, api_name="/search")["results"]
    finally:
        app.close()
