"""Times shown unambiguously: always in UTC, marked up so that static/js/local-time.js adds the viewer's zone."""

from datetime import UTC

from django import template
from django.utils import timezone
from django.utils.html import format_html

register = template.Library()


@register.filter
def utc(value):
    """`<time datetime="...Z">2026-11-25 09:00 UTC</time>`; empty for no value."""
    if not value:
        return ""
    value = value.astimezone(UTC) if timezone.is_aware(value) else value
    return format_html(
        '<time datetime="{}" data-local-time>{} UTC</time>',
        value.strftime("%Y-%m-%dT%H:%M:%SZ"),
        value.strftime("%Y-%m-%d %H:%M"),
    )
