from django.shortcuts import render

from backoffice.tenancy import member_required


@member_required
def mapping(request):
    return render(request, "accounting/mapping.html", {})
