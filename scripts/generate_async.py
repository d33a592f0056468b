"""Write the async client module from the sync one, so that the two cannot drift.

    python scripts/generate_async.py            # rewrite provider/.../inference/_async.py
    python scripts/generate_async.py --check    # exit 1 (and show the diff) when it is stale

``_sync.py`` (``EndpointClient``, ``Stream`` and the event loop) is the one source. This script
parses it, decides from the tables below what changes, and applies the changes to the source
text at the positions the parse gives, so comments and layout carry over; then ruff sorts the
imports and formats the result with the project's settings. ``make lint`` runs ``--check``, and
so does ``tests/inference/test_inference_async_generated.py``.

Which functions become ``async def``: the async protocol methods (``__anext__``, ``__aenter__``,
``__aexit__``), the methods named like an awaited method (``close`` becomes ``aclose``), and
every function that does I/O, meaning that it awaits a call of ``AWAITED_FUNCTIONS``,
``AWAITED_METHODS`` or ``BLOCKING``, awaits another such function of the module, or loops
(``async for``) over an async iterable. Overloads follow their implementation.

Every rule must be used: a rule that no longer matches anything in ``_sync.py`` stops the
script, so an edit to the sync module cannot leave a rule silently stale. What the rules cannot
see (a sync ``with`` over something that became async, say) mypy --strict and the tests catch
in the generated module, as in any other.

Rules that ``_sync.py`` does not need are left out rather than kept unused: no ``with``
statement in it works on I/O (``with`` support itself comes from the protocol methods), and
its one ``StopIteration`` is the JSON scanner's "no value here", which stays as it is.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import io
import re
import subprocess
import sys
import tokenize
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "provider" / "pulumi_hf_endpoints" / "inference"
SYNC = PACKAGE / "_sync.py"
ASYNC = PACKAGE / "_async.py"

HEADER = """\
# Generated from _sync.py by scripts/generate_async.py; edit the sync module and regenerate
# (`python scripts/generate_async.py`). `make lint` fails when this file is stale.
"""

#: Replaces the sync module's docstring.
DOCSTRING = '''"""The asynchronous client and its streams: :class:`EndpointClient`'s API, awaited.

