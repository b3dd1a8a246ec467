from django.core.management.base import BaseCommand

from core.services import publish_audit_checkpoint


class Command(BaseCommand):
    help = (
        "Link every audit event still waiting, then sign the chain's size and head and publish the checkpoint "
        "outside the database (what the beat task does every FOREWARN_AUDIT_CHECKPOINT_INTERVAL_SECONDS)."
    )

    def handle(self, *args, **options):
        checkpoint = publish_audit_checkpoint()
        if checkpoint is None:
            self.stdout.write("Nothing to publish: the chain is empty or the latest checkpoint covers it.")
            return
        self.stdout.write(
            self.style.SUCCESS(f"Audit checkpoint published: {checkpoint.size} links, head {checkpoint.head}.")
        )
