"""Trace a leaked text to the served copy it came from: `manage.py trace_leak --advisory FWN-2026-0001 --file s.txt`."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from advisories import selectors
from advisories.models import Advisory


class Command(BaseCommand):
    help = "Rank the copies of an advisory served to partner users by how well a leaked sample matches them."

    def add_arguments(self, parser):
        parser.add_argument("--advisory", required=True, help="Advisory identifier, e.g. FWN-2026-0001.")
        parser.add_argument("--file", required=True, help="The leaked text (UTF-8); '-' reads standard input.")
        parser.add_argument("--top", type=int, default=5, help="How many copies to list.")

    def handle(self, *args, advisory, file, top, **options):
        found = Advisory.objects.filter(identifier=advisory).first()
        if found is None:
            raise CommandError(f"No advisory {advisory}.")
        try:
            text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8", errors="replace")
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error}") from error
        result = selectors.trace_sample(advisory=found, text=text)
        self.stdout.write(
            f"{found.identifier}: {result.slots} fingerprint slots read, {result.candidates} served copies compared, "
            f"threshold {result.threshold:g} (Bonferroni-adjusted p-value)."
        )
        for position, copy in enumerate(result.ranked[:top], start=1):
            self.stdout.write(
                f"{position:>2}. {copy.delivery.partner} / {copy.user.email} (delivery {copy.delivery.pk}, "
                f"{copy.delivery.get_level_display()}): {copy.agreements}/{copy.slots} slots agree, "
                f"p={copy.p_value:.3g}, adjusted p={copy.adjusted_p_value:.3g}"
            )
        match = result.match
        if match is None:
            self.stdout.write("No match: the sample does not carry the fingerprint of any served copy strongly enough.")
        else:
            self.stdout.write(
                self.style.WARNING(
                    f"Match: {match.delivery.partner}, copy served to {match.user.email} "
                    f"(delivery {match.delivery.pk}); "
                    f"chance of a false match {match.adjusted_p_value:.3g}."
                )
            )
