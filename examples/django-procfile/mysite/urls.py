"""URL routes: a greeting and a health check for the platform."""

from django.http import HttpRequest, HttpResponse
from django.urls import path


def index(request: HttpRequest) -> HttpResponse:
    return HttpResponse("Hello from Django on Tussilago!\n", content_type="text/plain")


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok\n", content_type="text/plain")


urlpatterns = [
    path("", index),
    path("healthz", healthz),
]
