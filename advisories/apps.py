from django.apps import AppConfig


class AdvisoriesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "advisories"
    verbose_name = "Advisories"

    def ready(self):
        from advisories import receivers  # noqa: F401  (connects to partners.signals)
        from core.registry import register_landing, register_role_permissions
        from core.roles import COMPLIANCE_OFFICERS, PROGRAM_MANAGERS

        # Partners (everyone the program and the management site do not claim first) land on their dashboard.
        register_landing(priority=100, applies=lambda user: True, url_name="advisories:dashboard")
        register_role_permissions(
            PROGRAM_MANAGERS,
            [
                "advisories.add_advisory", "advisories.change_advisory", "advisories.view_advisory",
                "advisories.add_advisorydocument", "advisories.change_advisorydocument",
                "advisories.view_advisorydocument", "advisories.delete_advisorydocument",
                "advisories.add_artifact", "advisories.change_artifact", "advisories.view_artifact",
                "advisories.add_releasewave", "advisories.change_releasewave", "advisories.view_releasewave",
                "advisories.view_delivery", "advisories.view_downloadevent",
                "advisories.add_releasecohort", "advisories.change_releasecohort", "advisories.view_releasecohort",
            ],
        )  # fmt: skip
        register_role_permissions(
            COMPLIANCE_OFFICERS,
            [
                "advisories.view_advisory", "advisories.view_delivery", "advisories.view_downloadevent",
                "advisories.view_releasecohort",
            ],
        )  # fmt: skip
