from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("signup/confirm/<uidb64>/<token>/", views.confirm_email, name="confirm-email"),
    path("profile/", views.profile, name="profile"),
    path("profile/token/", views.create_token, name="create-token"),
    path("profile/token/revoke/", views.revoke_token, name="revoke-token"),
]
