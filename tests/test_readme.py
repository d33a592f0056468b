"""The docs' generated tables match schema.json, and what README.md and docs/ say of the code holds.

Each fact is checked on the page that holds it: the front page (README.md) keeps the two
commands, the quickstart, the demo's options and the examples; docs/resource.md the resource's
tables and the Pulumi versions; docs/functions.md the functions' tables; and so on.
"""

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
GENERATOR = ROOT / "scripts" / "generate_surface.py"
DOCS = ROOT / "docs"
README_MAX_LINES = 300


def page(name: str) -> str:
    """The text of README.md, or of a page of docs/ (`resource.md`...)."""
    return (ROOT / name if name == "README.md" else DOCS / name).read_text()


def all_pages(*, but: tuple[str, ...] = ()) -> str:
    """README.md and every page of docs/, except those named in `but`."""
    pages = [p for p in sorted(DOCS.glob("*.md")) if p.name not in but]
    return "\n".join([page("README.md"), *(p.read_text() for p in pages)])


def load_script(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def property_table() -> ModuleType:
    return load_script(SCRIPT)


def generated_block(text: str, begin: str, end: str) -> str:
    start, stop = text.index(begin), text.index(end)
    return text[start : stop + len(end)]


def test_the_property_tables_match_schema_json() -> None:
    script = property_table()
    schema = json.loads((ROOT / "schema.json").read_text())
    resource = generated_block(page("resource.md"), script.BEGIN, script.END)
    assert resource == script.render(schema), (
        "docs/resource.md's property table is stale: run `python scripts/generate_surface.py`"
    )
    functions = generated_block(page("functions.md"), script.FUNCTIONS_BEGIN, script.FUNCTIONS_END)
    assert functions == script.render_functions(schema), (
        "docs/functions.md's function tables are stale: run `python scripts/generate_surface.py`"
    )
    for name in ("README.md", *(p.name for p in DOCS.glob("*.md"))):
        if name not in ("resource.md", "functions.md"):
            assert script.BEGIN not in page(name) and script.FUNCTIONS_BEGIN not in page(name)


def test_every_schema_property_is_in_the_table() -> None:
    script = property_table()
    schema = json.loads((ROOT / "schema.json").read_text())
    block = generated_block(page("resource.md"), script.BEGIN, script.END)
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


def test_the_check_mode_fails_on_a_stale_page(tmp_path: Path) -> None:
    """The generator, run on a copy of the tree with an edited schema: --check names each stale
    file, a run rewrites them, and the docs, the arguments and the roles follow the schema."""
    generate_surface = load_script(GENERATOR)
    for name in generate_surface.GENERATED:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    schema = tmp_path / "schema.json"
    data = json.loads((ROOT / "schema.json").read_text())
    resource = data["resources"]["hf-endpoints:index:InferenceEndpoint"]
    resource["inputProperties"]["region"]["description"] = "Where it runs."
    resource["inputProperties"]["tags"]["replaceOnChanges"] = True
    data["functions"]["hf-endpoints:index:getHardware"]["inputs"]["properties"]["region"][
        "description"
    ] = "Only rows of this place."
    schema.write_text(json.dumps(data))

    def run(*options: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(GENERATOR), *options, "--root", str(tmp_path), "--schema", schema],
            capture_output=True,
            text=True,
        )

    stale = run("--check")
    assert stale.returncode == 1
    assert "+| `region` * | `region` | string |  | replace | Where it runs. |" in stale.stdout
    assert "+| `region` | string | Only rows of this place. |" in stale.stdout
    for name in ("resource.md", "functions.md", "resource_types.py", "properties.py"):
        assert f"{name} is stale" in stale.stderr, name
    assert "resource.py is stale" not in stale.stderr  # outputs unchanged
    regenerate = run()
    assert regenerate.returncode == 0
    assert run("--check").returncode == 0
    assert "Where it runs." in (tmp_path / "docs" / "resource.md").read_text()
    assert "Only rows of this place." in (tmp_path / "docs" / "functions.md").read_text()
    types = (tmp_path / generate_surface.TYPES_MODULE).read_text()
    assert '    region: pulumi.Input[str]\n    """Where it runs."""' in types
    roles = (tmp_path / generate_surface.PROPERTIES_MODULE).read_text()
    replaced = roles.split("REPLACE_ON_CHANGES")[1].split(")")[0]
    assert '"tags"' in replaced and '"region"' in replaced