Everything below is ``_sync.py`` with ``async``/``await`` where I/O happens; what differs is
named in ``scripts/generate_async.py``. Closing rule: an ``async for`` left early abandons the
stream's async generator, and its ``finally`` closes the connection when the event loop
finalises it, which is soon but not at once; ``async with`` (or :meth:`AsyncStream.aclose`)
closes it at a known moment.
"""'''

# --------------------------------------------------------------------------- the rules

#: Identifiers renamed everywhere: definitions, uses, annotations, imports. Capitalised ones
#: (classes) are also renamed as whole words in strings, docstrings and comments.
RENAMES = {
    "EndpointClient": "AsyncEndpointClient",
    "Stream": "AsyncStream",
    "Iterator": "AsyncIterator",
    "iter_events": "aiter_events",
    "chain": "achain",
}
#: Dotted names replaced wherever they appear (a call to one is not awaited).
ATTRIBUTES = {
    "httpx.Client": "httpx.AsyncClient",
    "httpx.BaseTransport": "httpx.AsyncBaseTransport",
}
#: Functions whose calls become awaited calls of another function.
AWAITED_FUNCTIONS = {
    "time.sleep": "anyio.sleep",  # anyio: asyncio or trio, whichever runs the loop
    "next": "anext",
}
#: Methods (of any object) whose calls become awaited calls of another method; a method of the
#: module with one of these names is renamed and becomes ``async def`` too.
AWAITED_METHODS = {
    "close": "aclose",
    "read": "aread",
    "send": "send",
}
#: Methods (of any object) that return an iterator: renamed, not awaited; a loop over what they
#: return becomes ``async for``.
ITERATOR_METHODS = {
    "iter_raw": "aiter_raw",
    "iter_bytes": "aiter_bytes",
}
#: Functions that return an iterator (renamed through RENAMES): a loop over a call to one of
#: them becomes ``async for``, like a loop over an async generator of the module.
ITERATOR_FUNCTIONS = {"chain"}
#: Protocol methods: sync name -> (async name, is a coroutine).
PROTOCOL = {
    "__iter__": ("__aiter__", False),
    "__next__": ("__anext__", True),
    "__enter__": ("__aenter__", True),
    "__exit__": ("__aexit__", True),
}
#: Blocking calls with no async counterpart: awaited in a worker thread.
BLOCKING = {"resolve_endpoint_url": "anyio.to_thread.run_sync"}
#: Import statements replaced whole (``ast.unparse`` form -> text).
IMPORTS = {
    "import time": "import anyio",
    "from itertools import chain": "from ._events import achain",
}
#: Members that the async class does not have, and why.
SYNC_ONLY = {
    "Stream.__del__": "a finaliser cannot await aclose(): a response that is never iterated "
    "stays open until the stream's aclose() or the client's",
}
#: Methods that the async class has under both names (the async one and the sync one), why.
ALIASES = {"EndpointClient.close": "huggingface_hub's name"}
#: Docstring and comment text: sync wording -> async wording (whitespace-insensitive; a newline
#: in the async wording continues at the docstring's indentation). Besides these, class names
#: (RENAMES), ``:meth:`close``` and ``.close()`` (AWAITED_METHODS, PROTOCOL), ````with```` and
#: ````for```` get their async form everywhere.
PHRASES = {
    "``with`` support: leaving the block calls :meth:`close`.": (
        "``async with`` support: leaving the block awaits :meth:`aclose`."
    ),
    "on Hugging Face Inference Endpoints.": (
        "on Hugging Face Inference Endpoints, from\nasyncio or trio: await its methods; its streams"
        " are :class:`AsyncStream` (``async for``)."
    ),
    "``options`` go to the constructor.": (
        "``options`` go to the constructor. The lookup runs in a worker thread."
    ),
    "A streamed answer. Iterate it once; leaving the loop early closes the connection.": (
        "A streamed answer. Iterate it once with ``async for``; leaving the loop early closes\n"
        "the connection once the event loop finalises the iterator (at once with ``async with``)."
    ),
}

# --------------------------------------------------------------------------- the translation


class GenerateError(Exception):
    """The sync module has something the rules do not cover, or a rule matches nothing."""


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _end_line(node: ast.expr | ast.stmt | ast.alias) -> int:
    if node.end_lineno is None:
        raise GenerateError(f"line {node.lineno}: the parse gives no end position")
    return node.end_lineno


def _own_nodes(node: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a function's body, without those of nested functions and classes."""
    for child in ast.iter_child_nodes(node):
        yield child
        if not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield from _own_nodes(child)


def _is_generator(fn: ast.FunctionDef) -> bool:
    return any(isinstance(n, ast.Yield | ast.YieldFrom) for n in _own_nodes(fn))


