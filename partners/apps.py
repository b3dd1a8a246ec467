from django.apps import AppConfig


class PartnersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "partners"
    verbose_name = "Partners"

    def ready(self):
        from core.registry import register_partner_membership, register_role_permissions
        from core.roles import COMPLIANCE_OFFICERS, PROGRAM_MANAGERS
        from partners.selectors import active_membership

        register_partner_membership(active_membership)

        register_role_permissions(
            PROGRAM_MANAGERS,
            [
                "partners.add_partner", "partners.change_partner", "partners.view_partner",
                "partners.add_partnermembership", "partners.view_partnermembership",
            ],
        )  # fmt: skip
        register_role_permissions(COMPLIANCE_OFFICERS, ["partners.view_partner", "partners.view_partnermembership"])
