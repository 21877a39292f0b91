"""Matching text, script conversion and detection, jieba segmentation in both scripts."""

from __future__ import annotations

import subprocess
import sys

import pytest

from corpus import detect_script, matching_text, segment, to_canonical_script, tokenize

HANT = "國家科學及技術委員會於113年辦理第12次全國科學技術會議，預算總額達 1,517.4 億臺幣，涵蓋率達98.15%。"
HANS = "国家科学及技术委员会于113年办理第12次全国科学技术会议，预算总额达 1,517.4 亿台币，涵盖率达98.15%。"


def test_segment_traditional_offsets_and_terms() -> None:
    tokens = segment(HANT)
    words = [t.text for t in tokens]
    for token in tokens:
        assert HANT[token.start : token.end] == token.text
    # Agency names and numbers with units come out whole, in the original script.
    assert "國家科學及技術委員會" in words
    assert "1,517.4" in words and "億" in words and "98.15%" in words
    assert "臺幣" in words and "會議" in words


def test_traditional_segments_like_simplified() -> None:
    hant = [t.text for t in segment(HANT)]
    hans = [t.text for t in segment(HANS)]
    assert [to_canonical_script(w) for w in hant] == hans


def test_tokenize_is_script_independent() -> None:
    assert tokenize(HANT) == tokenize(HANS)
    assert tokenize("簡體問題：數位發展部") == tokenize("简体问题：数位发展部")


def test_tokenize_numbers_english_and_bigrams() -> None:
    tokens = tokenize("In 2024, Taiwan's NT$151.7 billion; coverage 98.15% of 1,517.4 units")
    assert {"taiwan's", "billion", "151.7", "98.15%", "1,517.4", "2024"} <= set(tokens)
    assert all(t == t.lower() for t in tokens)
    assert {"5g", "b5g", "2gbps"} <= set(tokenize("5G 與 B5G 低軌衛星、2Gbps 寬頻"))
    cjk = tokenize("智慧國家方案")
    assert "智慧" in cjk and "慧国" in cjk  # a jieba word and a cross-word bigram


def test_tokenize_uses_matching_text() -> None:
    assert tokenize("數位\n轉型") == tokenize("數位轉型")
    assert tokenize("２０２４年ＡＩ") == tokenize("2024年AI")


@pytest.mark.parametrize(
    ("raw", "matched"),
    [
        ("２０２４年ＡＩ應用", "2024年AI應用"),
        ("重大科\n研政策", "重大科研政策"),
        ("multi-\nstakeholder work", "multistakeholder work"),
        ("Net-Zero  Industry\t Act", "Net-Zero Industry Act"),
        ("總體 研發績效", "總體研發績效"),
        ("第一段。\n\n 第二段", "第一段。\n第二段"),
        ("並建立\n\n完整的機制", "並建立完整的機制"),
        ("AI\n models", "AI\nmodels"),
    ],
)
def test_matching_text(raw: str, matched: str) -> None:
    assert matching_text(raw) == matched


def test_canonical_script_is_length_preserving() -> None:
    for text in (HANT, "乾燥的頭髮與後臺系統", "English only", "臺灣 43,244 49,051"):
        converted = to_canonical_script(text)
        assert len(converted) == len(text)
    assert to_canonical_script("數位發展部") == "数位发展部"


@pytest.mark.parametrize(
    ("text", "script"),
    [
        (HANT, "zh-Hant"),
        (HANS, "zh-Hans"),
        ("The council funded 443 projects across 27 agencies.", "en"),
        ("國科會 National Science and Technology Council annual report", "mixed"),
        ("政府推動 AI 與 5G 應用", "zh-Hant"),
    ],
)
def test_detect_script(text: str, script: str) -> None:
    assert detect_script(text) == script


def test_jieba_is_quiet() -> None:
    code = "from corpus import segment; segment('國家科學及技術委員會')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0
    assert done.stderr == ""
