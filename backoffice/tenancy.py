"""Every page is scoped to the signed-in user's organisation.

Views are decorated with `member_required` (staff and admins may look) or `admin_required`
(only admins may change). Both set `request.org` and `request.membership`; views then
query through `request.org`, so another organisation's object is simply not found (404).
"""

from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec, TypeVar, cast

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from .models import Membership, Organization

P = ParamSpec("P")
R = TypeVar("R", bound=HttpResponseBase)


class OrgRequest(HttpRequest):
    """The request a view under `member_required` or `admin_required` gets: signed in, with
    the membership and organisation the decorator found. Only for type checking: the
    decorators set the attributes on Django's own request object (django-stubs README, "How
    can I create a HttpRequest that's guaranteed to have an authenticated user?").
    """

    user: User
    membership: Membership
    org: Organization


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


def member_required(
    view: Callable[Concatenate[OrgRequest, P], R],
) -> Callable[Concatenate[HttpRequest, P], R]:
    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> R:
        membership = current_membership(request)
        if membership is None:
            raise PermissionDenied("Brukeren er ikke medlem av noen organisasjon.")
        # The same object, from here on with the attributes an OrgRequest promises.
        org_request = cast(OrgRequest, request)
        org_request.membership = membership
        org_request.org = membership.organization
        return view(org_request, *args, **kwargs)

    return wrapper


def admin_required(
    view: Callable[Concatenate[OrgRequest, P], R],
) -> Callable[Concatenate[HttpRequest, P], R]:
    @member_required
    @wraps(view)
    def wrapper(request: OrgRequest, *args: P.args, **kwargs: P.kwargs) -> R:
        if not request.membership.is_admin:
            raise PermissionDenied("Bare administratorer kan endre dette.")
        return view(request, *args, **kwargs)

    return wrapper
