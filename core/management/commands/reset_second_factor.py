from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from core.mfa import reset_second_factor_by_operator


class Command(BaseCommand):
    help = (
        "Operators only (shell access to a server): remove every second-factor device of an account, staff included, "
        "and end its sessions; the next login enrols a new authenticator. Audited and emailed to the account."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--reason", required=True, help="Why, and how the person's identity was confirmed.")

    def handle(self, *args, email, reason, **options):
        user = get_user_model().objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"No account {email}.")
        try:
            reset_second_factor_by_operator(user=user, reason=reason)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(self.style.SUCCESS(f"Second factor of {user.email} reset; it enrols anew at the next login."))
