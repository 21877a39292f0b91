"""Hybrid retrieval on a real index: scripts, languages, filters, fusion, de-duplication."""

from __future__ import annotations

import itertools

import pytest
from conftest import make_config

from index.types import SearchFilter
from qa.errors import QAError
from qa.language import asked_scripts
from qa.pipeline import Pipeline, ingest
from qa.retrieval import RetrievalConfig, Retriever, highlight, matched_terms, query_terms


def _top_files(pipe: Pipeline, query: str, k: int = 3, **kw) -> list[str]:
    return [h.chunk.file_name for h in pipe.search(query, k=k, **kw)]


@pytest.mark.parametrize(
    "query",
    [
        "潮流二號在2024年的發電量是多少？",  # Traditional
        "潮流二号在2024年的发电量是多少？",  # Simplified against Traditional text
    ],
)
def test_chinese_questions_in_both_scripts_find_the_table(fixture_pipeline: Pipeline, query: str) -> None:
    hits = fixture_pipeline.search(query, k=3)
    assert hits[0].chunk.kind == "table" or "673" in hits[0].chunk.text
    assert "673" in " ".join(h.chunk.text for h in hits[:2])


def test_english_question_retrieves_chinese_passage(fixture_pipeline: Pipeline) -> None:
    hits = fixture_pipeline.search("How many marine engineers were trained?", k=3)
    assert any("326" in h.chunk.text for h in hits)


def test_modes_all_rank_the_obvious_passage_first(fixture_pipeline: Pipeline) -> None:
    for mode in ("bm25", "dense", "hybrid"):
        hits = fixture_pipeline.search("dissolved oxygen threshold stations", k=3, mode=mode)
        assert hits, mode
        assert "dissolved oxygen" in hits[0].chunk.text.lower(), mode
        assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
        assert all(a.score >= b.score for a, b in itertools.pairwise(hits))


def test_hits_carry_both_scores_and_matched_terms(fixture_pipeline: Pipeline) -> None:
    hit = fixture_pipeline.search("潮流机组 可用率", k=1)[0]
    assert hit.dense_score is not None and hit.lexical_score is not None
    assert "機組" in hit.matched_terms  # the Simplified query term, marked in the Traditional text
    assert any(t in hit.chunk.text for t in hit.matched_terms)  # marked in the passage's own script


def test_document_and_section_filters(fixture_pipeline: Pipeline) -> None:
    docs = {d.file_name: d.doc_id for d in fixture_pipeline.documents()}
    survey = docs["harbour-survey.txt"]
    only = SearchFilter(doc_ids=(survey,))
    hits = fixture_pipeline.search("發電量", k=5, filter=only)
    assert hits and all(h.chunk.doc_id == survey for h in hits)

    section = SearchFilter(section_contains="人才培育")
    hits = fixture_pipeline.search("培訓", k=5, filter=section)
    assert hits and all("人才培育" in " ".join(h.chunk.section_path) for h in hits)

    nothing = SearchFilter(page_min=500)  # text files have no pages
    assert fixture_pipeline.search("培訓", k=5, filter=nothing) == []


def test_script_filter_keeps_passages_of_that_language(fixture_pipeline: Pipeline) -> None:
    english = fixture_pipeline.search("發電量", k=5, filter=SearchFilter(scripts=("en",)))
    assert english and all(h.chunk.script == "en" for h in english)
    chinese = fixture_pipeline.search("dissolved oxygen", k=5, filter=SearchFilter(scripts=("zh-Hant",)))
    assert chinese and all(h.chunk.script == "zh-Hant" for h in chinese)


@pytest.mark.parametrize(
    ("question", "scripts"),
    [
        ("英文執行摘要中，AI 產業的產值是多少？", ("en",)),
        ("英文执行摘要把「臺灣 AI 卓越中心」译成什么？", ("en",)),
        ("臺馬四號海纜的英文名稱是什麼？", ("en",)),
        ("What is the Chinese name of the Taiwan AI Center of Excellence?", ("zh-Hant", "zh-Hans", "mixed")),
        ("海洋能源示範計畫的發電量是多少？", ()),
        ("華語文教學英語授課的學校有幾所？", ()),  # 英語 here is a subject taught, not the report's text
        ("How much power did the demonstration programme generate?", ()),
    ],
)
def test_questions_about_the_other_languages_text(question: str, scripts: tuple[str, ...]) -> None:
    assert asked_scripts(question) == scripts


def test_a_question_about_the_english_text_is_answered_from_it(fixture_pipeline: Pipeline) -> None:
    question = "英文報告中，微塑膠濃度平均是多少？"
    hits = fixture_pipeline.search(question, k=3)
    assert hits and all(h.chunk.script == "en" for h in hits)
    assert "3.4 particles" in hits[0].chunk.text
    # where no passage is in English (here: the filter allows only the Chinese report), all are searched
    docs = {d.file_name: d.doc_id for d in fixture_pipeline.documents()}
    chinese = SearchFilter(doc_ids=(docs["海洋能源示範計畫報告.md"],))
    assert fixture_pipeline.search(question, k=3, filter=chinese)
    answer = fixture_pipeline.ask(question)
    assert not answer.abstained and "3.4" in answer.text, answer.text


