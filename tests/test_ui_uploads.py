"""Checks on reports uploaded from the browser: name, type by content, size, and where they are stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from ui.uploads import UploadRejected, check_upload, safe_name, store_upload

MB = 1_000_000


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("name", ["../x.pdf", "a/b.pdf", "C:\\\\reports\\\\x.pdf", "..", "x\x00.pdf"])
def test_a_name_with_a_path_is_refused(name: str) -> None:
    with pytest.raises(UploadRejected) as caught:
        safe_name(name)
    assert caught.value.key == "upload.path_in_name"


def test_safe_name_keeps_chinese_and_drops_shell_characters() -> None:
    assert safe_name("113年度 績效報告.PDF") == "113年度 績效報告.pdf"
    assert safe_name("a;rm -rf $HOME`.txt") == "a_rm -rf _HOME_.txt"
    assert len(safe_name("長" * 300 + ".md")) <= 114


def test_type_is_checked_by_content_and_size_is_capped(tmp_path: Path) -> None:
    pdf = _file(tmp_path, "r.pdf", b"%PDF-1.7\n" + b"0" * 100)
    assert check_upload("r.pdf", pdf, MB) == "r.pdf"
    text = _file(tmp_path, "r.txt", "臺灣報告".encode())
    assert check_upload("r.md", text, MB) == "r.md"
    cases = [
        ("png.pdf", b"\x89PNG\r\n\x1a\n0000", "upload.not_what_it_says"),
        ("bin.txt", b"\xff\xfe\x00\x01\x02", "upload.not_what_it_says"),
        ("nul.txt", b"abc\x00def", "upload.not_what_it_says"),
        ("tool.exe", b"MZ0000", "upload.wrong_type"),
        ("noext", b"abc", "upload.wrong_type"),
        ("empty.txt", b"", "upload.empty"),
        ("big.txt", b"a" * (MB + 1), "upload.too_big"),
    ]
    for name, data, key in cases:
        with pytest.raises(UploadRejected) as caught:
            check_upload(name, _file(tmp_path, "data", data), MB)
        assert caught.value.key == key, name


def test_stored_under_the_index_never_over_an_existing_report(tmp_path: Path) -> None:
    data = _file(tmp_path, "in.txt", b"hello")
    first = store_upload(data, tmp_path / "index", "r.txt")
    second = store_upload(data, tmp_path / "index", "r.txt")
    assert first == tmp_path / "index" / "uploads" / "r.txt"
    assert second == tmp_path / "index" / "uploads" / "r-2.txt"
    assert first.read_bytes() == second.read_bytes() == b"hello"
