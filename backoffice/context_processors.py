from django.conf import settings
from django.utils.module_loading import import_string

from .tenancy import current_membership


def shell(request):
    """What the page shell needs: the organisation, the role and any banners to show."""
    membership = getattr(request, "membership", None)
    if membership is None and getattr(request, "user", None) and request.user.is_authenticated:
        membership = current_membership(request)
    banners = []
    if membership is not None:
        for path in settings.BACKOFFICE_BANNER_PROVIDERS:
            banners.extend(import_string(path)(membership.organization))
    return {"shell_membership": membership, "shell_banners": banners}
