"""Hugging Face token discovery, in the order huggingface_hub uses, so one login serves both."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.replace("\r", "").replace("\n", "").strip()
    return value or None


def token_path(environ: Mapping[str, str] | None = None) -> Path:
    """Where huggingface_hub stores the token written by `hf auth login`."""
    env = os.environ if environ is None else environ
    explicit = env.get("HF_TOKEN_PATH")
    if explicit:
        return Path(explicit).expanduser()
    hf_home = env.get("HF_HOME")
    if hf_home:
        return Path(hf_home).expanduser() / "token"
    xdg = env.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "huggingface" / "token"


def find_token(
    explicit: str | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    explicit_source: str = "the token given explicitly",
) -> tuple[str | None, str | None]:
    """The first token found (explicit, HF_TOKEN, HUGGING_FACE_HUB_TOKEN, then the token file)
    and where it came from, for messages that must say so without showing the token.

    An empty value counts as absent, as in huggingface_hub.
    """
    token = _clean(explicit)
    if token:
        return token, explicit_source
    env = os.environ if environ is None else environ
    for var in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        token = _clean(env.get(var))
        if token:
            return token, f"the {var} environment variable"
    path = token_path(env)
    try:
        token = _clean(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return None, None
    return (token, f"the token file {path}") if token else (None, None)


def get_token(explicit: str | None = None, environ: Mapping[str, str] | None = None) -> str | None:
    """The first token found: explicit, HF_TOKEN, HUGGING_FACE_HUB_TOKEN, then the token file."""
    return find_token(explicit, environ)[0]
