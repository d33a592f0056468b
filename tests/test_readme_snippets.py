"""Every Python code block of the README and of docs/*.md runs as written, against an emulator.

A block may be preceded by a marker comment that says how to run it:

- `<!-- snippet: pulumi-program -->`: a Pulumi program; it runs under Pulumi's mocks with each
  resource sent through Pulumi's real provider host to the emulator (as `pulumi up` would), with
  the stack config `huggingface:token` and `huggingface:apiUrl` set to the emulator's, then the
  stack is destroyed;
- `<!-- snippet: given url, token -->`: the block uses names the surrounding text defines:
  `url` is a deployed text-generation endpoint's URL, `token` a token that may call it;
- `<!-- snippet: skip -->`: not meant to run (none today).

Every block runs with `HF_TOKEN` and `HF_ENDPOINTS_API_URL` set to the emulator's, as the pages
tell readers to export them, and with the pages' emulator address (`127.0.0.1:8765`) replaced by
the test emulator's. The JavaScript block (docs/helpers.md) runs with node when
`README_JS_MODULES` names a directory whose `node_modules` holds `@huggingface/inference` (the
suite installs nothing).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pulumi
import pytest

from pulumi_hf_endpoints.client.api import EndpointsApi
from tests.harness import Engine, EngineMonitor, ProviderHost, run_program
from tests.inference.inference_testkit import deploy

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
README_EMULATOR = "http://127.0.0.1:8765"
BLOCK = re.compile(
    r"(?:<!-- snippet: (?P<marker>[^>]*?) -->\n)?```(?P<language>python|javascript)\n"
    r"(?P<code>.*?)```",
    re.S,
)


def blocks(language: str) -> list[tuple[str, str, str]]:
    """(where, marker, code) of every block in `language`, page by page in order; `where` is
    `page:line`, the line the code starts on."""
    found = []
    for page in PAGES:
        text = page.read_text()
        for match in BLOCK.finditer(text):
            if match["language"] == language:
                line = text.count("\n", 0, match.start("code")) + 1
                where = f"{page.relative_to(ROOT)}:{line}"
                found.append((where, (match["marker"] or "").strip(), match["code"]))
    return found


PYTHON_BLOCKS = blocks("python")


def test_the_pages_have_the_python_blocks_this_test_knows_how_to_run() -> None:
    per_page = {where.split(":")[0] for where, _, _ in PYTHON_BLOCKS}
    assert per_page >= {"README.md", "docs/resource.md", "docs/functions.md", "docs/helpers.md"}
    assert "docs/emulator.md" in per_page
    assert len(PYTHON_BLOCKS) >= 8
    for where, marker, _ in PYTHON_BLOCKS:
        kind = marker.split(" ", 1)[0]
        assert kind in ("", "pulumi-program", "given", "skip"), (where, marker)


@pytest.fixture
def world(make_emulator: Any, tmp_path: Path) -> dict[str, Any]:
    """The emulator the pages' readers start, and what the snippets' text assumes exists."""
    emulator = make_emulator(orgs=("emulator-org", "my-org"))
    with EndpointsApi(emulator.token, api_url=emulator.api_url) as api:
        url = deploy(api, emulator.user, "readme-endpoint")["status"]["url"]
        deploy(api, "my-org", "chat")
        api.pause_endpoint("my-org", "chat")  # for_endpoint(..., resume=True) resumes it
    env = {
        **os.environ,
        "HF_TOKEN": emulator.token,
        "HF_ENDPOINTS_API_URL": emulator.api_url,
        "HF_HOME": str(tmp_path / "hf-home"),
    }
    return {"emulator": emulator, "url": url, "token": emulator.token, "env": env}


@pytest.mark.parametrize(
    ("where", "marker", "code"), PYTHON_BLOCKS, ids=[b[0] for b in PYTHON_BLOCKS]
)
def test_python_block_runs_as_written(
    where: str, marker: str, code: str, world: dict[str, Any]
) -> None:
    if marker.startswith("skip"):
        pytest.skip(f"{where} is marked as not meant to run")
    emulator = world["emulator"]
    source = code.replace(README_EMULATOR, emulator.base_url)
    if marker == "pulumi-program":
        run_pulumi_program(source, where, emulator)
        return
    # A fresh interpreter, as a reader's: nothing imported beforehand hides a missing import.
    given = ""
    if marker.startswith("given"):
        for name in (n.strip() for n in marker.removeprefix("given").split(",")):
            given += f"{name} = {world[name]!r}\n"
    done = subprocess.run(
        [sys.executable, "-c", given + source],
        env=world["env"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"{where}:\n{done.stderr}"


def run_pulumi_program(source: str, where: str, emulator: Any) -> None:
    env = {"PULUMI_HF_ENDPOINTS_POLL_INTERVAL": "0.05"}
    with ProviderHost(env=env) as host:
        host.configure(
            {"huggingface:token": emulator.token, "huggingface:apiUrl": emulator.api_url},
            secret_keys=["huggingface:token"],
        )
        engine = Engine(host)
        monitor = EngineMonitor(engine, "readme", "dev", preview=False)

        def program() -> None:
            # The stack config the quickstart has readers set, which the program's functions
            # (get_hardware...) read as the provider does.
            pulumi.runtime.set_all_config(
                {"huggingface:token": emulator.token, "huggingface:apiUrl": emulator.api_url}
            )
            exec(compile(source, where, "exec"), {"__name__": "__main__"})

        run_program(program, monitor, project="readme", stack="dev", preview=False)
        assert not monitor.errors, monitor.errors
        states = list(engine.state.values())
        assert states and all(s.outputs["status"] == "running" for s in states)
        engine.destroy_all()
        assert not engine.state


JS_BLOCKS = blocks("javascript")


def test_the_javascript_block_is_found() -> None:
    assert [where.split(":")[0] for where, _, _ in JS_BLOCKS] == ["docs/helpers.md"]


@pytest.mark.skipif(
    not (os.environ.get("README_JS_MODULES") and shutil.which("node")),
    reason="set README_JS_MODULES to a directory with node_modules/@huggingface/inference",
)
@pytest.mark.parametrize("code", [b[2] for b in JS_BLOCKS])
def test_javascript_block_streams_from_an_emulated_endpoint(
    code: str, world: dict[str, Any], tmp_path: Path
) -> None:
    modules = Path(os.environ["README_JS_MODULES"]).resolve() / "node_modules"
    (tmp_path / "node_modules").symlink_to(modules, target_is_directory=True)
    script = tmp_path / "snippet.mjs"
    script.write_text(code)
    env = {**world["env"], "ENDPOINT_URL": world["url"]}
    done = subprocess.run(
        ["node", str(script)], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.split()) >= 20  # words of the synthetic source
