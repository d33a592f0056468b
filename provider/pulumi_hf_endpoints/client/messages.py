"""What a service said when a call failed, as one line without secrets.

Shared by the control-plane client and the generation helpers: an error message travels far
(logs, tracebacks, Pulumi diagnostics), so everything in one has been through `redact` first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REDACTED = "***"
MAX_MESSAGE_CHARS = 300

# Hugging Face tokens look like `hf_` + ~34 alphanumerics; scrub any that a server echoes back,
# even when it is not the token we sent.
_HF_TOKEN_RE = re.compile(r"\bhf_[A-Za-z0-9]{8,}")
_BEARER_RE = re.compile(r"(?i)\b(bearer)\s+[^\s\"',;]+")
_TITLE_RE = re.compile(r"(?is)<title[^>]*>(.*?)</title>")
_H1_RE = re.compile(r"(?is)<h1[^>]*>(.*?)</h1>")
_TAG_RE = re.compile(r"(?s)<[^>]+>")
_CODE_RE = re.compile(r"^[A-Z][A-Z0-9_]+$")
_REQUEST_ID_HEADERS = ("x-request-id", "x-amzn-trace-id", "x-amz-cf-id")


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Remove secrets from ``text``: the given values, ``hf_...`` tokens and bearer credentials."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    text = _HF_TOKEN_RE.sub(REDACTED, text)
    return _BEARER_RE.sub(lambda m: f"{m.group(1)} {REDACTED}", text)


def redact_url(url: str, secrets: Iterable[str | None] = ()) -> str:
    """``url`` without user-info (``https://user:pass@host``) and without secrets."""
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return redact(url, secrets)


def one_line(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """Collapse whitespace and cut to ``limit`` characters, so messages stay one line."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def _lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {key.lower(): value for key, value in headers.items()}


def extract_request_id(headers: Mapping[str, str]) -> str | None:
    """The request id the service or its CDN attached, in huggingface_hub's order of preference."""
    lowered = _lower_headers(headers)
    for name in _REQUEST_ID_HEADERS:
        value = lowered.get(name, "").strip()
        if value:
            return value
    return None


def looks_like_html(body: str, content_type: str | None = None) -> bool:
    if content_type and "html" in content_type.lower():
        return True
    head = body.lstrip()[:200].lower()
    return head.startswith(("<!doctype html", "<html")) or "<body" in head


def summarize_html(body: str) -> str:
    """A proxy's error page is noise; keep only its title (or first heading)."""
    for pattern in (_TITLE_RE, _H1_RE):
        match = pattern.search(body)
        if match:
            title = one_line(_TAG_RE.sub(" ", match.group(1)), 120)
            if title:
                return f"HTML page: {title}"
    return f"HTML page ({len(body)} characters)"


def _texts(value: Any) -> list[str]:
    """Strings found in an error field that may be a string, a list, or an object."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        found: list[str] = []
        for item in value:
            found.extend(_texts(item))
        return found
    if isinstance(value, dict):
        for key in ("message", "msg", "error"):
            if isinstance(value.get(key), str):
                loc = value.get("loc")
                if isinstance(loc, list) and loc:
                    # FastAPI validation item: {"loc": ["body", "name"], "msg": "..."}
                    return [f"{'.'.join(str(p) for p in loc)}: {value[key]}"]
                return [str(value[key])]
    return []


def _messages_from_json(data: Any) -> list[str]:
    if isinstance(data, str):
        return [data]
    if not isinstance(data, dict):
        return []
    errors = _texts(data.get("error"))
    message = data.get("message")
    if len(errors) == 1 and _CODE_RE.match(errors[0]) and isinstance(message, str):
        # {"error": "VALIDATION_FAILED", "message": "model.image.vLLM: missing field `url`"}
        errors = [f"{errors[0]}: {message}"]
        message = None
    found = errors
    found += _texts(data.get("error_description"))
    found += _texts(message)
    found += _texts(data.get("errors"))
    found += _texts(data.get("detail"))  # FastAPI's default error shape
    return found


def extract_server_message(
    headers: Mapping[str, str],
    body: str,
    content_type: str | None = None,
    secrets: Iterable[str | None] = (),
) -> str | None:
    """What the server said about the failure, as one line, or ``None``.

    Sources, as huggingface_hub reads them: the ``X-Error-Message`` header, then the JSON body's
    ``error`` (string or list), ``error_description`` and ``errors[].message``; this client also
    reads ``message`` and FastAPI's ``detail``. A body that is not JSON is used as text, except
    HTML pages, which are reduced to their title. ``secrets`` are removed before any cut.
    """
    parts: list[str] = []
    header = _lower_headers(headers).get("x-error-message", "").strip()
    if header:
        parts.append(header)
    stripped = body.strip()
    if stripped:
        try:
            data = json.loads(stripped)
        except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
            data = None
            parts.append(
                summarize_html(stripped) if looks_like_html(stripped, content_type) else stripped
            )
        else:
            parts.extend(_messages_from_json(data))
    secrets = tuple(secrets)
    unique: list[str] = []
    for part in parts:
        cleaned = one_line(redact(part, secrets))  # redact first: a cut must not split a secret
        if cleaned and cleaned not in unique:
            unique.append(cleaned)
    return redact(one_line("; ".join(unique)), secrets) if unique else None


def describe_status(status_code: int) -> str:
    """``"404 Not Found"``; only the number when the code is not a known one."""
    try:
        return f"{status_code} {HTTPStatus(status_code).phrase}"
    except ValueError:
        return str(status_code)
