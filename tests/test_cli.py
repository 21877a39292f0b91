"""The `qa` command as a user runs it: real processes, real index, hostile input."""

from __future__ import annotations

import ast
import json
import logging
import os
import re
import subprocess
import sys
import tomllib
from importlib.metadata import EntryPoint, packages_distributions
from pathlib import Path

import pytest
from conftest import REPO
from packaging.requirements import Requirement

from index.storage import write_lock
from qa import cli


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


def test_search_script_filter(fixture_index) -> None:
    out = run_qa("search", "平均可用率", "--script", "en", "--json", index=fixture_index.index_dir)
    assert out.returncode == 0, out.stderr
    files = {hit["file_name"] for hit in json.loads(out.stdout)["hits"]}
    assert files == {"harbour-survey.txt"}  # the only English report of the fixtures


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


def test_info_shows_the_mined_glossary(fixture_index) -> None:
    data = json.loads(run_qa("info", "--json", index=fixture_index.index_dir).stdout)
    text = run_qa("info", index=fixture_index.index_dir)
    assert text.returncode == 0, text.stderr
    assert isinstance(data["glossary"], dict)
    first = text.stdout.splitlines()[-1 - min(20, len(data["glossary"])) - (len(data["glossary"]) > 20)]
    assert first.startswith("glossary:")
    for key in list(data["glossary"])[:20]:
        assert f"  {key} = " in text.stdout


# -- arguments checked before any work starts ------------------------------------------------------
def _no_toml(tmp_path: Path) -> list[str]:
    """In-process runs must not pick up a qa.toml from the working or user config folder."""
    empty = tmp_path / "empty.toml"
    empty.write_text("", encoding="utf-8")
    return ["--config", str(empty)]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-1", "between 1 and 1000"),
        ("0", "between 1"),
        ("100000", "between 1 and 1000"),
        ("ten", "whole number"),
    ],
)
def test_search_k_outside_range_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str, message: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["search", "發電量", "-k", value, "--index", str(tmp_path / "idx")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "argument -k: " in err and message in err and "Traceback" not in err


def test_search_k_at_the_limits_is_accepted() -> None:
    parser = cli.build_parser()
    assert parser.parse_args(["search", "q", "-k", "1"]).k == 1
    assert parser.parse_args(["search", "q", "-k", "1000"]).k == 1000


def test_ingest_lock_timeout_flag_is_the_one_the_busy_message_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "note.txt"
    report.write_text("潮流機組的平均可用率為 87.5%。\n", encoding="utf-8")
    index = tmp_path / "idx"
    with write_lock(index):  # another writer at work
        code = cli.main(
            ["ingest", str(report), "--index", str(index), "--lock-timeout", "1", *_no_toml(tmp_path)]
        )
    err = capsys.readouterr().err
    assert code == 2 and "Another process is writing" in err
    assert "(waited 1 s)" in err  # the flag reached [index] lock_timeout_s
    assert "--lock-timeout SECONDS" in err and "lock_timeout_s" in err

    with pytest.raises(SystemExit):
        cli.main(["ingest", str(report), "--index", str(index), "--lock-timeout", "-1"])
    assert "zero or more seconds" in capsys.readouterr().err


# -- sub-commands contributed through entry points -------------------------------------------------
def _fake_commands(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Two broken contributed commands: one cannot be imported, one fails while registering."""
    (tmp_path / "half_registered.py").write_text(
        "def register(sub, common):\n"
        "    sub.add_parser('half', help='half done').add_argument('--needed', required=True)\n"
        "    raise RuntimeError('register() broke')\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    fake = [
        EntryPoint("broken", "reportqa_no_such_module:register", "reportqa.commands"),
        EntryPoint("half", "half_registered:register", "reportqa.commands"),
    ]
    monkeypatch.setattr(cli, "entry_points", lambda group: fake if group == "reportqa.commands" else [])


def test_command_that_fails_to_load_is_listed_and_explains_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fake_commands(monkeypatch, tmp_path)
    listing = " ".join(cli.build_parser().format_help().split())
    assert (
        "broken (unavailable: ModuleNotFoundError" in listing
        and "No module named 'reportqa_no_such_module'" in listing
    )

    assert cli.main(["broken", "--port", "8000"]) == 1
    err = capsys.readouterr().err
    assert err == (
        "qa: the 'broken' command could not be loaded "
        "(ModuleNotFoundError: No module named 'reportqa_no_such_module')\n"
    )
    assert cli.main(["half"]) == 1  # its own required option does not get in the way
    assert (
        capsys.readouterr().err
        == "qa: the 'half' command could not be loaded (RuntimeError: register() broke)\n"
    )


def test_built_in_commands_start_without_loading_plugins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """`qa search` / `ask` / `info` / `ingest` do not pay for importing `serve` or `eval` (start-up time);
    a broken plugin shows in `qa --help` and when it is run (test above)."""
    _fake_commands(monkeypatch, tmp_path)
    monkeypatch.delitem(sys.modules, "half_registered", raising=False)
    caplog.set_level(logging.WARNING, logger="qa")
    assert cli.main(["info", "--index", str(tmp_path / "none"), *_no_toml(tmp_path)]) == 2  # no index there
    assert "half_registered" not in sys.modules
    assert not [r for r in caplog.records if "command is unavailable" in r.getMessage()]
    assert cli._command_word(["search", "q", "--index", "x"]) == "search"
    assert cli._command_word(["--help"]) is None and cli._command_word([]) is None


# -- packaging -------------------------------------------------------------------------------------
def test_every_third_party_import_is_a_declared_dependency() -> None:
    """An import that works only because something else pulled the package in breaks a clean install."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    # Optional extras count for the modules that only their feature imports (corpus/ocr.py, index/milvus*.py).
    extras = [r for name, reqs in project["optional-dependencies"].items() if name != "test" for r in reqs]
    declared = {_dist_key(Requirement(r).name) for r in [*project["dependencies"], *extras]}
    providers = packages_distributions()
    ours = {"corpus", "index", "qa", "ui", "evaluation"}
    undeclared: dict[str, str] = {}
    for package in sorted(ours):
        for path in sorted((REPO / package).rglob("*.py")):
            for module in _imported_modules(path):
                top = module.partition(".")[0]
                if top in ours or top in sys.stdlib_module_names:
                    continue
                if not any(_dist_key(d) in declared for d in providers.get(top, [])):
                    undeclared.setdefault(top, str(path.relative_to(REPO)))
    assert not undeclared, f"imported but not in pyproject.toml dependencies: {undeclared}"


def _dist_key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _imported_modules(path: Path) -> list[str]:
    modules: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.append(node.module)
    return modules


def test_a_question_over_the_limit_is_answered_with_a_visible_note(fixture_index) -> None:
    question = "潮流機組的平均可用率是多少？" + "請詳細說明。" * 600
    out = run_qa("ask", question, index=fixture_index.index_dir)
    assert out.returncode == 0, out.stderr
    assert (
        f"note: the question is {len(question):,} characters long; only the first 2,000 were used."
        in out.stderr
    )
    assert "87.5%" in out.stdout
    short = run_qa("search", "平均可用率", "-k", "1", index=fixture_index.index_dir)
    assert "note:" not in short.stderr
