from django.db import migrations, models
from django.db.models import F


def close_duplicate_open_invitations(apps, schema_editor):
    """Before the constraint: of several open invitations of one address to one organisation, the newest stays
    open; the others are closed at their expiry (as inviting the address again now does)."""
    Invitation = apps.get_model("partners", "Invitation")
    newest = {}
    for pk, partner_id, email in (
        Invitation.objects.filter(accepted_at__isnull=True, revoked_at__isnull=True)
        .order_by("created_at", "pk")
        .values_list("pk", "partner_id", "email")
    ):
        newest[(partner_id, email)] = pk
    Invitation.objects.filter(accepted_at__isnull=True, revoked_at__isnull=True).exclude(
        pk__in=list(newest.values())
    ).update(revoked_at=F("expires_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0004_api_token_report_scope"),
    ]

    operations = [
        migrations.RunPython(close_duplicate_open_invitations, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="invitation",
            constraint=models.UniqueConstraint(
                condition=models.Q(("accepted_at__isnull", True), ("revoked_at__isnull", True)),
                fields=("partner", "email"),
                name="one_open_invitation_per_address",
            ),
        ),
    ]
