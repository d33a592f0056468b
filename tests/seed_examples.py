"""The two endpoints of the huggingface_hub Inference Endpoints guide, as Pulumi properties
(the guide's arguments verbatim, camelCased the way Pulumi state names them)."""

from __future__ import annotations

from typing import Any

GPT2: dict[str, Any] = {
    "repository": "gpt2",
    "framework": "pytorch",
    "task": "text-generation",
    "accelerator": "cpu",
    "vendor": "aws",
    "region": "us-east-1",
    "type": "protected",
    "instanceSize": "x2",
    "instanceType": "intel-spr",
}

ZEPHYR: dict[str, Any] = {
    "repository": "HuggingFaceH4/zephyr-7b-beta",
    "framework": "pytorch",
    "task": "text-generation",
    "accelerator": "gpu",
    "vendor": "aws",
    "region": "us-east-1",
    "type": "protected",
    "instanceSize": "x1",
    "instanceType": "nvidia-a10g",
    "customImage": {
        "health_route": "/health",
        "env": {
            "MAX_BATCH_PREFILL_TOKENS": "2048",
            "MAX_INPUT_LENGTH": "1024",
            "MAX_TOTAL_TOKENS": "1512",
            "MODEL_ID": "/repository",
        },
        "url": "ghcr.io/huggingface/text-generation-inference:1.1.0",
    },
}
