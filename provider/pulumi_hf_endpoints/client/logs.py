"""An endpoint's logs: the query of a range, and a followed log read as server-sent events.

The service's OpenAPI document (2023) describes ``GET /v2/endpoint/{namespace}/{name}/logs``
with ``from``, ``to`` (int64 timestamps) and ``tail`` (at most this many lines), answering
``text/plain``. It gives no unit for the timestamps; the service's metrics routes take Unix
seconds, and so does this client (an assumption, docs/service-api.md). A Go client of the
service also sends ``replica`` (one replica's lines) and calls ``.../logs/sse``; the format of
its events is not documented: each event's data is read here as log text, one line per text
line.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Iterable, Iterator
from datetime import datetime, timezone
from types import TracebackType

import httpx

from .http import Http

Moment = datetime | float | int
"""A point in time: an aware ``datetime`` (a naive one is taken as UTC), or Unix seconds."""


def _seconds(value: Moment, what: str) -> float:
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
        seconds = moment.timestamp()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        raise TypeError(f"{what} must be a datetime or Unix seconds, got {type(value).__name__}")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"{what} must be a time after 1970, got {value!r}")
    return seconds


def log_params(
    *,
    tail: int | None = None,
    since: Moment | None = None,
    until: Moment | None = None,
    replica: str | None = None,
) -> dict[str, str]:
    """The query of a log request. The service takes whole seconds: ``since`` is rounded down
    and ``until`` up, so that the range asked for is covered. ``replica``: one replica's lines,
    named as the lines name it (``6pajyw3k-z7ghx``)."""
    params: dict[str, str] = {}
    if replica is not None:
        if not isinstance(replica, str) or not replica.strip():
            raise ValueError(
                f"replica must be a replica id such as 6pajyw3k-z7ghx, got {replica!r}"
            )
        params["replica"] = replica.strip()
    if tail is not None:
        if isinstance(tail, bool) or not isinstance(tail, int) or tail < 0:
            raise ValueError(f"tail must be a whole number >= 0, got {tail!r}")
        params["tail"] = str(tail)
    if since is not None:
        params["from"] = str(math.floor(_seconds(since, "since")))
    if until is not None:
        params["to"] = str(math.ceil(_seconds(until, "until")))
    return params


def event_data(lines: Iterable[str]) -> Iterator[str]:
    """The data of each server-sent event in ``lines`` (the HTML standard's rules: ``data``
    fields joined by newlines, comments and other fields skipped). An event cut off by the end
    of the stream is still given: a log line is worth more than the rule."""
    data: list[str] = []
    for line in lines:
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if field == "data":
            data.append(value[1:] if value.startswith(" ") else value)
    if data:
        yield "\n".join(data)


class LogStream:
    """The lines of a followed log as they are written, each redacted like every message of
    this client. Iterate once; the iteration ends when the service ends the stream (the
    endpoint was deleted). ``close()`` (or leaving a ``with`` block) ends the connection.

    The request is sent when the iteration starts, so its errors are raised from the first
    ``next()``; a stream that breaks after it started raises ``ApiConnectionError`` (or
    ``ApiTimeoutError``) and is never sent again.
    """

    def __init__(self, http: Http, url: str, params: dict[str, str]) -> None:
        self._http = http
        self._url = url
        self._params = params
        self._lines: Generator[str, None, None] | None = None

    def _read(self) -> Generator[str, None, None]:
        with self._http.stream(self._url, params=self._params or None) as response:
            try:
                for data in event_data(response.iter_lines()):
                    for line in data.splitlines() or [""]:
                        yield self._http.redact(line)
            except httpx.TransportError as exc:
                raise self._http.broken_stream(exc, self._url) from None

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        if self._lines is None:
            self._lines = self._read()
        return next(self._lines)

    def close(self) -> None:
        """End the connection (closing the reader runs its ``with``, which closes the answer)."""
        if self._lines is not None:
            self._lines.close()

    def __enter__(self) -> LogStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
