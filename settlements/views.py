from django.shortcuts import render

from backoffice.tenancy import member_required


@member_required
def settlement_list(request):
    return render(request, "settlements/list.html", {"settlements": []})
