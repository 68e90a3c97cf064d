from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.request import Request
from rest_framework.response import Response

from mra_site.api import (
    RETRY_AFTER_ALWAYS,
    ErrorSerializer,
    InputSerializer,
    error_responses,
    retry_after,
)
from mra_site.aws.cognito import Tokens
from mra_site.middleware import page_render

from . import services, throttle
from .cookies import (
    ACCESS_COOKIE,
    clear_token_cookies,
    refresh_tokens_from_cookies,
    set_token_cookies,
)
from .forms import ConfirmSignUpForm, SignInForm, SignUpForm


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return "/"


def _form_page(
    request: HttpRequest,
    template: str,
    form: forms.Form,
    *,
    error: services.AccountError | None = None,
    **context: Any,
) -> HttpResponse:
    """The form again, with what was refused under the field it concerns.

    A mistake of the person at the keyboard answers 400 (a wrong password too:
    a page is not an API client to challenge); too many attempts keep their
    429 and an unavailable region its 503, both with Retry-After."""
    status_code = 200
    if error is not None:
        form.add_error(error.field, error.detail)
    if form.is_bound and not form.is_valid():
        status_code = error.status if error and error.status in (429, 503) else 400
    return page_render(
        request, template, {"form": form, **context}, status=status_code, error=error
    )


def _signed_in(response: HttpResponse, tokens: Tokens) -> HttpResponse:
    set_token_cookies(response, tokens)
    response._mra_signed_in = True  # type: ignore[attr-defined]
    return response


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    form = SignInForm(request.POST or None)
    next_url = _next_url(request)
    if request.method != "POST" or not form.is_valid():
        return _form_page(request, "accounts/login.html", form, next=next_url)
    try:
        tokens = throttle.throttled_sign_in(request, **form.cleaned_data)
    except services.AccountError as exc:
        if exc.code == "user_not_confirmed":
            messages.info(
                request,
                "Confirm your e-mail address to finish creating your account: enter the code "
                "we sent you, or send a new one.",
            )
            return _confirm_redirect(form.cleaned_data["username"])
        return _form_page(request, "accounts/login.html", form, error=exc, next=next_url)
    return _signed_in(HttpResponseRedirect(next_url), tokens)


def _confirm_redirect(username: str) -> HttpResponse:
    query = urlencode({"username": username.strip()})
    return HttpResponseRedirect(f"{reverse('accounts:confirm')}?{query}")


@require_http_methods(["GET", "POST"])
def signup_view(request: HttpRequest) -> HttpResponse:
    form = SignUpForm(request.POST or None)
    if request.method != "POST" or not form.is_valid():
        return _form_page(request, "accounts/signup.html", form)
    try:
        outcome = services.user_sign_up(**form.cleaned_data)
        if not outcome.confirmed:
            messages.info(
                request,
                f"We sent a 6-digit code to {outcome.destination or 'your e-mail address'}. "
                "Enter it here to finish creating your account.",
            )
            return _confirm_redirect(form.cleaned_data["username"])
        tokens = services.user_sign_in(
            username=form.cleaned_data["username"], password=form.cleaned_data["password"]
        )
    except services.AccountError as exc:
        return _form_page(request, "accounts/signup.html", form, error=exc)
    messages.success(request, f"Welcome, {form.cleaned_data['username']}!")
    return _signed_in(HttpResponseRedirect("/"), tokens)


@require_http_methods(["GET", "POST"])
def confirm_view(request: HttpRequest) -> HttpResponse:
    """The code e-mailed at sign-up; "Send a new code" posts the same form."""
    if request.method != "POST":
        form = ConfirmSignUpForm(initial={"username": request.GET.get("username", "")[:32]})
        return _form_page(request, "accounts/confirm.html", form)
    resend = request.POST.get("action") == ConfirmSignUpForm.RESEND
    form = ConfirmSignUpForm(request.POST, resend=resend)
    if not form.is_valid():
        return _form_page(request, "accounts/confirm.html", form)
    username = form.cleaned_data["username"]
    try:
        if resend:
            destination = services.user_resend_code(username=username)
        else:
            tokens = services.user_confirm_sign_up(**form.cleaned_data)
    except services.AccountError as exc:
        return _form_page(request, "accounts/confirm.html", form, error=exc)
    if resend:
        messages.info(
            request,
            f"We sent a new code to {destination or 'your e-mail address'}. "
            "Earlier codes no longer work.",
        )
        return _confirm_redirect(username)
    messages.success(request, f"Your e-mail address is confirmed. Welcome, {username}!")
    return _signed_in(HttpResponseRedirect("/"), tokens)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    services.user_sign_out(
        refresh_token=refresh_tokens_from_cookies(request.COOKIES),
        access_token=request.COOKIES.get(ACCESS_COOKIE),
    )
    response = HttpResponseRedirect("/")
    clear_token_cookies(response)
    response._mra_signed_out = True
    return response


class TokenRequestSerializer(InputSerializer):
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


_TOKEN_REFUSALS = {
    401: "`invalid_credentials`: wrong username or password, or a refresh token that is "
    "invalid or expired",
    403: "`user_not_confirmed`: confirm the account with the e-mailed code first",
    429: "`too_many_attempts`: too many failed attempts for this username or from this "
    "address: wait for Retry-After seconds",
}


@extend_schema(
    request=TokenRequestSerializer,
    parameters=[retry_after(*RETRY_AFTER_ALWAYS)],
    responses={
        200: TokenResponseSerializer,
        **error_responses(
            (400, 401, 403, 413, 415, 429, 503),
            described=_TOKEN_REFUSALS,
            bodies={503: ErrorSerializer},
        ),
    },
    summary="Exchange a username and password, or a refresh token, for Cognito tokens",
)
@api_view(["POST"])
@authentication_classes([])
@permission_classes([])
def token_api(request: Request) -> Response:
    data = TokenRequestSerializer.parse(request.data)
    if data.get("refresh_token"):
        tokens = throttle.throttled_refresh(request, refresh_token=data["refresh_token"])
    else:
        tokens = throttle.throttled_sign_in(
            request, username=data["username"], password=data["password"]
        )
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
