from django.apps import AppConfig


class VismaConfig(AppConfig):
    name = "integrations.visma"
    label = "visma"
    verbose_name = "Visma eAccounting"
