"""A small Inference Catalog: curated models, each with tested recipes (hardware + engine).

`huggingface_hub` 2.x lists it (`list_inference_catalog`) and deploys a model's default recipe or
an exact recipe (`create_inference_endpoint_from_catalog`). Deploying builds an ordinary create
request, so catalog endpoints follow the same rules and lifecycle as any other.
"""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass
from typing import Any

from .errors import ApiError, bad_request


@dataclass(frozen=True)
class Recipe:
    public_id: str
    accelerator: str
    engine: str
    vendor: str
    region: str
    instance_type: str
    instance_size: str
    image: dict[str, Any]
    framework: str = "pytorch"
    gguf_file: str | None = None
    revision: str | None = None

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "publicId": self.public_id,
            "accelerator": self.accelerator,
            "engineType": self.engine,
        }
        if self.gguf_file is not None:
            doc["ggufFile"] = self.gguf_file
        if self.revision is not None:
            doc["revision"] = self.revision
        return doc


@dataclass(frozen=True)
class CatalogModel:
    repo_id: str
    license: str
    task: str
    created_at: str
    recipes: tuple[Recipe, ...]

    @property
    def author(self) -> str:
        return self.repo_id.split("/", 1)[0]

    @property
    def model_name(self) -> str:
        return self.repo_id.split("/", 1)[-1]

    def to_json(self, recipes: tuple[Recipe, ...] | None = None) -> dict[str, Any]:
        return {
            "repoId": self.repo_id,
            "modelName": self.model_name,
            "authorName": self.author,
            "license": self.license,
            "task": self.task,
            "createdAt": self.created_at,
            "recipes": [r.to_json() for r in (self.recipes if recipes is None else recipes)],
        }


def _llamacpp(gguf: str) -> dict[str, Any]:
    return {
        "llamacpp": {
            "url": "ghcr.io/ggml-org/llama.cpp:server",
            "healthRoute": "/health",
            "port": 8080,
            "modelPath": f"/repository/{gguf}",
        }
    }


def _vllm(version: str = "v0.11.0") -> dict[str, Any]:
    return {"vLLM": {"url": f"vllm/vllm-openai:{version}", "healthRoute": "/health", "port": 8000}}


_TEI = {
    "tei": {
        "url": "ghcr.io/huggingface/text-embeddings-inference:cpu-1.8",
        "healthRoute": "/health",
        "port": 80,
    }
}

CATALOG: tuple[CatalogModel, ...] = (
    CatalogModel(
        "HuggingFaceTB/SmolLM2-135M-Instruct",
        "Apache 2.0",
        "text-generation",
        "2025-02-11T10:00:00.000Z",
        (
            Recipe(
                "tangy-pretzel-k2m9x4qa",
                "cpu",
                "llamacpp",
                "aws",
                "us-east-1",
                "intel-spr",
                "x2",
                _llamacpp("smollm2-135m-instruct-q8_0.gguf"),
                framework="llamacpp",
                gguf_file="smollm2-135m-instruct-q8_0.gguf",
            ),
            Recipe(
                "crispy-falafel-7hq2zv0c",
                "gpu",
                "vllm",
                "aws",
                "us-east-1",
                "nvidia-l4",
                "x1",
                _vllm(),
            ),
        ),
    ),
    CatalogModel(
        "Qwen/Qwen2.5-Coder-7B-Instruct",
        "Apache 2.0",
        "text-generation",
        "2025-03-02T09:30:00.000Z",
        (
            Recipe(
                "smoky-ramen-p4w8d1tx",
                "gpu",
                "vllm",
                "aws",
                "us-east-1",
                "nvidia-l4",
                "x1",
                _vllm(),
            ),
            Recipe(
                "zesty-gyoza-m5c3r8ne",
                "cpu",
                "llamacpp",
                "aws",
                "us-east-1",
                "intel-spr",
                "x8",
                _llamacpp("qwen2.5-coder-7b-instruct-q4_k_m.gguf"),
                framework="llamacpp",
                gguf_file="qwen2.5-coder-7b-instruct-q4_k_m.gguf",
            ),
            Recipe(
                "golden-churro-b9t6y2lk",
                "cpu",
                "llamacpp",
                "aws",
                "us-east-1",
                "intel-spr",
                "x16",
                _llamacpp("qwen2.5-coder-7b-instruct-q8_0.gguf"),
                framework="llamacpp",
                gguf_file="qwen2.5-coder-7b-instruct-q8_0.gguf",
            ),
        ),
    ),
    CatalogModel(
        "meta-llama/Llama-3.1-8B-Instruct",
        "llama3.1",
        "text-generation",
        "2024-07-23T16:00:00.000Z",
        (
            Recipe(
                "sizzling-biryani-g4xsi1ac",
                "gpu",
                "vllm",
                "aws",
                "us-east-1",
                "nvidia-l40s",
                "x1",
                _vllm(),
            ),
            Recipe(
                "artisanal-quinoa-yz9ynamx",
                "neuron",
                "vllm",
                "aws",
                "us-east-1",
                "inf2",
                "x1",
                {
                    "vLLMNeuron": {
                        "url": "public.ecr.aws/neuron/vllm:0.9",
                        "healthRoute": "/health",
                        "port": 8000,
                    }
                },
            ),
        ),
    ),
    CatalogModel(
        "BAAI/bge-small-en-v1.5",
        "MIT",
        "feature-extraction",
        "2024-11-05T12:00:00.000Z",
        (
            Recipe(
                "silky-hummus-a8f3k2pw", "cpu", "tei", "aws", "us-east-1", "intel-spr", "x2", _TEI
            ),
        ),
    ),
)


