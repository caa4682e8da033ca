"""List what breaks the size limits of docs/GUIDE (functions over ~80 lines, modules over ~500) in
autograd/ and nn/: ``python .ci/sizes.py``.  Generated code is not in these packages' sources."""

import ast
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
FUNCTION_LINES, MODULE_LINES = 80, 500


def oversized(root: pathlib.Path = ROOT) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """(functions, modules) over the limits, each as (where, lines), longest first."""
    functions, modules = [], []
    for path in sorted([*root.glob("autograd/**/*.py"), *root.glob("nn/**/*.py")]):
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(root).as_posix()
        lines = len(text.splitlines())
        if lines > MODULE_LINES:
            modules.append((rel, lines))
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > FUNCTION_LINES:
                    functions.append((f"{rel}:{node.lineno} {node.name}", n))
    return sorted(functions, key=lambda x: -x[1]), sorted(modules, key=lambda x: -x[1])


if __name__ == "__main__":
    functions, modules = oversized()
    for title, rows in (("functions over ~80 lines", functions), ("modules over ~500 lines", modules)):
        print(f"{title}: {len(rows)}")
        for where, n in rows:
            print(f"  {n:5d}  {where}")
    sys.exit(0)
