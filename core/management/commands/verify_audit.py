from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.selectors import DEFAULT_CHECKPOINTS_CHECKED, verify_audit_chain


class Command(BaseCommand):
    help = (
        "Verify the audit log's keyed hash chain against the latest signed checkpoints and name what is missing: "
        "deleted or changed events, a broken or re-chained history, a truncated chain, events left unchained."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoints",
            type=int,
            default=DEFAULT_CHECKPOINTS_CHECKED,
            help="How many of the newest published checkpoints to check the chain against.",
        )
        parser.add_argument(
            "--grace",
            type=int,
            default=settings.AUDIT_LINK_GRACE_SECONDS,
            help="Seconds an event may wait to be chained before it counts as missing from the chain.",
        )
        parser.add_argument(
            "--require-checkpoint",
            action="store_true",
            help="Fail when no signed checkpoint covers the chain (truncation could not be checked).",
        )

    def handle(self, *args, **options):
        report = verify_audit_chain(checkpoints=options["checkpoints"], grace=timedelta(seconds=options["grace"]))
        for warning in report.warnings:
            self.stderr.write(self.style.WARNING(f"Warning: {warning}."))
        if not report.intact:
            shown = report.problems[:20]
            more = len(report.problems) - len(shown)
            raise CommandError(
                f"Audit chain broken ({len(report.problems)} problems, {report.checked} links read):\n"
                + "\n".join(f"- {problem}" for problem in shown)
                + (f"\n- ... and {more} more" if more else "")
            )
        if options["require_checkpoint"] and report.latest_checkpoint is None and report.checked:
            raise CommandError("No signed checkpoint covers the audit chain: truncation cannot be checked.")
        checkpoint = report.latest_checkpoint
        against = (
            f"; checked against {report.checkpoints_checked} signed checkpoints, the latest covering "
            f"{checkpoint.size} links at {checkpoint.published_at:%Y-%m-%d %H:%M:%S} UTC"
            if checkpoint
            else "; no signed checkpoint to check against"
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit chain intact: {report.checked} events verified{against}; "
                f"{report.pending} recent events waiting to be chained."
            )
        )