def test_the_generated_surface_is_fresh() -> None:
    assert subprocess.run([sys.executable, str(GENERATOR), "--check"]).returncode == 0


def test_the_readme_is_a_front_page_that_starts_with_the_two_commands() -> None:
    readme = page("README.md")
    assert len(readme.splitlines()) <= README_MAX_LINES
    first_block = readme.split("```bash\n", 1)[1].split("```", 1)[0]
    assert [line.split()[:2] for line in first_block.strip().splitlines()] == [
        ["make", "demo"],
        ["make", "test"],
    ]
    assert readme.index("## What `make demo` shows") < readme.index("## Quickstart")
    assert "pulumi config set --secret huggingface:token" in readme
    for example in (ROOT / "examples").iterdir():
        if (example / "Pulumi.yaml").is_file():
            assert f"(examples/{example.name})" in readme, example.name
    # The front page links every page of docs/, and the changelog.
    for doc in DOCS.glob("*.md"):
        assert f"(docs/{doc.name})" in readme, doc.name
    assert "(CHANGELOG.md)" in readme


#: The sections each page must keep, so that links from elsewhere keep their target.
SECTIONS = {
    "README.md": ("## What `make demo` shows", "## Quickstart", "## Documentation"),
    "resource.md": (
        "## Configuration: token, API URL, namespace",
        "## Properties",
        "## Update or replacement",
        "## What Pulumi does not do for dynamic resources",
        "## Lifecycle inputs: `paused`, `wait`, `wait_timeout`, `adopt_existing`",
        "## Private endpoints (AWS PrivateLink)",
        "## `InferenceEndpoint.get` and why `pulumi import` does not work",
        "## Many endpoints in one stack",
        "## Which Pulumi versions, and why",
    ),
    "functions.md": ("## `price_per_hour` on the resource", "## Reference"),
    "native.md": (
        "## Which one to use",
        "## Installing the plugin",
        "## Configuration, and several accounts",
        "## What the native provider adds",
        "## `pulumi import`, and moving an endpoint from the dynamic resource",
    ),
    "helpers.md": (
        "## `EndpointClient`",
        "## `AsyncEndpointClient`",
        "## Errors",
        "## Other clients: huggingface_hub and JavaScript",
        "## Trying an endpoint from the shell",
        "## Reading an endpoint's logs",
        "## Prompt and continuation",
    ),
    "service-api.md": (
        "## Sources",
        "## Fields: what is sent, what comes back",
        "## What a GET answers",
        "## Hardware",
        "## Logs",
        "## Generation",
        "## Assumptions",
        "## Bad input as the service judges it",
        "## Checking it against the service",
    ),
    "emulator.md": (
        "## Running it",
        "## The emulator's own routes: faults, timings, state, transitions",
        "## Calling an emulated endpoint (the serving layer)",
        "### Backends",
        "### Serving under load",
    ),
    "troubleshooting.md": ("# Troubleshooting",),
    "reliability.md": ("# Reliability",),
    "benchmarks.md": ("## What each figure means", "## Latest figures"),
    "development.md": (
        "## Dependencies, and why",
        "## Commands",
        "## Testing without the Pulumi CLI",
        "## The floor-SDK virtualenv",
    ),
    "architecture.md": (
        "## Module map: `pulumi_hf_endpoints`",
        "## Module map: `hf_endpoints_emulator`",
        "## How `pulumi up` flows",
        "## Where the errors are",
        "## Rules that keep existing stacks working",
        "## How the tests are organised",
    ),
}


