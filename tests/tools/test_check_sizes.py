import subprocess
import sys
from pathlib import Path

CHECKER = Path(__file__).resolve().parents[2] / "tools" / "check_sizes.py"


def check_sizes(root):
    return subprocess.run([sys.executable, CHECKER, root], capture_output=True, text=True, check=False)


def write(root, relative, text):
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def function(name, lines, indent="", prefix="def"):
    body = "".join(f"{indent}    x = {number}\n" for number in range(lines - 1))
    return f"{indent}{prefix} {name}():\n{body}"


def test_a_tree_within_the_limits_passes(tmp_path):
    write(tmp_path, "app/services.py", function("fits", 60) + "\n" * 339)

    result = check_sizes(tmp_path)

    assert result.returncode == 0, result.stdout
    assert result.stdout == ""


def test_every_module_over_400_lines_is_listed(tmp_path):
    write(tmp_path, "app/services.py", "x = 1\n" * 401)
    write(tmp_path, "bench/seed.py", "x = 1\n" * 500)
    write(tmp_path, "app/selectors.py", "x = 1\n" * 400)

    result = check_sizes(tmp_path)

    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "app/services.py:1: module has 401 lines (at most 400)",
        "bench/seed.py:1: module has 500 lines (at most 400)",
    ]


def test_every_function_over_60_lines_is_listed_methods_nested_and_async_included(tmp_path):
    source = (
        function("short", 60)
        + function("long", 61)
        + "class Service:\n"
        + function("method", 62, indent="    ")
        + "def outer():\n"
        + function("inner", 61, indent="    ")
        + function("waits", 61, prefix="async def")
    )
    write(tmp_path, "app/services.py", source)

    result = check_sizes(tmp_path)

    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "app/services.py:61: function long has 61 lines (at most 60)",
        "app/services.py:123: function method has 62 lines (at most 60)",
        "app/services.py:185: function outer has 62 lines (at most 60)",
        "app/services.py:186: function inner has 61 lines (at most 60)",
        "app/services.py:247: function waits has 61 lines (at most 60)",
    ]


def test_a_function_is_measured_from_its_first_decorator(tmp_path):
    write(tmp_path, "app/views.py", "@staff_only\n@require_POST\n" + function("view", 59))

    result = check_sizes(tmp_path)

    assert result.stdout.splitlines() == ["app/views.py:1: function view has 61 lines (at most 60)"]


def test_migrations_and_tests_are_not_checked(tmp_path):
    write(tmp_path, "app/migrations/0001_initial.py", function("forwards", 100) + "x = 1\n" * 400)
    write(tmp_path, "tests/app/test_services.py", function("test_everything", 100) + "x = 1\n" * 400)

    result = check_sizes(tmp_path)

    assert result.returncode == 0, result.stdout
