from django.urls import path

from tests.frameworks.django_app import views

urlpatterns = [
    path("users/<int:user_id>", views.user),
    path("echo", views.echo),
    path("form", views.form),
    path("upload", views.upload),
    path("cookies/set", views.set_cookie),
    path("cookies", views.cookies),
    path("session/set", views.session_set),
    path("session", views.session),
    path("session/clear", views.session_clear),
    path("redirect", views.to_user),
    path("items/<int:item_id>", views.item),
    path("boom", views.boom),
    path("ticks", views.ticks),
]
