"""The threshold rule shared by the learning scripts (evaluation/thresholds.py)."""

from __future__ import annotations

from evaluation.thresholds import gainful_threshold


def test_the_cut_keeps_most_right_less_wrong_and_sits_midway() -> None:
    seen = [(9.0, True), (8.0, True), (7.5, False), (7.0, True), (6.0, False), (5.0, False)]
    found = gainful_threshold(seen)
    assert found is not None
    # At >= 8.0: two right; at >= 7.0: three right, one wrong (gain 2, tied; the higher cut wins).
    assert (found.cut, found.gain, found.lower) == (8.0, 2, 7.5)
    assert found.value == 7.75


def test_no_threshold_when_every_cut_loses() -> None:
    assert gainful_threshold([(3.0, False), (2.0, True), (1.0, False)]) is None
    assert gainful_threshold([]) is None


def test_the_learning_scripts_read_the_tune_tables_and_print_the_constant(tmp_path, capsys) -> None:
    import json

    from evaluation.thresholds import print_threshold, tune_table_questions

    rows = [
        {"id": "a", "type": "table", "split": "tune"},
        {"id": "b", "type": "table", "split": "check"},  # never learned on
        {"id": "c", "type": "number", "split": "tune"},
    ]
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    assert [q["id"] for q in tune_table_questions(path)] == ["a"]
    print_threshold([(0.9, True), (0.8, True), (0.5, False)], "ROW_COVERAGE", "1.0", 3)
    assert capsys.readouterr().out.splitlines()[-1] == "ROW_COVERAGE = 0.65"
    print_threshold([(0.9, False)], "ROW_COVERAGE", "1.0", 3)
    assert capsys.readouterr().out.strip() == "no threshold gains: ROW_COVERAGE = 1.0"
