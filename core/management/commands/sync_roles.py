from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand

from core import registry
from core.roles import STAFF_GROUPS


class Command(BaseCommand):
    help = (
        "Create the staff role groups and give them exactly their model permissions (idempotent). Each app registers "
        "its roles' permissions in its AppConfig.ready() (core.registry.register_role_permissions)."
    )

    def handle(self, *args, **options):
        permission_names = registry.role_permissions()
        for role in STAFF_GROUPS:
            group, _ = Group.objects.get_or_create(name=role)
            permissions = []
            for name in permission_names.get(role, []):
                app_label, codename = name.split(".")
                apps.get_app_config(app_label)  # a registered permission of an app that is not installed fails here
                permissions.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
            group.permissions.set(permissions)
            self.stdout.write(f"{role}: {len(permissions)} permissions")
