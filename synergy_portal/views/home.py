from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from opportunities.selectors import home_summary


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    context = {
        "summary": home_summary(user=request.user) if request.user.is_authenticated else None
    }
    return render(request, "home.html", context)
