"""What a new user meets first, tried as one would: the package's names listed by `dir()`
though they load lazily, and the `emulator` verb without its extra installed."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from pulumi_hf_endpoints import cli


def test_dir_lists_the_public_names_without_loading_them() -> None:
    code = (
        "import json, sys, pulumi_hf_endpoints as p\n"
        "names = dir(p)\n"
        "print(json.dumps([names, 'pulumi_hf_endpoints.resource' in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    names, loaded = json.loads(out.stdout)
    for name in ("InferenceEndpoint", "InferenceEndpointArgs", "get_hardware", "__version__"):
        assert name in names
    assert loaded is False


@pytest.mark.parametrize("missing", ["fastapi", "uvicorn"])
def test_the_emulator_verb_without_its_extra_says_what_to_install(
    missing: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == missing else real(name, *a)
    )
    assert cli.main(["emulator", "--backend", "synthetic", "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == (
        f"emulator: it needs {missing}: pip install 'pulumi-hf-endpoints[emulator]'"
    )
    assert "Traceback" not in err


def test_a_misspelt_keyword_names_the_closest_argument() -> None:
    from pulumi_hf_endpoints import CustomImageArgs, InferenceEndpoint

    with pytest.raises(TypeError, match=r"'min_replicas' \(did you mean 'min_replica'\?\)"):
        InferenceEndpoint("x", repository="gpt2", min_replicas=1)
    with pytest.raises(TypeError, match=r"'instanceType' \(did you mean 'instance_type'\?\)"):
        InferenceEndpoint("x", repository="gpt2", instanceType="intel-spr")
    with pytest.raises(TypeError, match=r"'helth_route' \(did you mean 'health_route'\?\)"):
        CustomImageArgs(url="img", helth_route="/health")
