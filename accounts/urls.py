from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("accounts/login/", views.login_view, name="login"),
    path("accounts/signup/", views.signup_view, name="signup"),
    path("accounts/confirm/", views.confirm_view, name="confirm"),
    path("accounts/logout/", views.logout_view, name="logout"),
    path("api/auth/token", views.token_api, name="token"),
]
