from django.apps import AppConfig


class CoreConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "core"
    verbose_name = "Core"

    def ready(self):
        from core import celery_signals  # noqa: F401  (connects to Celery's task_revoked)
        from core.registry import register_landing, register_role_permissions
        from core.roles import COMPLIANCE_OFFICERS, PROGRAM_MANAGERS

        # What each staff role may do in the management site, as "app_label.codename"; every app registers its
        # own models' permissions. Object access for partners is never granted here: it comes from release waves.
        for role in (PROGRAM_MANAGERS, COMPLIANCE_OFFICERS):
            register_role_permissions(role, ["core.view_auditevent"])
        # Other staff (neither role) use the management site.
        register_landing(priority=50, applies=lambda user: user.is_staff, url_name="admin:index")
