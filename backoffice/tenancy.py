"""Every page is scoped to the signed-in user's organisation.

Views are decorated with `member_required` (staff and admins may look) or `admin_required`
(only admins may change). Both set `request.org` and `request.membership`; views then
query through `request.org`, so another organisation's object is simply not found (404).
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from .models import Membership


def current_membership(request: HttpRequest) -> Membership | None:
    if not request.user.is_authenticated:
        return None
    memberships = Membership.objects.select_related("organization").filter(user=request.user)
    wanted = request.session.get("org_id")
    if wanted:
        chosen = memberships.filter(organization_id=wanted).first()
        if chosen:
            return chosen
    return memberships.order_by("organization__name").first()


def member_required(view):
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        membership = current_membership(request)
        if membership is None:
            raise PermissionDenied("Brukeren er ikke medlem av noen organisasjon.")
        request.membership = membership
        request.org = membership.organization
        return view(request, *args, **kwargs)

    return wrapper


def admin_required(view):
    @member_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.membership.is_admin:
            raise PermissionDenied("Bare administratorer kan endre dette.")
        return view(request, *args, **kwargs)

    return wrapper
