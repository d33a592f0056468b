"""Which token the client sends: explicit > HF_TOKEN > HUGGING_FACE_HUB_TOKEN > HF_TOKEN_PATH >
$HF_HOME/token > $XDG_CACHE_HOME/huggingface/token > ~/.cache/huggingface/token."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from pulumi_hf_endpoints.client.api import EndpointsApi
from tests.api.api_testkit import Script, reply


def sent_token(script: Script, explicit: str | None = None) -> str | None:
    """Make one call and return the bearer token it carried."""
    script.replies = [reply(200, {"name": "alice"})]
    with EndpointsApi(explicit, transport=httpx.MockTransport(script)) as api:
        api.whoami()
    header = script.requests[-1].headers.get("authorization")
    return header.removeprefix("Bearer ") if header else None


def write(path: Path, token: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"  {token}\r\n", encoding="utf-8")


@pytest.fixture
def every_source(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Set every source at once, each with a different token; tests then peel them off."""
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    write(home / ".cache" / "huggingface" / "token", "from-home-cache")
    write(tmp_path / "xdg" / "huggingface" / "token", "from-xdg")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    write(tmp_path / "hf-home" / "token", "from-hf-home")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    write(tmp_path / "custom-token", "from-token-path")
    monkeypatch.setenv("HF_TOKEN_PATH", str(tmp_path / "custom-token"))
    monkeypatch.setenv("HUGGING_FACE_HUB_TOKEN", "from-legacy-env")
    monkeypatch.setenv("HF_TOKEN", "from-hf-token")
    return tmp_path


def test_discovery_order(
    every_source: Path, monkeypatch: pytest.MonkeyPatch, script: Script
) -> None:
    assert sent_token(script, "explicit") == "explicit"
    assert sent_token(script) == "from-hf-token"
    monkeypatch.delenv("HF_TOKEN")
    assert sent_token(script) == "from-legacy-env"
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN")
    assert sent_token(script) == "from-token-path"
    monkeypatch.delenv("HF_TOKEN_PATH")
    assert sent_token(script) == "from-hf-home"
    monkeypatch.delenv("HF_HOME")
    assert sent_token(script) == "from-xdg"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert sent_token(script) == "from-home-cache"
    (every_source / "home" / ".cache" / "huggingface" / "token").unlink()
    assert sent_token(script) is None


def test_empty_values_count_as_absent(
    every_source: Path, monkeypatch: pytest.MonkeyPatch, script: Script
) -> None:
    monkeypatch.setenv("HF_TOKEN", " \n")
    assert sent_token(script, "") == "from-legacy-env"
    monkeypatch.setenv("HUGGING_FACE_HUB_TOKEN", "")
    write(every_source / "custom-token", "\n")
    # An empty token file is "no token": huggingface_hub does not fall through to the next file.
    assert sent_token(script) is None


def test_token_files_are_read_when_the_client_is_made(
    every_source: Path, monkeypatch: pytest.MonkeyPatch, script: Script
) -> None:
    monkeypatch.delenv("HF_TOKEN")
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN")
    api = EndpointsApi(transport=httpx.MockTransport(script))
    write(every_source / "custom-token", "changed-later")
    script.replies = [reply(200, {"name": "a"})]
    api.whoami()
    api.close()
    assert script.requests[0].headers["authorization"] == "Bearer from-token-path"
