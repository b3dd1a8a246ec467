from django.apps import AppConfig


class ProgramConfig(AppConfig):
    """The staff pages of the program (under /program/). Views and forms only: they call the services and
    selectors of the apps below, so this app sits on top of every layer and holds no models."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "program"
    verbose_name = "Program staff pages"

    def ready(self):
        from core.registry import register_landing
        from core.roles import is_compliance_officer, is_program_manager

        # Program managers and compliance officers land on the program dashboard.
        register_landing(
            priority=10,
            applies=lambda user: is_program_manager(user) or is_compliance_officer(user),
            url_name="program:dashboard",
        )
