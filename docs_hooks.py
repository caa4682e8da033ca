"""MkDocs hooks: bring the notebooks and the repository files the pages link to into the site, show
docstrings' ``>>>`` examples as code, and turn their Sphinx roles into cross-references.

The notebooks and sources live outside docs/, where MkDocs looks; adding them here keeps one copy of each,
and rewriting ``../autograd/ops.py``-style links (right on GitHub) to their place in the site lets the strict
build check those links too.
"""

from __future__ import annotations

import html
import pathlib
import posixpath
import re
import sys
import tempfile
from typing import Any

from griffe import Extension as GriffeExtension
from griffe import NameResolutionError, Object
from markdown import Extension
from markdown.preprocessors import Preprocessor
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

ROOT = pathlib.Path(__file__).resolve().parent
SHARED = ("notebooks/**/*.ipynb", "notebooks/images/*", "autograd/**/*.py", "nn/**/*.py", "benchmarks/*.py")
_LINK = re.compile(r"(\]\()([^)\s#]+)")
EXERCISES = "notebooks/exercises"  # the masters (solutions in): the site publishes their hand-outs instead


def _handouts() -> pathlib.Path:
    """A folder holding notebooks/exercises/*.ipynb as students get them (solutions and hidden tests removed)."""
    sys.path.insert(0, str(ROOT))  # this checkout's autograd, whatever the environment has installed
    from autograd.exercises import write_student_versions

    folder = pathlib.Path(tempfile.mkdtemp(prefix="chalkgrad-handouts-"))
    write_student_versions(ROOT / EXERCISES, folder / EXERCISES)
    return folder


@event_priority(100)  # before mkdocstrings builds its Markdown from this list
def on_config(config):
    config["markdown_extensions"].append(_Doctests())
    return config


@event_priority(100)  # before mkdocs-jupyter turns .ipynb files into pages
def on_files(files: Files, config) -> Files:
    handouts = _handouts()
    for pattern in SHARED:
        for path in sorted(ROOT.glob(pattern)):
            if ".ipynb_checkpoints" in path.parts or not path.is_file():
                continue
            rel = path.relative_to(ROOT).as_posix()
            if files.get_file_from_path(rel) is None:
                origin = handouts if rel.startswith(EXERCISES + "/") else ROOT
                files.append(File(rel, str(origin), config["site_dir"], config["use_directory_urls"]))
    return files


def on_page_markdown(markdown: str, page, config, files: Files) -> str:
    """``../notebooks/x.ipynb`` from docs/a.md names the repository's file: link to its copy in the site."""
    here = posixpath.dirname(page.file.src_uri)

    def relink(m: re.Match) -> str:
        target = m.group(2)
        if "://" in target:
            return m.group(0)
        in_repo = posixpath.normpath(posixpath.join("docs", here, target))
        if in_repo.startswith("docs/") or files.get_file_from_path(in_repo) is None:
            return m.group(0)
        return m.group(1) + posixpath.relpath(in_repo, here or ".")

    return _LINK.sub(relink, markdown)


class _DoctestBlocks(Preprocessor):
    """Fence each run of ``>>>`` lines (and their output, up to a blank line) as a ``pycon`` code block."""

    def run(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        fenced = in_code = False
        for line in lines:
            if line.lstrip().startswith("```"):
                in_code = not in_code
            elif not in_code and not fenced and line.startswith(">>> "):
                out.append("```pycon")
                fenced = True
            elif fenced and not line.strip():
                out.append("```")
                fenced = False
            out.append(line)
        if fenced:
            out.append("```")
        return out


class _Doctests(Extension):
    def extendMarkdown(self, md) -> None:  # noqa: N802 (Markdown's name)
        md.preprocessors.register(_DoctestBlocks(md), "doctest_blocks", 29)  # before fenced code (25)


# --- Sphinx roles -> cross-references ---------------------------------------------------------------
# The docstrings cite each other the Sphinx way (:func:`fit`, :class:`~autograd.Value`), which
# mkdocstrings prints as written.  SphinxRoles (a Griffe extension, named in mkdocs.yml) rewrites each
# role once the package is loaded into an autorefs element for the full path of the object it names:
# a link where that object has a page, its name as code where it has none.
# A role's text is a target (~ shows its last part only, ! names it without a link) or "title <target>".
ROLE = re.compile(r":(?:py:)?(?:func|class|meth|attr|mod|data|exc|obj|const|any):`([~!]?)([^`]+?)`")
_TITLED = re.compile(r"(.*?)\s*<([^<>]+)>", re.S)


class SphinxRoles(GriffeExtension):
    """Rewrites every docstring's Sphinx roles into links once a package is loaded."""

    def on_package(self, *, pkg: Object, loader: Any, **kwargs: Any) -> None:
        by_name = _paths_by_name(loader.modules_collection.members.values())
        for obj in _objects([pkg]):
            if obj.docstring is not None and ":" in obj.docstring.value:
                obj.docstring.value = ROLE.sub(lambda m, o=obj: _link(o, m[2].strip(), m[1], by_name),
                                               obj.docstring.value)


def _objects(roots: list[Any]) -> list[Object]:
    """Every object (not alias) under roots, without recursion."""
    found, stack = [], list(roots)
    while stack:
        obj = stack.pop()
        if obj.is_alias:
            continue
        found.append(obj)
        stack.extend(obj.members.values())
    return found


def _paths_by_name(roots: Any) -> dict[str, list[str]]:
    """'backward' -> ['autograd.value.Value.backward', ...]; also 'Value.backward' (last two parts)."""
    index: dict[str, list[str]] = {}
    for obj in _objects(list(roots)):
        parts = obj.path.split(".")
        for k in (1, 2):
            if len(parts) > k:
                index.setdefault(".".join(parts[-k:]), []).append(obj.path)
    return index


def _link(obj: Object, text: str, mark: str, by_name: dict[str, list[str]]) -> str:
    """One role as an autorefs link; ``mark``: "~" (show the last part), "!" (no link) or ""."""
    titled = _TITLED.fullmatch(text)
    title, target = (titled[1], titled[2].strip()) if titled and titled[1] else (None, text)
    target = target.lstrip(".")
    shown = title or (target.rsplit(".", 1)[-1] if mark == "~" else target)
    if mark == "!":
        return f"<code>{html.escape(shown)}</code>"
    path = _resolve(obj, target, by_name)
    return f'<autoref identifier="{html.escape(path)}" optional><code>{html.escape(shown)}</code></autoref>'


def _resolve(obj: Object, target: str, by_name: dict[str, list[str]]) -> str:
    """The full path ``target`` names as seen from ``obj``: its scope first, then a unique match anywhere."""
    head, _, rest = target.partition(".")
    try:
        path = obj.resolve(head)
        return path + ("." + rest if rest else "")
    except (NameResolutionError, AttributeError, KeyError, ValueError):
        pass
    if target in by_name or "." not in target or target.count(".") == 1:
        matches = by_name.get(target, [])
        package = obj.path.split(".")[0]
        same = [p for p in matches if p.split(".")[0] == package]
        for candidates in (matches, same):
            if len(set(candidates)) == 1:
                return candidates[0]
    return target  # a full path already (autograd.jvp), or outside the documented packages
