"""The README's generated property tables match schema.json, and its promises hold."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "property_table.py"


def property_table() -> ModuleType:
    spec = importlib.util.spec_from_file_location("property_table", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def generated_block(readme: str, script: ModuleType) -> str:
    start, end = readme.index(script.BEGIN), readme.index(script.END)
    return readme[start : end + len(script.END)]


def test_the_property_tables_match_schema_json() -> None:
    script = property_table()
    schema = json.loads((ROOT / "schema.json").read_text())
    readme = (ROOT / "README.md").read_text()
    assert generated_block(readme, script) == script.render(schema), (
        "README.md's property table is stale: run `python scripts/property_table.py`"
    )


def test_every_schema_property_is_in_the_table() -> None:
    script = property_table()
    schema = json.loads((ROOT / "schema.json").read_text())
    block = generated_block((ROOT / "README.md").read_text(), script)
    resource = schema["resources"][script.RESOURCE]
    for name in [*resource["inputProperties"], *resource["properties"]]:
        assert re.search(rf"^\| `{name}`", block, re.M), name
    for kind in (script.IMAGE, script.PRIVATE_SERVICE):
        for name in schema["types"][kind]["properties"]:
            assert f"| `{name}`" in block, name
    replace = [n for n, p in resource["inputProperties"].items() if p.get("replaceOnChanges")]
    assert sorted(replace) == ["name", "namespace", "privateService", "region", "type", "vendor"]
    for name in replace:
        assert re.search(rf"^\| `{name}`[^\n]*\| replace \|", block, re.M), name


def test_the_check_mode_fails_on_a_stale_readme(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    schema = tmp_path / "schema.json"
    shutil.copy(ROOT / "README.md", readme)
    data = json.loads((ROOT / "schema.json").read_text())
    data["resources"]["hf-endpoints:index:InferenceEndpoint"]["inputProperties"]["region"][
        "description"
    ] = "Where it runs."
    schema.write_text(json.dumps(data))

    def check() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                str(SCRIPT),
                "--check",
                "--readme",
                str(readme),
                "--schema",
                str(schema),
            ],
            capture_output=True,
            text=True,
        )

    stale = check()
    assert stale.returncode == 1
    assert "+| `region` * | `region` | string |  | replace | Where it runs. |" in stale.stdout
    regenerate = subprocess.run(
        [sys.executable, str(SCRIPT), "--readme", str(readme), "--schema", str(schema)],
        capture_output=True,
        text=True,
    )
    assert regenerate.returncode == 0
    assert check().returncode == 0
    assert "Where it runs." in readme.read_text()


def test_the_readme_starts_with_the_two_commands_and_covers_the_guide() -> None:
    readme = (ROOT / "README.md").read_text()
    first_block = readme.split("```bash\n", 1)[1].split("```", 1)[0]
    assert [line.split()[:2] for line in first_block.strip().splitlines()] == [
        ["make", "demo"],
        ["make", "test"],
    ]
    for heading in (
        "## Quickstart",
        "### Properties",
        "### Update or replacement",
        "### Lifecycle inputs: `paused`, `wait`, `wait_timeout`, `adopt_existing`",
        "### `InferenceEndpoint.get` and why `pulumi import` does not work",
        "## Calling an endpoint from code",
        "## The local emulator",
        "## Troubleshooting",
        "## Dependencies, and why",
        "### Which Pulumi versions, and why",
    ):
        assert f"\n{heading}\n" in readme, heading
    assert "pulumi config set --secret huggingface:token" in readme
    for example in (ROOT / "examples").iterdir():
        if (example / "Pulumi.yaml").is_file():
            assert f"(examples/{example.name})" in readme, example.name


def test_the_documented_version_floor_is_the_one_pyproject_pins() -> None:
    readme = (ROOT / "README.md").read_text()
    pyproject = (ROOT / "pyproject.toml").read_text()
    floor = re.search(r'"pulumi>=([\d.]+),<4"', pyproject)
    assert floor and f"`pulumi>={floor.group(1)}` is the floor" in readme
    for version in ("3.207", "3.216", "3.235", "3.260", "3.268"):
        assert f"**{version}**" in readme
    # `make test-pulumi-floor` tests that very floor.
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(rf"^PULUMI_FLOOR \?= {re.escape(floor.group(1))}(\.0)?$", makefile, re.M)
    assert f"`pulumi=={floor.group(1)}.0`" in readme


def test_the_readme_lists_every_demo_option() -> None:
    from pulumi_hf_endpoints.cli import build_parser

    readme = (ROOT / "README.md").read_text()
    import argparse

    subparsers = next(
        a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)
    )
    for action in subparsers.choices["demo"]._actions:
        long = [o for o in action.option_strings if o.startswith("--") and o != "--help"]
        if long:
            assert f"`{long[0]}" in readme, long[0]


def test_every_class_the_readme_names_is_exported_where_it_says() -> None:
    import pulumi_hf_endpoints
    import pulumi_hf_endpoints.inference
    import pulumi_hf_endpoints.resource

    readme = (ROOT / "README.md").read_text()
    named = set(re.findall(r"`([A-Z][A-Za-z]+)`", readme))
    for line in re.findall(r"^from (pulumi_hf_endpoints[\w.]*) import (.+)$", readme, re.M):
        module = importlib.import_module(line[0])
        for name in line[1].split("#")[0].strip("() ").split(","):
            assert hasattr(module, name.strip()), (line[0], name)
    resource_classes = {n for n in named if hasattr(pulumi_hf_endpoints.resource, n)}
    assert resource_classes >= {
        "InferenceEndpoint",
        "InferenceEndpointArgs",
        "CustomImageArgs",
        "RegistryCredentialsArgs",
        "CustomImage",
        "RegistryCredentials",
    }
    for name in resource_classes:
        assert name in pulumi_hf_endpoints.__all__, name
        assert getattr(pulumi_hf_endpoints, name) is getattr(pulumi_hf_endpoints.resource, name)
    helpers = {n for n in named if hasattr(pulumi_hf_endpoints.inference, n)}
    assert {"EndpointClient", "AsyncEndpointClient", "ValidationError"} <= helpers
    for name in helpers:
        assert name in pulumi_hf_endpoints.inference.__all__, name
