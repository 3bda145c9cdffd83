from django.apps import AppConfig


class VismaConfig(AppConfig):
    name = "integrations.visma"
    label = "visma"
    verbose_name = "Visma eAccounting"

    def ready(self) -> None:
        from accounting.signals import mapping_saved

        from .state import on_mapping_saved

        # A saved kontooppsett releases the settlements that only waited for it.
        mapping_saved.connect(on_mapping_saved, dispatch_uid="visma-release-blocked")
