from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from advisories.management.commands.seed_demo import DEMO_AUTHENTICATOR


class Command(BaseCommand):
    help = "Print the current second-factor code of a demo account (development only, demo authenticators only)."

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email, **options):
        if not settings.DEBUG:
            raise CommandError("Only available in development (DEBUG on).")
        device = TOTPDevice.objects.filter(user__email__iexact=email, name=DEMO_AUTHENTICATOR).first()
        if device is None:
            raise CommandError(f"{email} has no demo authenticator; only seed_demo accounts do.")
        code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
        self.stdout.write(f"{code:0{device.digits}d}")
