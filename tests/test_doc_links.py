"""Every relative link of the README, of docs/*.md and of the examples' READMEs points to a file
of the repository and, with a `#anchor`, to a heading of the page it names (as GitHub makes
anchors from headings).

External links (`https:`, `mailto:`) are not followed. Headings and links inside fenced code
blocks do not count, nor links inside inline code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    *sorted((ROOT / "examples").glob("*/README.md")),
]

#: Linked from the README, and written on another branch: checked once it is here.
FENCE = re.compile(r"^(?P<fence>```|~~~).*?^(?P=fence)[ \t]*$", re.M | re.S)
INLINE_CODE = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)", re.S)
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^(#{1,6})[ \t]+(?P<text>.+?)[ \t]*#*[ \t]*$", re.M)
HTML_ANCHOR = re.compile(r"<a\s+(?:name|id)=\"(?P<anchor>[^\"]+)\"", re.I)
SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)


def without_code_blocks(text: str) -> str:
    """`text` with fenced code blocks blanked (line count kept)."""
    return FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: the rendered text, lower-cased, punctuation other than
    `-` and `_` dropped, spaces turned into `-`."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link reads as its text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = text.replace("`", "").replace("*", "")
    text = "".join(c for c in text.lower() if c.isalnum() or c in " -_")
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """The anchors of `page`: one per heading (repeated headings get -1, -2...), and any
    `<a name=...>`/`<a id=...>`."""
    text = without_code_blocks(page.read_text())
    found: set[str] = set()
    seen: dict[str, int] = {}
    for match in HEADING.finditer(text):
        base = slug(match["text"])
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    found.update(m["anchor"] for m in HTML_ANCHOR.finditer(text))
    return found


def links(page: Path) -> Iterator[tuple[int, str]]:
    """(line, target) of every link of `page` outside code."""
    text = without_code_blocks(page.read_text())
    text = INLINE_CODE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    for match in LINK.finditer(text):
        yield text.count("\n", 0, match.start()) + 1, match["target"]


def relative_links() -> list[tuple[Path, int, str]]:
    return [
        (page, line, target)
        for page in PAGES
        for line, target in links(page)
        if not SCHEME.match(target)
    ]


RELATIVE = relative_links()


def test_the_checker_sees_the_links_and_anchors_it_should() -> None:
    assert slug("`InferenceEndpoint.get` and why `pulumi import` does not work") == (
        "inferenceendpointget-and-why-pulumi-import-does-not-work"
    )
    assert slug("Lifecycle inputs: `paused`, `wait`, `wait_timeout`, `adopt_existing`") == (
        "lifecycle-inputs-paused-wait-wait_timeout-adopt_existing"
    )
    assert slug("Reading an endpoint's logs") == "reading-an-endpoints-logs"
    assert slug("How `pulumi up` flows") == "how-pulumi-up-flows"
    pages = {page.name for page, _, _ in RELATIVE}
    assert {"README.md", "resource.md", "architecture.md"} <= pages
    assert any("#" in target for _, _, target in RELATIVE)


@pytest.mark.parametrize(
    ("page", "line", "target"),
    RELATIVE,
    ids=[f"{p.relative_to(ROOT)}:{line}:{t}" for p, line, t in RELATIVE],
)
def test_relative_link_resolves(page: Path, line: int, target: str) -> None:
    where = f"{page.relative_to(ROOT)}:{line}: {target}"
    path, _, anchor = target.partition("#")
    file = (page.parent / path).resolve() if path else page
    assert file == ROOT or ROOT in file.parents, f"{where} leaves the repository"
    assert file.exists(), f"{where}: no such file"
    if anchor:
        assert file.suffix == ".md", f"{where}: an anchor into a file that is not Markdown"
        assert anchor in anchors(file), f"{where}: no heading gives #{anchor} in {file.name}"
