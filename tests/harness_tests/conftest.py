"""Fixtures: one configured host per module (starting one costs about a second)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pulumi.dynamic.dynamic import serialize_provider

from tests.harness import Engine, ProviderHost
from tests.harness.echo_provider import EchoProvider

PROJECT = "proj"
TOKEN = "tok-harness-0123456789"


def urn(name: str) -> str:
    return f"urn:pulumi:stack::{PROJECT}::pulumi-python:dynamic/harness:Echo::{name}"


@pytest.fixture(scope="session")
def blob() -> str:
    return str(serialize_provider(EchoProvider()))


@pytest.fixture(scope="module")
def host() -> Iterator[ProviderHost]:
    with ProviderHost(project=PROJECT, rpc_timeout=30) as h:
        h.configure({f"{PROJECT}:token": TOKEN}, secret_keys=[f"{PROJECT}:token"])
        yield h


@pytest.fixture
def engine(host: ProviderHost) -> Engine:
    return Engine(host)
