"""Emails to partner users about advisories: the notice of a release or a withdrawal, the daily digest and the
reminder to report protection status. They
are built only from an advisory's identifier, title and level and from portal links, so no embargoed content (a
description, a file) ever leaves the portal."""

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from advisories.models import Notice, NoticeKind


def portal_url(name: str, *args) -> str:
    return settings.FOREWARN_PORTAL_URL + reverse(name, args=args)


def notice_link(notice: Notice) -> str:
    return portal_url("advisories:detail", notice.advisory.identifier)


def notice_summary(notice: Notice) -> str:
    """One line naming the advisory and what happened: the identifier, the title and the level, nothing more."""
    advisory = notice.advisory
    if notice.kind == NoticeKind.WITHDRAWN:
        return f'{advisory.identifier} "{advisory.title}" was withdrawn; it is no longer available.'
    return f'{advisory.identifier} "{advisory.title}" is available at the {notice.get_level_display()} level.'


def notice_email(notice: Notice) -> tuple[str, str]:
    """The subject and body of one notice's immediate email."""
    advisory = notice.advisory
    verb = "withdrawn" if notice.kind == NoticeKind.WITHDRAWN else f"released ({notice.get_level_display()})"
    body = render_to_string(
        "emails/advisories/notice.txt",
        {
            "summary": notice_summary(notice),
            "partner": notice.partner,
            "link": notice_link(notice),
            "tlp": advisory.get_tlp_display(),
            "preferences_url": portal_url("advisories:notice_preferences"),
        },
    )
    return f"[Forewarn] {advisory.identifier} {verb}", body


def digest_email(notices: list[Notice]) -> tuple[str, str]:
    """The subject and body of one user's daily digest of these notices."""
    body = render_to_string(
        "emails/advisories/digest.txt",
        {
            "count": len(notices),
            "items": [{"summary": notice_summary(notice), "link": notice_link(notice)} for notice in notices],
            "preferences_url": portal_url("advisories:notice_preferences"),
        },
    )
    return f"[Forewarn] Daily digest: {len(notices)} notice{'s' if len(notices) != 1 else ''}", body


def protection_reminder_email(reminder) -> tuple[str, str]:
    """The subject and body of the reminder that an organisation has not reported its protection status."""
    advisory = reminder.advisory
    body = render_to_string(
        "emails/advisories/protection_reminder.txt",
        {
            "identifier": advisory.identifier,
            "title": advisory.title,
            "public_release_at": advisory.public_release_at,
            "partner": reminder.partner,
            "link": portal_url("advisories:protection", advisory.identifier),
        },
    )
    return f"[Forewarn] Protection status for {advisory.identifier}", body
