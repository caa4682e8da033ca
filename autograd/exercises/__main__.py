"""python -m autograd.exercises student SRC OUT: write student versions of master notebooks."""

from __future__ import annotations

import argparse
import sys

from . import MarkerError, write_student_versions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograd.exercises", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    student = commands.add_parser("student", help="the hand-outs, as nbgrader generate_assignment makes them: "
                                  "solutions replaced by stubs, hidden tests removed")
    student.add_argument("src", help="a folder of master notebooks, or one .ipynb")
    student.add_argument("out", help="folder for the student versions (created if missing)")
    args = parser.parse_args(argv)
    try:
        written = write_student_versions(args.src, args.out)
    except (MarkerError, ValueError, OSError) as e:  # a bad notebook, a missing file, out not a folder
        print(f"python -m autograd.exercises: {e}", file=sys.stderr)
        return 2
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