def test_no_two_hits_overlap_in_the_same_document(fixture_pipeline: Pipeline) -> None:
    hits = fixture_pipeline.search("發電", k=10)
    for i, a in enumerate(hits):
        for b in hits[i + 1 :]:
            if a.chunk.doc_id == b.chunk.doc_id:
                overlap = min(a.chunk.char_end, b.chunk.char_end) - max(
                    a.chunk.char_start, b.chunk.char_start
                )
                shorter = min(len(a.chunk.text), len(b.chunk.text))
                assert overlap <= 0.5 * shorter


def test_script_normalisation_lets_simplified_queries_match_traditional_words(
    fixture_reports, tmp_path, default_embedder
) -> None:
    query = "人才培训 学程 修课学生"  # Simplified; the report says 人才培訓 學程 修課學生
    scores = {}
    for on in (True, False):
        config = make_config(tmp_path / f"idx-{on}", **{"index.script_normalization": on})
        ingest([fixture_reports], config, progress=False)
        pipe = Pipeline.open(config)
        hits = pipe.search(query, k=1, mode="bm25")
        scores[on] = hits[0].lexical_score if hits and "1,150" in hits[0].chunk.text else 0.0
        pipe.close()
    assert scores[True] > scores[False]


def test_query_terms_and_highlight() -> None:
    terms = query_terms("2024 年潮流機組的平均可用率是多少？")
    assert "潮流" in terms and "2024" in terms and "？" not in terms
    runs = highlight("平均可用率為 87.5%", ["可用率"])
    assert runs == [("平均", False), ("可用率", True), ("為 87.5%", False)]


def test_english_terms_mark_whole_words_and_skip_function_words() -> None:
    terms = query_terms("How much S&T budget did the Ministry of Culture receive in NT$ thousand?")
    assert "Ministry" in terms and "budget" in terms
    assert not {"the", "of", "in", "How"} & set(terms)
    text = "The Central Government's budget for the Ministry rose; NT$ 1.4 billion in total."
    marked = [seg for seg, on in highlight(text, terms) if on]
    assert "budget" in marked and "Ministry" in marked and "NT" in marked
    assert not any(m.lower() in {"nt", "the", "in"} and m != "NT" for m in marked)
    assert matched_terms(["NT"], "Central Government") == ()  # no "nt" inside a word
    assert matched_terms(["NT"], "in NT$ thousand") == ("NT",)
    assert matched_terms(["AI"], "生成式AI應用") == ("AI",)  # CJK next to a Latin term is a boundary


class _DepthRecorder:
    """The real index, noting how deep each search asks the stores to look."""

    def __init__(self, index) -> None:
        self.index = index
        self.depths: list[int] = []

    def candidates(self, vector, tokens, depth, flt=None):
        self.depths.append(depth)
        return self.index.candidates(vector, tokens, depth, flt)


@pytest.mark.parametrize("k", [0, -1, -50])
def test_k_below_one_is_refused(fixture_pipeline: Pipeline, k: int) -> None:
    # A negative k used to return every candidate, and 0 silently meant the default.
    with pytest.raises(QAError, match="at least 1"):
        fixture_pipeline.search("發電", k=k, mode="bm25")


def test_configured_k_below_one_is_refused(fixture_pipeline: Pipeline) -> None:
    retriever = Retriever(fixture_pipeline.index, None, RetrievalConfig(k=-1))
    with pytest.raises(QAError, match="at least 1"):
        retriever.search("發電", mode="bm25")


def test_huge_k_is_capped(fixture_pipeline: Pipeline) -> None:
    from qa.retrieval import MAX_K

    recorder = _DepthRecorder(fixture_pipeline.index)
    retriever = Retriever(recorder, None, fixture_pipeline.config.retrieval)  # type: ignore[arg-type]
    hits = retriever.search("發電", k=10**9, mode="bm25")
    assert hits and recorder.depths == [3 * MAX_K]
    assert len(hits) == len(retriever.search("發電", k=MAX_K, mode="bm25"))


def test_unknown_fusion_in_a_config_made_in_code_is_refused(fixture_pipeline: Pipeline) -> None:
    # Config.load refuses it too (tests/test_config.py); this is the library's own guard.
    config = RetrievalConfig(fusion="rff")
    retriever = Retriever(fixture_pipeline.index, fixture_pipeline.embedder, config)
    with pytest.raises(QAError, match="fusion 'rff'"):
        retriever.search("發電")


def test_an_agency_named_in_english_finds_its_chinese_name(tmp_path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "agencies.txt").write_text(
        "示範機關年報\n\n一、退輔\n\n國軍退除役官兵輔導委員會 113 年度推動榮家無線網路建置。\n\n"
        "二、發展\n\n國家發展委員會 113 年度推動無線網路建置。\n\n"
        "三、大陸\n\n大陸委員會 113 年度推動無線網路建置。\n",
        encoding="utf-8",
    )
    config = make_config(tmp_path / "idx")
    ingest([reports], config, progress=False)
    pipe = Pipeline.open(config)
    try:
        # BM25 alone: no dictionary word of "veterans" stands in the Chinese name; the agency table does.
        hits = pipe.search("What did the Veterans Affairs Council build in 2024?", k=1, mode="bm25")
        # (every passage names a 委員會 and a 建置: only the agency's own name tells them apart)
        assert hits and "國軍退除役官兵輔導委員會" in hits[0].chunk.text
    finally:
        pipe.close()
