"""Where and as whom the control-plane client calls: URLs and the token, resolved once.

One setting (`huggingface:apiUrl`, or `HF_ENDPOINTS_API_URL`) points every call at another
server, such as the local emulator: the Hub's `whoami` then goes to that server too.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NoReturn
from urllib.parse import urlsplit, urlunsplit

from .messages import redact_url
from .tokens import find_token

DEFAULT_API_URL = "https://api.endpoints.huggingface.cloud/v2"
DEFAULT_HUB_URL = "https://huggingface.co"
API_URL_ENV = "HF_ENDPOINTS_API_URL"
HUB_URL_ENV = "HF_ENDPOINT"  # huggingface_hub's variable: moves whoami with the Hub


def _env(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def _normalize_url(url: str, what: str) -> str:
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{what} must be an http(s) URL, got {redact_url(url)!r}")
    if parts.username is not None or parts.password is not None:
        # httpx would log it with every request; the token is the one credential.
        raise ValueError(f"{what} must not contain credentials, got {redact_url(url)!r}")
    return url


def _is_default_api(api_url: str) -> bool:
    return urlsplit(api_url).netloc == urlsplit(DEFAULT_API_URL).netloc


def _service_root(api_url: str) -> str:
    """``http://127.0.0.1:8000/v2`` -> ``http://127.0.0.1:8000``, where an emulator serves all."""
    parts = urlsplit(api_url)
    path = parts.path.rstrip("/")
    path = path[: -len("/v2")] if path.endswith("/v2") else ""
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def resolve_api_url(explicit: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """Control-plane base URL: the argument, else ``HF_ENDPOINTS_API_URL``, else the service.

    A server's root (``http://127.0.0.1:8765``, what the emulator prints first) means its
    ``/v2`` API: every control-plane route lives there.
    """
    value = explicit or _env(environ).get(API_URL_ENV) or DEFAULT_API_URL
    url = _normalize_url(value, "the Inference Endpoints API URL")
    return url + "/v2" if not urlsplit(url).path else url


def resolve_hub_url(
    explicit: str | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    api_url: str = DEFAULT_API_URL,
) -> str:
    """Hub base URL (for ``whoami``): the argument; else the API's server when it is not the
    real service (an emulator serves ``/api/whoami-v2`` itself); else ``HF_ENDPOINT`` like
    huggingface_hub; else https://huggingface.co."""
    if explicit:
        return _normalize_url(explicit, "the Hub URL")
    if not _is_default_api(api_url):
        return _service_root(api_url)
    return _normalize_url(_env(environ).get(HUB_URL_ENV) or DEFAULT_HUB_URL, "the Hub URL")


@dataclass(frozen=True)
class ApiConfig:
    """Where and as whom to call the service, resolved once from explicit values and environment.

    The provider builds one from its stack configuration (``huggingface:token``,
    ``huggingface:apiUrl``, ``huggingface:namespace``). It holds the token, so it refuses to be
    pickled: Pulumi pickles the provider into state, and a token must never land there.
    """

    token: str | None = field(default=None, repr=False)
    api_url: str = DEFAULT_API_URL
    hub_url: str = DEFAULT_HUB_URL
    namespace: str | None = None
    token_source: str | None = None
    """Where the token came from ("the HF_TOKEN environment variable"...), for messages."""

    @classmethod
    def resolve(
        cls,
        *,
        token: str | None = None,
        api_url: str | None = None,
        hub_url: str | None = None,
        namespace: str | None = None,
        environ: Mapping[str, str] | None = None,
        token_source: str = "the token given explicitly",
    ) -> ApiConfig:
        """Explicit values win; the rest comes from the environment (see the resolve_* helpers
        and :func:`pulumi_hf_endpoints.find_token` for the token's search order).
        `token_source` names where an explicit `token` came from."""
        resolved_api = resolve_api_url(api_url, environ)
        found, source = find_token(token, environ, explicit_source=token_source)
        return cls(
            token=found,
            token_source=source,
            api_url=resolved_api,
            hub_url=resolve_hub_url(hub_url, environ, api_url=resolved_api),
            namespace=(namespace or "").strip() or None,
        )

    def __reduce__(self) -> NoReturn:
        raise TypeError("ApiConfig holds a token and must not be pickled; resolve it when needed")
