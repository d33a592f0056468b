"""The text-generation-inference (TGI) serving layer of the emulator.

Each running endpoint's URL speaks TGI's HTTP protocol (`/`, `/generate`, `/generate_stream`,
`/v1/chat/completions`, `/v1/completions`, `/tokenize`, `/info`, `/metrics`, ...), backed by
llama.cpp running a real small model, or by the synthetic token source used for protocol
benchmarks. The control plane's proxy calls `ServingLayer.handle` for running endpoints only.
"""

from __future__ import annotations

from ..serving_protocol import ServingLayer
from .layer import TgiServingLayer
from .options import ServingOptions


def create_serving_layer(config: object | None = None) -> ServingLayer:
    """Build the serving layer from the emulator's config (see `ServingOptions.from_config`)."""
    return TgiServingLayer(ServingOptions.from_config(config))


__all__ = ["ServingOptions", "TgiServingLayer", "create_serving_layer"]
