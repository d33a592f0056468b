"""The Hub as the emulated service sees it when an endpoint names a repository and revision.

The service reads the repository with the caller's token when an endpoint is created (a gated
repository the token may not read is refused at create, huggingface_hub issue #2338), so a
repository or revision the Hub does not have is refused then, not when a replica starts. The
emulator cannot know the real Hub: by default every well-formed repository exists at every
revision (an open Hub, as before); a closed Hub (`EmulatorConfig.hub`, the CLI's `--hub FILE`)
lists the repositories that exist and their revisions (branches, tags, commits), and refuses
the rest as the service would.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .errors import ApiError

Hub = Mapping[str, Sequence[str]]
"""repository -> its revisions (branch names, tags, commit hashes)."""


def check_model(hub: Hub | None, repository: str, revision: str | None) -> None:
    """Raise the service's 400 when a closed Hub lacks the repository or the revision."""
    if hub is None:
        return
    if repository not in hub:
        raise ApiError(
            400, f"Repository '{repository}' not found on the Hub, or this token cannot read it"
        )
    if revision is not None and revision not in hub[repository]:
        raise ApiError(400, f"Revision '{revision}' not found in repository '{repository}'")
