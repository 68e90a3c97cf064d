from django.apps import AppConfig


class MraSiteConfig(AppConfig):
    name = "mra_site"
    verbose_name = "mra"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the deploy checks)
