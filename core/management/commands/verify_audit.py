from django.core.management.base import BaseCommand, CommandError

from core.selectors import verify_audit_chain


class Command(BaseCommand):
    help = "Verify the audit log's SHA-256 hash chain and name the first broken link."

    def handle(self, *args, **options):
        report = verify_audit_chain()
        if not report.intact:
            raise CommandError(
                f"Audit chain broken at event {report.first_broken_id}: {report.problem} "
                f"({report.checked} events before it verified)."
            )
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {report.checked} events verified."))
