from django.apps import AppConfig


class ProgramConfig(AppConfig):
    """The staff pages of the program (under /program/). Views and forms only: they call the services and
    selectors of the apps below, so this app sits on top of every layer and holds no models."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "program"
    verbose_name = "Program staff pages"
