from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from advisories.partner_record import export_partner_record
from partners.models import Partner


class Command(BaseCommand):
    help = (
        "Export one organisation's complete record (partner, people, memberships, agreements, enforcement, "
        "deliveries, downloads, audit events) as a zip of JSON files with a sha256 manifest."
    )

    def add_arguments(self, parser):
        parser.add_argument("--partner", type=int, required=True, help="the partner's id")
        parser.add_argument("--output", type=Path, required=True, help="the zip file to create")

    def handle(self, *args, partner: int, output: Path, **options):
        try:
            organisation = Partner.objects.get(pk=partner)
        except Partner.DoesNotExist:
            raise CommandError(f"No partner with id {partner}.") from None
        try:
            manifest = export_partner_record(partner=organisation, destination=output)
        except FileExistsError as error:
            raise CommandError(str(error)) from None
        for entry in manifest["files"]:
            self.stdout.write(f"{entry['sha256']}  {entry['name']} ({entry['records']} records)")
        self.stdout.write(self.style.SUCCESS(f"Wrote {output} for {organisation.legal_name}."))
