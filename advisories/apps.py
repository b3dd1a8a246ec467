from django.apps import AppConfig


class AdvisoriesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "advisories"
    verbose_name = "Advisories"

    def ready(self):
        from advisories import receivers  # noqa: F401  (connects to partners.signals)
