"""The native provider's configuration: the `hf-endpoints:*` stack settings of the default
provider, or the arguments of an explicit `hf-endpoints:Provider` resource (one per account or
API URL), mapped onto the settings the core reads (`huggingface:*` in the dynamic provider)."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from .. import settings

PACKAGE = "hf-endpoints"
KEYS: dict[str, str] = {
    "token": settings.TOKEN,
    "apiUrl": settings.API_URL,
    "namespace": settings.NAMESPACE,
    "requestTimeout": settings.REQUEST_TIMEOUT,
    "maxRetries": settings.MAX_RETRIES,
}
"""The provider's arguments (schema.json's `config.variables` and `provider`), and the setting
each one is."""
IGNORED = ("version", "hostWorkers", "pluginDownloadURL")
"""Arguments the engine or the dynamic provider use, which mean nothing here."""
TOKEN_KEY = f"{PACKAGE}:token"


def _text(value: Any) -> Any:
    """Settings are read as text (stack config is text); a whole float is a whole number."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def as_settings(args: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments as the core's settings, by full key (`huggingface:token`...)."""
    return {KEYS[key]: _text(value) for key, value in args.items() if key in KEYS}


def _renamed(message: str) -> str:
    return message.replace("huggingface:", f"{PACKAGE}:")


def check(args: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(argument, reason) for each argument the provider cannot use: a name it does not know
    (with the closest one), a number out of range. No request is made."""
    failures: list[tuple[str, str]] = []
    for key in args:
        if key in KEYS or key in IGNORED or key.startswith("__"):
            continue
        close = difflib.get_close_matches(key, list(KEYS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        failures.append(
            (
                key,
                f"{PACKAGE}:{key} is no setting of this provider{hint} (it has: {', '.join(KEYS)})",
            )
        )
    values = as_settings(args)
    for key, setting in KEYS.items():
        if setting not in settings.CLIENT or key not in args:
            continue
        try:
            settings.client_settings({setting: values.get(setting)})
        except settings.SettingError as exc:
            failures.append((key, _renamed(str(exc))))
    return failures