def test_every_page_keeps_its_sections() -> None:
    assert {p.name for p in DOCS.glob("*.md")} == set(SECTIONS) - {"README.md"}
    for name, headings in SECTIONS.items():
        text = "\n" + page(name)
        for heading in headings:
            assert f"\n{heading}\n" in text, (name, heading)


def test_the_architecture_page_maps_every_module() -> None:
    """Each module of both packages has its line in docs/architecture.md."""
    text = page("architecture.md")
    for package in ("pulumi_hf_endpoints", "hf_endpoints_emulator"):
        root = ROOT / "provider" / package
        for module in root.rglob("*.py"):
            relative = module.relative_to(root)
            if relative.parts[:2] == ("demo", "project"):
                names = ["demo/project/"]
            elif relative.name == "__init__.py" and len(relative.parts) > 1:
                names = [relative.as_posix(), f"{relative.parent.as_posix()}/"]  # the package
            else:
                names = [relative.as_posix()]
            assert any(f"`{name}`" in text for name in names), f"{package}/{relative}"


def test_the_code_refers_only_to_what_the_repository_holds() -> None:
    """The same rule for code and comments, read with line breaks folded into spaces."""
    for path in sorted((ROOT / "provider").rglob("*.py")) + sorted((ROOT / "bench").rglob("*.py")):
        text = " ".join(path.read_text().split()).lower()
        for shorthand in ("seed blog", "seed guide", "seed document", "reference §", "../shared"):
            assert shorthand not in text, f"{path.relative_to(ROOT)}: {shorthand}"
        assert not re.search(r"\bstep \d+ of \d+", text), path


def test_the_docs_refer_only_to_what_the_repository_holds() -> None:
    """Sources outside the repository are named by title and URL; no internal shorthand."""
    text = all_pages() + "".join(
        p.read_text() for p in sorted((ROOT / "examples").glob("*/README.md"))
    )
    for shorthand in ("seed blog", "seed guide", "seed document", "reference §", "../shared"):
        assert shorthand not in text.lower(), shorthand
    assert not re.search(r"\bStep \d+", text)
    for title, url in (
        (
            "Deploy LLMs with Hugging Face Inference Endpoints",
            "https://huggingface.co/blog/inference-endpoints-llm",
        ),
        (
            "Inference Endpoints",
            "https://huggingface.co/docs/huggingface_hub/guides/inference_endpoints",
        ),
    ):
        link = rf'\[[^\]]*"{re.escape(title)}"[^\]]*\]\({re.escape(url)}\)'
        assert re.search(link, page("README.md")), title


def test_the_documented_version_floor_is_the_one_pyproject_pins() -> None:
    readme = page("resource.md")
    pyproject = (ROOT / "pyproject.toml").read_text()
    floor = re.search(r'"pulumi>=([\d.]+),<4"', pyproject)
    assert floor and f"`pulumi>={floor.group(1)}` is the floor" in readme
    for version in ("3.207", "3.216", "3.235", "3.260", "3.268"):
        assert f"**{version}**" in readme
    # `make test-pulumi-floor` tests that very floor.
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(rf"^PULUMI_FLOOR \?= {re.escape(floor.group(1))}(\.0)?$", makefile, re.M)
    assert f"`pulumi=={floor.group(1)}.0`" in readme
    development = page("development.md")
    assert f"`pulumi=={floor.group(1)}.0`" in development
    assert f"**`pulumi`** (>={floor.group(1)},<4)" in development


def test_the_readme_lists_every_demo_option() -> None:
    from pulumi_hf_endpoints.cli import build_parser

    readme = page("README.md")
    import argparse

    subparsers = next(
        a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)
    )
    for action in subparsers.choices["demo"]._actions:
        long = [o for o in action.option_strings if o.startswith("--") and o != "--help"]
        if long:
            assert f"`{long[0]}" in readme, long[0]


def test_every_class_the_docs_name_is_exported_where_they_say() -> None:
    import pulumi_hf_endpoints
    import pulumi_hf_endpoints.inference
    import pulumi_hf_endpoints.resource

    # Pages for users; architecture.md names internal classes on purpose.
    readme = all_pages(but=("architecture.md",))
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
