"""Fail when a module or a function grows past the size a reader takes in at once.

    python tools/check_sizes.py [ROOT]

Lists every Python module over MAX_MODULE_LINES lines and every function (methods and nested functions included)
over MAX_FUNCTION_LINES lines, outside migrations and tests, and exits 1 if there is any. A function's size runs
from its first decorator to its last line, docstring included. `make lint` runs it.
"""

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
SKIPPED_DIRECTORIES = frozenset(
    {"migrations", "tests", "node_modules", "static", "staticfiles", "var", "__pycache__", ".venv", ".git"}
)


@dataclass(frozen=True)
class Oversize:
    path: Path
    line: int
    what: str
    lines: int
    limit: int

    def __str__(self):
        return f"{self.path}:{self.line}: {self.what} has {self.lines} lines (at most {self.limit})"


def python_modules(root):
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if SKIPPED_DIRECTORIES.isdisjoint(relative.parts[:-1]):
            yield relative


def oversizes_in(source, path):
    found = []
    module_lines = len(source.splitlines())
    if module_lines > MAX_MODULE_LINES:
        found.append(Oversize(path, 1, "module", module_lines, MAX_MODULE_LINES))
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            first_line = min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)])
            function_lines = node.end_lineno - first_line + 1
            if function_lines > MAX_FUNCTION_LINES:
                found.append(Oversize(path, first_line, f"function {node.name}", function_lines, MAX_FUNCTION_LINES))
    return sorted(found, key=lambda oversize: oversize.line)


def oversizes(root):
    found = []
    for relative in python_modules(root):
        found.extend(oversizes_in((root / relative).read_text(encoding="utf-8"), relative))
    return found


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0] if args else ".")
    found = oversizes(root)
    for oversize in found:
        print(oversize)
    if found:
        print(
            f"{len(found)} over the limits ({MAX_MODULE_LINES} lines a module, {MAX_FUNCTION_LINES} a function): "
            "split by responsibility.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
