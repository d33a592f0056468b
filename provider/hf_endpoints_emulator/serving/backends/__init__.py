"""Token sources behind the serving layer: llama.cpp (a real model) and a synthetic one."""

from __future__ import annotations

from .base import Backend, BackendUnavailable, ChatTemplateError, Sampling, Session, Step

__all__ = ["Backend", "BackendUnavailable", "ChatTemplateError", "Sampling", "Session", "Step"]
