from django.apps import AppConfig


class VismaSandboxConfig(AppConfig):
    name = "visma_sandbox"
    verbose_name = "Visma eAccounting sandbox simulator"
