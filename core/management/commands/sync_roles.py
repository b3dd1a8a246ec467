from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand

from core.roles import COMPLIANCE_OFFICERS, PROGRAM_MANAGERS

# What each staff role may do in the management site, as "app_label.codename". Object access for partners is never
# granted here: it comes from release waves.
ROLE_PERMISSIONS = {
    PROGRAM_MANAGERS: [
        "partners.add_partner", "partners.change_partner", "partners.view_partner",
        "partners.add_partnermembership", "partners.view_partnermembership",
        "compliance.add_contractversion", "compliance.view_contractversion",
        "compliance.add_agreement", "compliance.view_agreement",
        "compliance.add_jurisdictionpolicy", "compliance.view_jurisdictionpolicy",
        "compliance.view_enforcementaction",
        "advisories.add_advisory", "advisories.change_advisory", "advisories.view_advisory",
        "advisories.add_advisorydocument", "advisories.change_advisorydocument", "advisories.view_advisorydocument",
        "advisories.delete_advisorydocument",
        "advisories.add_artifact", "advisories.change_artifact", "advisories.view_artifact",
        "advisories.add_releasewave", "advisories.change_releasewave", "advisories.view_releasewave",
        "advisories.view_delivery", "advisories.view_downloadevent",
        "advisories.add_releasecohort", "advisories.change_releasecohort", "advisories.view_releasecohort",
        "core.view_auditevent",
    ],
    COMPLIANCE_OFFICERS: [
        "partners.view_partner", "partners.view_partnermembership",
        "compliance.view_contractversion", "compliance.view_agreement",
        "compliance.add_jurisdictionpolicy", "compliance.view_jurisdictionpolicy",
        "compliance.view_enforcementaction",
        "advisories.view_advisory", "advisories.view_delivery", "advisories.view_downloadevent",
        "advisories.view_releasecohort",
        "core.view_auditevent",
    ],
}  # fmt: skip


class Command(BaseCommand):
    help = "Create the staff role groups and give them exactly their model permissions (idempotent)."

    def handle(self, *args, **options):
        for role, permission_names in ROLE_PERMISSIONS.items():
            group, _ = Group.objects.get_or_create(name=role)
            permissions = []
            for name in permission_names:
                app_label, codename = name.split(".")
                permissions.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
            group.permissions.set(permissions)
            self.stdout.write(f"{role}: {len(permissions)} permissions")
