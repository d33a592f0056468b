"""Pulumi programs for the engine-path tests: endpoints written as code, as a user writes them."""

from __future__ import annotations

from pathlib import Path

PROJECT = Path(__file__).with_name("project")
"""A project whose `__main__.py` each test writes (`CliStack.write_program`)."""

GPT2 = (
    'repository="gpt2", framework="pytorch", task="text-generation", accelerator="cpu", '
    'vendor="aws", region="us-east-1", type="authenticated", instance_size="x2", '
    'instance_type="intel-spr"'
)
"""The huggingface_hub guide's small CPU endpoint, as keyword arguments."""


def endpoint(logical: str, *args: str, opts: str = "", var: str | None = None) -> str:
    """One `InferenceEndpoint(...)` statement: GPT2 plus `args` (`'name="x"'`, `'min_replica=2'`),
    with `opts` as the body of `pulumi.ResourceOptions(...)`."""
    arguments = ", ".join([GPT2, *args])
    options = f", opts=pulumi.ResourceOptions({opts})" if opts else ""
    target = var or logical.replace("-", "_")
    return f"{target} = InferenceEndpoint({logical!r}, {arguments}{options})"


def program(*statements: str) -> str:
    lines = [
        "import pulumi",
        "from pulumi_hf_endpoints import InferenceEndpoint",
        "",
        *statements,
        "",
    ]
    return "\n".join(lines)
