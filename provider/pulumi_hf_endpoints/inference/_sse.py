"""Incremental server-sent-events decoder working on raw bytes.

Why bytes: ``json.loads`` takes bytes, so decoding every chunk to text and splitting it into
``str`` lines (what ``httpx.Response.iter_lines`` does) is work thrown away. TGI sends one
``data:`` line per event, so the common case is one split and one slice per event; everything
else the SSE specification allows (comments, ``\\r\\n`` line ends, multi-line data, other
fields) takes the general path.
"""

from __future__ import annotations

__all__ = ["DONE", "SSEDecoder"]

#: Payload that ends OpenAI-style streams (chat and completions routes).
DONE = b"[DONE]"


class SSEDecoder:
    """Feed it chunks as they arrive; it returns the ``data`` payload of each complete event.

    Accepts ``data:`` with or without the space after the colon (TGI ≤2.0 sent none), skips
    ``:`` comments (keep-alives) and blank lines, ignores ``event:``/``id:``/``retry:`` fields,
    and joins multi-line data with ``\\n`` as the specification says.
    """

    __slots__ = ("_buffer", "_pending_cr")

    def __init__(self) -> None:
        self._buffer = b""
        self._pending_cr = False

    def feed(self, chunk: bytes) -> list[bytes]:
        """The payloads of the events completed by ``chunk``, in order."""
        if self._pending_cr:
            chunk = b"\r" + chunk
            self._pending_cr = False
        if b"\r" in chunk:
            if chunk.endswith(b"\r"):
                # Could be the first half of a "\r\n" split across chunks.
                chunk = chunk[:-1]
                self._pending_cr = True
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        buffer = self._buffer + chunk if self._buffer else chunk
        blocks = buffer.split(b"\n\n")
        self._buffer = blocks.pop()
        payloads: list[bytes] = []
        for block in blocks:
            if block[:5] == b"data:" and b"\n" not in block:
                payloads.append(block[6:] if block[5:6] == b" " else block[5:])
            elif block:
                _parse_block(block, payloads)
        return payloads

    def flush(self) -> list[bytes]:
        """Payloads of an event left unterminated when the stream ended (lenient: the
        specification drops it, but a server that closes right after its last line meant it)."""
        buffer, self._buffer = self._buffer, b""
        self._pending_cr = False
        payloads: list[bytes] = []
        if buffer:
            _parse_block(buffer, payloads)
        return payloads


def _parse_block(block: bytes, payloads: list[bytes]) -> None:
    """General path: one or more lines, dispatching at blank lines and at the end."""
    data: list[bytes] = []
    for line in block.split(b"\n"):
        if not line:
            if data:
                payloads.append(b"\n".join(data))
                data = []
        elif line[:5] == b"data:":
            data.append(line[6:] if line[5:6] == b" " else line[5:])
        elif line == b"data":  # a field name alone means an empty value
            data.append(b"")
        # ":" comments and other fields (event, id, retry) carry nothing for us.
    if data:
        payloads.append(b"\n".join(data))
