"""Reading recordings: every non-blank line once, whatever the line endings and however the
file falls into blocks, compressed or not."""

from __future__ import annotations

import gzip

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from walkout.recording import iter_lines

LINE = st.binary(min_size=0, max_size=12).map(lambda b: b.replace(b"\n", b"").replace(b"\r", b""))
ENDING = st.sampled_from([b"\n", b"\r\n", b"\r"])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(LINE | st.sampled_from([b"", b" ", b"\t "]), ENDING), max_size=30),
    st.booleans(),
    st.booleans(),
    st.integers(1, 16),
)
def test_every_line_once_whatever_the_endings_and_blocks(
    tmp_path_factory: pytest.TempPathFactory,
    lines: list[tuple[bytes, bytes]],
    last_ended: bool,
    compressed: bool,
    block: int,
) -> None:
    data = b"".join(line + end for line, end in lines)
    if lines and not last_ended:
        data = data[: -len(lines[-1][1])]
    path = tmp_path_factory.mktemp("rec") / ("r.jsonl.gz" if compressed else "r.jsonl")
    path.write_bytes(gzip.compress(data) if compressed else data)
    expected = [line for line, _ in lines if line.strip()]
    assert list(iter_lines(path, block=block)) == expected
