from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SaftConfig(AppConfig):
    name = "saft"
    verbose_name = _("SAF-T Kasse")
