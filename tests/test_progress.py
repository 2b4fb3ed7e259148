"""Progress: plain periodic lines in a log (no carriage returns), silent when disabled."""

from __future__ import annotations

import io

from lnn_control.progress import Progress


def test_log_output_is_plain_lines_at_an_interval_and_at_the_end() -> None:
    out = io.StringIO()
    with Progress(5, "evaluate", "episode", stream=out, interval_s=3600.0) as bar:
        for _ in range(5):
            bar.update()
    text = out.getvalue()
    assert "\r" not in text
    lines = text.splitlines()
    assert len(lines) == 1  # only the final line: the interval never passed
    assert lines[0].startswith("[evaluate] 5/5 episode (100%)")
    assert "ETA 0 s" in lines[0]


def test_every_update_prints_with_a_zero_interval_and_nothing_when_disabled() -> None:
    out = io.StringIO()
    bar = Progress(3, "stress", "cell", stream=out, interval_s=0.0)
    bar.update()
    bar.write("note")
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("[stress] 1/3 cell (33%)")
    assert lines[1] == "note"
    quiet = io.StringIO()
    silent = Progress(3, "stress", "cell", stream=quiet, enabled=False)
    silent.update(3)
    silent.write("note")
    assert quiet.getvalue() == ""
