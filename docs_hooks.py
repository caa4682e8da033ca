"""MkDocs hooks: bring the notebooks and the repository files the pages link to into the site, and show
docstrings' ``>>>`` examples as code.

The notebooks and sources live outside docs/, where MkDocs looks; adding them here keeps one copy of each,
and rewriting ``../autograd/ops.py``-style links (right on GitHub) to their place in the site lets the strict
build check those links too.
"""

from __future__ import annotations

import pathlib
import posixpath
import re
import sys
import tempfile

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
