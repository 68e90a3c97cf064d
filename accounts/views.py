from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.request import Request
from rest_framework.response import Response

from . import services
from .cookies import ACCESS_COOKIE, REFRESH_COOKIE, clear_token_cookies, set_token_cookies
from .forms import SignInForm, SignUpForm


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return "/"


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    form = SignInForm(request.POST or None)
    status_code = 200
    if request.method == "POST" and form.is_valid():
        try:
            tokens = services.user_sign_in(**form.cleaned_data)
        except services.AccountError as exc:
            form.add_error(None, exc.message)
            status_code = 400 if exc.status < 500 else exc.status
        else:
            response = HttpResponseRedirect(_next_url(request))
            set_token_cookies(response, tokens)
            response._mra_signed_in = True
            return response
    elif request.method == "POST":
        status_code = 400
    return render(
        request,
        "accounts/login.html",
        {"form": form, "next": _next_url(request)},
        status=status_code,
    )


@require_http_methods(["GET", "POST"])
def signup_view(request: HttpRequest) -> HttpResponse:
    form = SignUpForm(request.POST or None)
    status_code = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.user_sign_up(**form.cleaned_data)
            tokens = services.user_sign_in(
                username=form.cleaned_data["username"], password=form.cleaned_data["password"]
            )
        except services.AccountError as exc:
            form.add_error(exc.field, exc.message)
            status_code = 400 if exc.status < 500 else exc.status
        else:
            response = HttpResponseRedirect("/")
            set_token_cookies(response, tokens)
            response._mra_signed_in = True
            messages.success(request, f"Welcome, {form.cleaned_data['username']}!")
            return response
    elif request.method == "POST":
        status_code = 400
    return render(request, "accounts/signup.html", {"form": form}, status=status_code)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    services.user_sign_out(
        refresh_token=request.COOKIES.get(REFRESH_COOKIE),
        access_token=request.COOKIES.get(ACCESS_COOKIE),
    )
    response = HttpResponseRedirect("/")
    clear_token_cookies(response)
    response._mra_signed_out = True
    return response


class TokenRequestSerializer(serializers.Serializer):
    """Either a username and password, or a refresh token from an earlier answer."""

    username = serializers.CharField(max_length=128, required=False)
    password = serializers.CharField(max_length=256, trim_whitespace=False, required=False)
    refresh_token = serializers.CharField(max_length=8192, required=False)

    def validate(self, attrs: dict) -> dict:
        if attrs.get("refresh_token"):
            return attrs
        missing = [name for name in ("username", "password") if not attrs.get(name)]
        if missing:
            raise serializers.ValidationError(
                {name: "This field is required (or send a refresh_token)." for name in missing}
            )
        return attrs


class TokenResponseSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    id_token = serializers.CharField()
    refresh_token = serializers.CharField()
    expires_in = serializers.IntegerField()
    token_type = serializers.CharField()


@extend_schema(
    request=TokenRequestSerializer,
    responses={
        200: TokenResponseSerializer,
        400: inline_serializer(
            "AuthError", {"error": serializers.CharField(), "detail": serializers.CharField()}
        ),
    },
    summary="Exchange a username and password, or a refresh token, for Cognito tokens",
)
@api_view(["POST"])
@authentication_classes([])
@permission_classes([])
def token_api(request: Request) -> Response:
    serializer = TokenRequestSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    try:
        if data.get("refresh_token"):
            tokens = services.user_refresh(refresh_token=data["refresh_token"])
        else:
            tokens = services.user_sign_in(username=data["username"], password=data["password"])
    except services.AccountError as exc:
        code = "region_unavailable" if exc.status >= 500 else "invalid_credentials"
        if exc.status == 403:
            code = "user_not_confirmed"
        return Response({"error": code, "detail": exc.message}, status=exc.status)
    return Response(
        {
            "access_token": tokens.access_token,
            "id_token": tokens.id_token,
            "refresh_token": tokens.refresh_token,
            "expires_in": tokens.expires_in,
            "token_type": "Bearer",
        },
        status=status.HTTP_200_OK,
    )
