from django.urls import path

from privacy import api, views

app_name = "privacy"

urlpatterns = [
    path("data/", api.AccountDataView.as_view(), name="data"),
    path("delete/", views.delete_account, name="delete"),
    path("delete/done/", views.account_deleted, name="deleted"),
]
