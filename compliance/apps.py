from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "compliance"
    verbose_name = "Compliance"

    def ready(self):
        from compliance.entitlements import partner_access
        from core.registry import register_partner_access, register_role_permissions
        from core.roles import COMPLIANCE_OFFICERS, PROGRAM_MANAGERS

        register_partner_access(partner_access)
        register_role_permissions(
            PROGRAM_MANAGERS,
            [
                "compliance.add_contractversion", "compliance.view_contractversion",
                "compliance.add_agreement", "compliance.view_agreement",
                "compliance.add_jurisdictionpolicy", "compliance.view_jurisdictionpolicy",
                "compliance.view_enforcementaction",
            ],
        )  # fmt: skip
        register_role_permissions(
            COMPLIANCE_OFFICERS,
            [
                "compliance.view_contractversion", "compliance.view_agreement",
                "compliance.add_jurisdictionpolicy", "compliance.view_jurisdictionpolicy",
                "compliance.view_enforcementaction",
            ],
        )  # fmt: skip
