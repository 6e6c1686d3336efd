from django.urls import path

from privacy import api, views

app_name = "privacy"

urlpatterns = [
    path("data/", api.AccountDataView.as_view(), name="data"),
    path("data/exports/", views.start_data_export, name="start-export"),
    path("data/exports/<uuid:pk>/", views.data_export, name="export"),
    path("data/exports/<uuid:pk>/download/", views.download_data_export, name="export-download"),
    path("delete/", views.delete_account, name="delete"),
    path("delete/done/", views.account_deleted, name="deleted"),
]