def list_models(
    accelerator: str | None = None,
    engine: str | None = None,
    license: str | None = None,
    task: str | None = None,
    search: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Models with a recipe matching the accelerator/engine filters (recipes narrowed to those)."""
    items = []
    for model in CATALOG:
        if license and model.license.lower() != license.lower():
            continue
        if task and model.task != task:
            continue
        if search and search.lower() not in model.repo_id.lower():
            continue
        recipes = tuple(
            r
            for r in model.recipes
            if (not accelerator or r.accelerator == accelerator)
            and (not engine or r.engine == engine)
        )
        if recipes:
            items.append(model.to_json(recipes))
    return items if limit is None else items[: max(limit, 0)]


def find_model(repo_id: str) -> CatalogModel:
    for model in CATALOG:
        if model.repo_id == repo_id:
            return model
    raise ApiError(404, f"Model '{repo_id}' not found in the catalog")


def find_recipe(recipe_id: str) -> tuple[CatalogModel, Recipe]:
    for model in CATALOG:
        for recipe in model.recipes:
            if recipe.public_id == recipe_id:
                return model, recipe
    raise ApiError(404, f"Recipe '{recipe_id}' not found in the catalog")


def pick_recipe(model: CatalogModel, accelerator: str | None, gguf_file: str | None) -> Recipe:
    """The model's first recipe matching the filters (its default when none is given)."""
    for recipe in model.recipes:
        if accelerator and recipe.accelerator != accelerator:
            continue
        if gguf_file and recipe.gguf_file != gguf_file:
            continue
        return recipe
    wanted = ", ".join(
        f"{k} '{v}'" for k, v in (("accelerator", accelerator), ("ggufFile", gguf_file)) if v
    )
    raise bad_request(f"No recipe of model '{model.repo_id}' matches {wanted}")


def generated_name(model: CatalogModel) -> str:
    """e.g. `llama-3-1-8b-instruct-eey`: the model name slugged, plus a random suffix."""
    slug = re.sub(r"[^a-z0-9]+", "-", model.model_name.lower()).strip("-")[:28].rstrip("-")
    suffix = "".join(secrets.choice(string.ascii_lowercase) for _ in range(3))
    return f"{slug}-{suffix}"


def endpoint_request(model: CatalogModel, recipe: Recipe, name: str) -> dict[str, Any]:
    """The create request a deployment of `recipe` amounts to."""
    return {
        "name": name,
        "type": "authenticated",
        "provider": {"vendor": recipe.vendor, "region": recipe.region},
        "compute": {
            "accelerator": recipe.accelerator,
            "instanceType": recipe.instance_type,
            "instanceSize": recipe.instance_size,
            "scaling": {"minReplica": 0, "maxReplica": 1, "scaleToZeroTimeout": 15},
        },
        "model": {
            "repository": model.repo_id,
            "framework": recipe.framework,
            "revision": recipe.revision,
            "task": model.task,
            "image": recipe.image,
            "fromCatalog": True,
        },
    }
