"""The report's bar charts keep every label inside the chart (user_sessions' long labels were cut
off on the left: they are right-aligned against the bars, with a fixed 260 px budget)."""

from __future__ import annotations

import re

from athena_local import report

SESSION_LABELS = [f"u{n:06d}-b5122df8 / s1f93bb9d263f9b{n:02d}" for n in range(20)]


def _label_boxes(svg: str) -> list[tuple[float, str]]:
    """(right edge x, text) of every right-anchored label."""
    return [
        (float(x), text)
        for x, text in re.findall(r'<text x="([\d.]+)" y="[\d.]+" text-anchor="end">([^<]*)', svg)
    ]


def test_long_labels_fit_left_of_the_bars() -> None:
    svg = report.bar_chart_svg(SESSION_LABELS, list(range(20, 0, -1)), "#000")
    boxes = _label_boxes(svg)
    assert len(boxes) == 20
    for right, text in boxes:
        assert text in SESSION_LABELS  # shown whole
        assert right - len(text) * report.CHAR_WIDTH >= 0, (right, text)
    bars = [float(x) for x in re.findall(r'<rect x="([\d.]+)"', svg)]
    assert all(x > right for x in bars for right, _ in boxes)


def test_very_long_labels_are_shortened_and_the_chart_grows_to_hold_them() -> None:
    label = "x" * 200
    svg = report.bar_chart_svg([label, "short"], [2.0, 1.0], "#000")
    (right, shown), _ = _label_boxes(svg)
    assert shown.endswith("…") and len(shown) < len(label)
    assert right - len(shown) * report.CHAR_WIDTH >= 0
    assert f"<title>{label}</title>" in svg  # full text in the tooltip
    width = float(re.search(r'<svg[^>]* width="(\d+)"', svg).group(1))
    values_end = max(float(x) for x in re.findall(r'<text x="([\d.]+)" y="[\d.]+">', svg))
    assert values_end + 60 <= width  # room for the value printed after the longest bar


def test_short_labels_keep_a_narrow_label_column() -> None:
    svg = report.bar_chart_svg(["US", "IN"], [2.0, 1.0], "#000")
    (right, _), _ = _label_boxes(svg)
    assert right <= report.MIN_LABEL_WIDTH
