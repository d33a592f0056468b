"""What the demo's two ways of running a stack share: the project they deploy and their error.

The project is `examples/quickstart` (the huggingface_hub guide's gpt2 endpoint), shipped in the
package as `project/` so that the demo works from an installed wheel; a test keeps the two copies
identical.
"""

from __future__ import annotations

import re
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().with_name("project")
"""The Pulumi project the demo deploys: `Pulumi.yaml`, `__main__.py`, `requirements.txt`."""


class StackError(RuntimeError):
    """An operation failed; the message is the provider's (or the engine's, or Pulumi's) own."""


def project_name(project_dir: Path) -> str:
    """The `name:` of a project's Pulumi.yaml."""
    match = re.search(r"^name:\s*(\S+)", (project_dir / "Pulumi.yaml").read_text(), re.M)
    if match is None:
        raise StackError(f"{project_dir / 'Pulumi.yaml'} has no project name")
    return match.group(1)
