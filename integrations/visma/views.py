from django.shortcuts import render

from backoffice.tenancy import member_required


@member_required
def integration(request):
    return render(request, "visma/integration.html", {})
