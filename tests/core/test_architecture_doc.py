"""docs/architecture.md answers "where is the code for X" for every URL prefix and every scheduled task: a new URL
module or beat entry that the page does not name fails here."""

from pathlib import Path

from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver

ARCHITECTURE = (Path(settings.BASE_DIR) / "docs" / "architecture.md").read_text()


def _routes(patterns, prefix=""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route


def _prefix_named_by_the_doc(route: str) -> str:
    """Staff pages are named by their area (`/program/<area>/`), everything else by its first segment."""
    segments = [segment for segment in route.lstrip("^").split("/") if segment]
    if not segments:
        return "/"
    if segments[0] == "program" and len(segments) > 1 and "<" not in segments[1]:
        return f"/program/{segments[1]}/"
    return f"/{segments[0]}" + ("/" if route.rstrip("$").endswith("/") or len(segments) > 1 else "")


def test_every_url_prefix_is_mapped_to_its_code():
    prefixes = {_prefix_named_by_the_doc(route) for route in _routes(get_resolver().url_patterns)}
    assert "/program/contracts/" in prefixes  # the walk reaches the staff area modules
    missing = sorted(prefix for prefix in prefixes if f"`{prefix}" not in ARCHITECTURE)
    assert missing == []


def test_every_beat_entry_and_its_task_are_mapped_to_their_code():
    missing = [
        f"{name} -> {entry['task']}"
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
        if f"`{name}`" not in ARCHITECTURE or f"`{entry['task']}`" not in ARCHITECTURE
    ]
    assert settings.CELERY_BEAT_SCHEDULE
    assert missing == []
