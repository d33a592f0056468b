"""The SSE decoder: every framing TGI versions and proxies produce, split anywhere."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from pulumi_hf_endpoints.inference._sse import SSEDecoder


def decode(*chunks: bytes) -> list[bytes]:
    decoder = SSEDecoder()
    out: list[bytes] = []
    for chunk in chunks:
        out += decoder.feed(chunk)
    return out + decoder.flush()


def test_space_after_colon_is_optional() -> None:
    assert decode(b'data: {"a":1}\n\ndata:{"b":2}\n\n') == [b'{"a":1}', b'{"b":2}']


def test_only_one_leading_space_is_removed() -> None:
    assert decode(b"data:  x\n\n") == [b" x"]


def test_comments_and_blank_lines_are_skipped() -> None:
    stream = b':\n\n\n\ndata: {"a":1}\n\n: keep-alive\n\n\ndata: [DONE]\n\n'
    assert decode(stream) == [b'{"a":1}', b"[DONE]"]


def test_crlf_and_cr_line_ends() -> None:
    assert decode(b"data: a\r\n\r\ndata: b\r\rdata: c\n\n") == [b"a", b"b", b"c"]


def test_crlf_split_between_chunks() -> None:
    assert decode(b"data: a\r", b"\n\r", b"\ndata: b\r\n\r\n") == [b"a", b"b"]


def test_multi_line_data_is_joined_and_other_fields_ignored() -> None:
    stream = b'event: message\nid: 7\nretry: 10\ndata: {"a":\ndata: 1}\n\n'
    (payload,) = decode(stream)
    assert payload == b'{"a":\n1}'
    assert json.loads(payload) == {"a": 1}


def test_event_without_terminator_is_flushed_at_end() -> None:
    assert decode(b'data: {"a":1}\n\ndata: {"b":2}') == [b'{"a":1}', b'{"b":2}']


def test_partial_event_waits_for_its_end() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b'data: {"a"') == []
    assert decoder.feed(b":1}\n") == []
    assert decoder.feed(b"\n") == [b'{"a":1}']


EVENTS = [json.dumps({"index": i, "token": {"text": f"t{i}\n"}}).encode() for i in range(6)]


@given(
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=12),
    crlf=st.booleans(),
    space=st.booleans(),
    comments=st.booleans(),
)
def test_any_chunking_gives_the_same_events(
    cuts: list[int], crlf: bool, space: bool, comments: bool
) -> None:
    nl = b"\r\n" if crlf else b"\n"
    prefix = b"data: " if space else b"data:"
    parts = []
    for event in EVENTS:
        if comments:
            parts.append(b":" + nl + nl)
        parts.append(prefix + event + nl + nl)
    stream = b"".join(parts)
    points = sorted({c % (len(stream) + 1) for c in cuts})
    chunks = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]
    assert decode(*chunks) == EVENTS
