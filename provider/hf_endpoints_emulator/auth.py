"""Who a request is: bearer tokens map to users and the namespaces (user + orgs) they may use."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Mapping

from .config import User
from .errors import ApiError

UNAUTHORIZED = "A valid user or organization token, sent as a Bearer, is required"


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, if any."""
    value = headers.get("authorization")
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


class Accounts:
    """The users the emulator knows, looked up by token."""

    def __init__(self, users: Iterable[User]) -> None:
        self._by_token: dict[str, User] = {}
        for user in users:
            self._by_token[user.token] = user
        self.users = tuple(self._by_token.values())

    def find(self, token: str | None) -> User | None:
        return None if token is None else self._by_token.get(token)

    def rotate(self, name: str, token: str) -> User:
        """Give user `name` a new token; the old one is refused from now on (as when a token is
        revoked on the Hub and a new one issued)."""
        user = next((u for u in self._by_token.values() if u.name == name), None)
        if user is None:
            raise ApiError(404, f"User '{name}' not found")
        if token in self._by_token:
            raise ApiError(400, "That token is already in use")
        rotated = dataclasses.replace(user, token=token)
        self._by_token = {t: u for t, u in self._by_token.items() if u.name != name} | {
            token: rotated
        }
        self.users = tuple(self._by_token.values())
        return rotated

    def authenticate(self, headers: Mapping[str, str]) -> User:
        """The caller, or 401."""
        user = self.find(bearer_token(headers))
        if user is None:
            raise ApiError(401, UNAUTHORIZED)
        return user


def check_namespace(user: User, namespace: str) -> None:
    """403 unless `user` may act in `namespace` (its own name or one of its organisations)."""
    if namespace not in user.namespaces:
        raise ApiError(403, f"Forbidden: user '{user.name}' cannot access namespace '{namespace}'")


def user_id(name: str) -> str:
    """A stable 24-hex id per user name, shaped like the Hub's ids."""
    return hashlib.sha256(name.encode()).hexdigest()[:24]