class Translator:
    def __init__(self, source: str) -> None:
        self.source = source
        self.data = source.encode()
        self.tree = ast.parse(source)
        self.line_starts = [0]
        for line in self.data.splitlines(keepends=True):
            self.line_starts.append(self.line_starts[-1] + len(line))
        self.edits: list[tuple[int, int, str]] = []
        self.used: Counter[str] = Counter()
        self.classes = {n.name: n for n in self.tree.body if isinstance(n, ast.ClassDef)}
        # (class or None, name) -> the defs of that name (several with @overload)
        self.functions: dict[tuple[str | None, str], list[ast.FunctionDef]] = {}
        for node in self.tree.body:
            if isinstance(node, ast.FunctionDef):
                self.functions.setdefault((None, node.name), []).append(node)
            elif isinstance(node, ast.ClassDef):
                for member in node.body:
                    if isinstance(member, ast.FunctionDef):
                        key = (node.name, member.name)
                        if f"{node.name}.{member.name}" in SYNC_ONLY:
                            self.used[f"SYNC_ONLY {node.name}.{member.name}"] += 1
                            continue
                        self.functions.setdefault(key, []).append(member)
        self.coroutines: set[tuple[str | None, str]] = set()
        self.generators: set[tuple[str | None, str]] = set()
        self._infer()

    # ------------------------------------------------------------------ what becomes async

    def _lookup(self, cls: str | None, name: str) -> tuple[str | None, str] | None:
        """The key of method ``name`` as seen from class ``cls`` (its module bases included),
        or of module function ``name`` when ``cls`` is None."""
        if cls is None:
            return (None, name) if (None, name) in self.functions else None
        if (cls, name) in self.functions:
            return (cls, name)
        for base in self.classes[cls].bases:
            if isinstance(base, ast.Name) and base.id in self.classes:
                found = self._lookup(base.id, name)
                if found:
                    return found
        return None

    def _callee(self, call: ast.Call, cls: str | None) -> tuple[str | None, str] | None:
        """The module function or method that ``call`` calls, if it is one."""
        func = call.func
        if isinstance(func, ast.Name):
            return self._lookup(None, func.id)
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id in ("self", "cls")
            and cls is not None
        ):
            return self._lookup(cls, func.attr)
        return None

    def _awaited(self, call: ast.Call, cls: str | None) -> bool:
        func = call.func
        dotted = _dotted(func)
        if dotted in AWAITED_FUNCTIONS or dotted in BLOCKING:
            return True
        if isinstance(func, ast.Attribute) and (
            func.attr in AWAITED_METHODS or PROTOCOL.get(func.attr, ("", False))[1]
        ):
            return True
        callee = self._callee(call, cls)
        return callee in self.coroutines and callee not in self.generators

    def _async_iterable(self, node: ast.expr, cls: str | None) -> bool:
        if not isinstance(node, ast.Call):
            return False
        func = node.func
        if isinstance(func, ast.Name) and func.id in ITERATOR_FUNCTIONS:
            return True
        if isinstance(func, ast.Attribute) and func.attr in ITERATOR_METHODS:
            return True
        return self._callee(node, cls) in self.generators

    def _does_io(self, fn: ast.FunctionDef, cls: str | None) -> bool:
        for node in _own_nodes(fn):
            if isinstance(node, ast.Call) and self._awaited(node, cls):
                return True
            if isinstance(node, ast.For) and self._async_iterable(node.iter, cls):
                return True
        return False

    def _infer(self) -> None:
        """Fill ``coroutines`` (every function that becomes ``async def``) and ``generators``
        (those of them that are async generators, whose calls are not awaited)."""

        def make_async(key: tuple[str | None, str]) -> None:
            self.coroutines.add(key)
            if any(_is_generator(d) for d in self.functions[key]):
                self.generators.add(key)

        for key in self.functions:
            cls, name = key
            if PROTOCOL.get(name, ("", False))[1] or (cls and name in AWAITED_METHODS):
                make_async(key)
        changed = True
        while changed:
            changed = False
            for key, defs in self.functions.items():
                if key not in self.coroutines and any(self._does_io(d, key[0]) for d in defs):
                    make_async(key)
                    changed = True

    # ------------------------------------------------------------------ edits

    def pos(self, line: int, col: int) -> int:
        return self.line_starts[line - 1] + col

    def span(self, node: ast.expr | ast.stmt | ast.alias) -> tuple[int, int]:
        start = self.pos(node.lineno, node.col_offset)
        end = self.pos(_end_line(node), node.end_col_offset or 0)
        return start, end

    def after(self, node: ast.stmt) -> int:
        """The start of the line after ``node``."""
        return self.line_starts[_end_line(node)]

    def replace(self, start: int, end: int, text: str) -> None:
        self.edits.append((start, end, text))

    def rename_at(self, start: int, old: str, new: str) -> None:
        found = self.data[start : start + len(old.encode())].decode()
        if found != old:
            raise GenerateError(f"expected {old!r} at byte {start}, found {found!r}")
        self.replace(start, start + len(old.encode()), new)

    def rename_keyword_name(self, node: ast.stmt, keyword: str, old: str, new: str) -> None:
        """Rename the name after ``def``/``class`` (the node starts at the keyword)."""
        start = self.pos(node.lineno, node.col_offset)
        match = re.compile(rf"{keyword}\s+".encode()).match(self.data, start)
        if not match:
            raise GenerateError(f"no {keyword!r} at line {node.lineno}")
        self.rename_at(match.end(), old, new)

    def text(self, text: str, indent: str) -> str:
        """Docstring and comment wording."""
        return _TEXT.sub(lambda m: _text_replacement(m, indent, self.used), text)

    # ------------------------------------------------------------------ walking

    def translate(self) -> str:
        body = self.tree.body
        first = body[0]
        if not (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)):
            raise GenerateError("_sync.py has no module docstring to replace")
        self.replace(*self.span(first), DOCSTRING)
        self.replace(0, 0, HEADER)
        for node in body[1:]:
            self.statement(node, None)
        self.comments()
        self.check_rules_used()
        return self.apply()

    def statement(self, node: ast.stmt, cls: str | None) -> None:
        if isinstance(node, ast.Import | ast.ImportFrom):
            self.import_(node)
        elif isinstance(node, ast.ClassDef):
            self.class_(node)
        elif isinstance(node, ast.FunctionDef):
            self.function(node, cls)
        elif isinstance(node, ast.For):
            if self._async_iterable(node.iter, cls):
                func = node.iter.func if isinstance(node.iter, ast.Call) else None
                if isinstance(func, ast.Name) and func.id in ITERATOR_FUNCTIONS:
                    self.used[f"ITERATOR_FUNCTIONS {func.id}"] += 1
                start = self.pos(node.lineno, node.col_offset)
                self.replace(start, start, "async ")
            self.children(node, cls)
        elif isinstance(node, ast.AsyncFunctionDef | ast.AsyncFor | ast.AsyncWith):
            raise GenerateError(f"line {node.lineno}: _sync.py should have no async code")
        else:
            self.children(node, cls)

    def children(self, node: ast.AST, cls: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                self.statement(child, cls)
            elif isinstance(child, ast.expr):
                self.expression(child, node, cls, in_lambda=False)
            else:
                self.children(child, cls)

    def import_(self, node: ast.Import | ast.ImportFrom) -> None:
        key = ast.unparse(node)
        if key in IMPORTS:
            self.used[f"IMPORTS {key}"] += 1
            self.replace(*self.span(node), IMPORTS[key])
            return
        for alias in node.names:
            if alias.name in RENAMES and alias.asname is None:
                self.used[f"RENAMES {alias.name}"] += 1
                self.rename_at(self.span(alias)[0], alias.name, RENAMES[alias.name])

    def class_(self, node: ast.ClassDef) -> None:
        if node.name in RENAMES:
            self.used[f"RENAMES {node.name}"] += 1
            self.rename_keyword_name(node, "class", node.name, RENAMES[node.name])
        for expr in [*node.bases, *node.decorator_list]:
            self.expression(expr, node, None, in_lambda=False)
        for member in node.body:
            if isinstance(member, ast.FunctionDef) and f"{node.name}.{member.name}" in SYNC_ONLY:
                first = member.decorator_list[0] if member.decorator_list else member
                self.replace(self.line_starts[first.lineno - 1], self.after(member), "")
                continue
            self.statement(member, node.name)

    def function(self, node: ast.FunctionDef, cls: str | None) -> None:
        key = (cls, node.name)
        is_async = key in self.coroutines
        if is_async:
            start = self.pos(node.lineno, node.col_offset)
            self.replace(start, start, "async ")
        new = node.name
        if node.name in PROTOCOL:
            new = PROTOCOL[node.name][0]
            self.used[f"PROTOCOL {node.name}"] += 1
        elif cls and node.name in AWAITED_METHODS:
            new = AWAITED_METHODS[node.name]
            self.used[f"AWAITED_METHODS {node.name}"] += 1
        elif node.name in RENAMES:
            new = RENAMES[node.name]
            self.used[f"RENAMES {node.name}"] += 1
        if new != node.name:
            self.rename_keyword_name(node, "def", node.name, new)
        for expr in node.decorator_list:
            self.expression(expr, node, cls, in_lambda=False)
        self.children(node.args, cls)
        if node.returns:
            self.expression(node.returns, node, cls, in_lambda=False)
        for stmt in node.body:
            self.statement(stmt, cls)
        alias = f"{cls}.{node.name}"
        if alias in ALIASES:
            self.used[f"ALIASES {alias}"] += 1
            self.alias(node, new, ALIASES[alias])

    def alias(self, node: ast.FunctionDef, new: str, why: str) -> None:
        args = node.args
        plain = [a.arg for a in args.args] == ["self"] and not (
            args.vararg or args.kwarg or args.kwonlyargs or args.posonlyargs
        )
        if not plain or ast.unparse(node.returns or ast.Constant(None)) != "None":
            raise GenerateError(f"alias of {node.name}: only `(self) -> None` methods")
        indent = " " * node.col_offset
        text = (
            f"\n{indent}async def {node.name}(self) -> None:\n"
            f'{indent}    """Same as :meth:`{new}` ({why})."""\n'
            f"{indent}    await self.{new}()\n"
        )
        at = self.after(node)
        self.replace(at, at, text)

    def expression(self, node: ast.expr, parent: ast.AST, cls: str | None, in_lambda: bool) -> None:
        if isinstance(node, ast.Name):
            if node.id in RENAMES:
                self.used[f"RENAMES {node.id}"] += 1
                self.rename_at(self.span(node)[0], node.id, RENAMES[node.id])
            return
        if isinstance(node, ast.Attribute):
            dotted = _dotted(node)
            if dotted in ATTRIBUTES:
                self.used[f"ATTRIBUTES {dotted}"] += 1
                self.replace(*self.span(node), ATTRIBUTES[dotted])
                return
        is_text = isinstance(node, ast.Constant) and isinstance(node.value, str)
        if is_text or isinstance(node, ast.JoinedStr):
            start, end = self.span(node)
            old = self.data[start:end].decode()
            line_start = self.line_starts[node.lineno - 1]
            indent = " " * (
                len(self.data[line_start:start]) - len(self.data[line_start:start].lstrip(b" "))
            )
            new = self.text(old, indent)
            if new != old:
                self.replace(start, end, new)
            return
        if isinstance(node, ast.Lambda):
            self.children_expr(node, cls, in_lambda=True)
            return
        if isinstance(node, ast.Call):
            self.call(node, parent, cls, in_lambda)
            return
        self.children_expr(node, cls, in_lambda)

    def children_expr(self, node: ast.AST, cls: str | None, in_lambda: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.expression(child, node, cls, in_lambda)
            else:
                self.children_expr(child, cls, in_lambda)

    def call(self, node: ast.Call, parent: ast.AST, cls: str | None, in_lambda: bool) -> None:
        func = node.func
        dotted = _dotted(func)
        awaited = self._awaited(node, cls)
        if awaited and in_lambda:
            raise GenerateError(f"line {node.lineno}: an awaited call inside a lambda")
        start, end = self.span(node)
        prefix, suffix = "await ", ""
        if dotted in BLOCKING:
            self.used[f"BLOCKING {dotted}"] += 1
            prefix, suffix = f"await {BLOCKING[dotted]}(lambda: ", ")"
            self.expression(func, node, cls, in_lambda)
        elif dotted in AWAITED_FUNCTIONS:
            self.used[f"AWAITED_FUNCTIONS {dotted}"] += 1
            self.replace(*self.span(func), AWAITED_FUNCTIONS[dotted])
        elif isinstance(func, ast.Attribute) and (rule := _method_rule(func.attr)):
            table, new = rule
            self.used[f"{table} {func.attr}"] += 1
            self.rename_at(self.span(func)[1] - len(func.attr.encode()), func.attr, new)
            self.expression(func.value, func, cls, in_lambda)
        else:
            self.expression(func, node, cls, in_lambda)
        for arg in [*node.args, *(k.value for k in node.keywords)]:
            self.expression(arg, node, cls, in_lambda)
        if awaited:
            if isinstance(parent, ast.Attribute | ast.Subscript) or (
                isinstance(parent, ast.Call) and parent.func is node
            ):
                prefix, suffix = "(" + prefix, suffix + ")"
            self.replace(start, start, prefix)
            if suffix:
                self.replace(end, end, suffix)

    def comments(self) -> None:
        skipped = [
            (self.pos(n.lineno, 0), self.after(n))
            for c in self.classes.values()
            for n in c.body
            if isinstance(n, ast.FunctionDef) and f"{c.name}.{n.name}" in SYNC_ONLY
        ]
        lines = self.source.splitlines(keepends=True)
        for token in tokenize.generate_tokens(io.StringIO(self.source).readline):
            if token.type != tokenize.COMMENT:
                continue
            row, col = token.start
            start = self.line_starts[row - 1] + len(lines[row - 1][:col].encode())
            if any(a <= start < b for a, b in skipped):
                continue
            new = self.text(token.string, "")
            if new != token.string:
                self.replace(start, start + len(token.string.encode()), new)

    # ------------------------------------------------------------------ finishing

    def check_rules_used(self) -> None:
        rules = [
            *(f"RENAMES {k}" for k in RENAMES),
            *(f"ATTRIBUTES {k}" for k in ATTRIBUTES),
            *(f"AWAITED_FUNCTIONS {k}" for k in AWAITED_FUNCTIONS),
            *(f"AWAITED_METHODS {k}" for k in AWAITED_METHODS),
            *(f"ITERATOR_METHODS {k}" for k in ITERATOR_METHODS),
            *(f"ITERATOR_FUNCTIONS {k}" for k in ITERATOR_FUNCTIONS),
            *(f"PROTOCOL {k}" for k in PROTOCOL),
            *(f"BLOCKING {k}" for k in BLOCKING),
            *(f"IMPORTS {k}" for k in IMPORTS),
            *(f"SYNC_ONLY {k}" for k in SYNC_ONLY),
            *(f"ALIASES {k}" for k in ALIASES),
            *(f"PHRASES {k}" for k in PHRASES),
        ]
        unused = [rule for rule in rules if not self.used[rule]]
        if unused:
            raise GenerateError(
                "rules that match nothing in _sync.py (remove them, or fix the sync module): "
                + "; ".join(unused)
            )

    def apply(self) -> str:
        out = self.data
        last_start, last_end = len(out) + 1, len(out) + 1
        # From the end, so that earlier positions stay valid; at one position, a replacement
        # goes before an insertion, so the insertion lands in front of the replaced text.
        for start, end, text in sorted(self.edits, key=lambda e: (e[0], e[1]), reverse=True):
            if end > last_start or (start == end == last_start == last_end):
                raise GenerateError(f"overlapping edits at byte {start}: {text!r}")
            out = out[:start] + text.encode() + out[end:]
            last_start, last_end = start, end
        return out.decode()


def _text_pattern() -> re.Pattern[str]:
    phrases = ["\\s+".join(map(re.escape, p.split())) for p in PHRASES]
    classes = "|".join(re.escape(name) for name in RENAMES if name[:1].isupper())
    methods = "|".join(
        re.escape(name) for name in [*AWAITED_METHODS, *PROTOCOL] if _method_rename(name) != name
    )  # as ``:meth:`close``` or ``.close()``
    return re.compile(
        "|".join(
            [
                *(f"(?P<phrase{i}>{p})" for i, p in enumerate(phrases)),
                rf"(?P<class>\b(?:{classes})\b)",
                rf"(?P<meth>(?<=:meth:`)(?:{methods})(?=`)|(?<=\.)(?:{methods})(?=\(\)))",
                r"(?<=``)(?P<statement>with|for)(?=``)",
            ]
        )
    )


def _method_rule(name: str) -> tuple[str, str] | None:
    """The table that renames calls of method ``name``, and the new name."""
    if name in AWAITED_METHODS:
        return "AWAITED_METHODS", AWAITED_METHODS[name]
    if name in ITERATOR_METHODS:
        return "ITERATOR_METHODS", ITERATOR_METHODS[name]
    if name in PROTOCOL:
        return "PROTOCOL", PROTOCOL[name][0]
    return None


def _method_rename(name: str) -> str:
    rule = _method_rule(name)
    return rule[1] if rule else name


def _text_replacement(match: re.Match[str], indent: str, used: Counter[str]) -> str:
    group = match.lastgroup or ""
    word = match.group()
    if group.startswith("phrase"):
        sync_text = list(PHRASES)[int(group[len("phrase") :])]
        used[f"PHRASES {sync_text}"] += 1
        return PHRASES[sync_text].replace("\n", "\n" + indent)
    if group == "class":
        return RENAMES[word]
    if group == "meth":
        return _method_rename(word)
    return "async " + word


_TEXT = _text_pattern()


# --------------------------------------------------------------------------- the command


def _ruff(args: list[str], code: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "ruff", *args, "--stdin-filename", str(ASYNC)],
        input=code,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if out.returncode != 0:
        raise GenerateError(f"ruff {' '.join(args)} failed:\n{out.stderr}")
    return out.stdout


def generate(sync_source: str | None = None) -> str:
    """The async module, as it should read for ``sync_source`` (default: ``_sync.py``)."""
    source = SYNC.read_text() if sync_source is None else sync_source
    code = Translator(source).translate()
    code = _ruff(["check", "--fix-only", "--select", "I"], code)
    return _ruff(["format"], code)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only report whether it is stale")
    args = parser.parse_args(argv)
    try:
        fresh = generate()
    except GenerateError as error:
        print(f"generate_async: {error}", file=sys.stderr)
        return 2
    current = ASYNC.read_text() if ASYNC.exists() else ""
    if fresh == current:
        return 0
    name = ASYNC.relative_to(ROOT)
    if args.check:
        diff = difflib.unified_diff(
            current.splitlines(), fresh.splitlines(), str(name), "generated", lineterm=""
        )
        print("\n".join(diff))
        print(f"{name} is stale: run `python scripts/generate_async.py`", file=sys.stderr)
        return 1
    ASYNC.write_text(fresh)
    print(f"updated {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
