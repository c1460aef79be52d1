from django.conf import settings
from django.middleware.csrf import CsrfViewMiddleware
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from accounts.services import user_update_profile


def offered_languages(tenant) -> list[str]:
    return list(tenant.languages) if tenant and tenant.languages else [c for c, _ in settings.LANGUAGES]


class TenantLocaleMiddleware:
    """Language: a logged-in user's saved choice > the visitor's choice (cookie) > browser languages
    the tenant offers > the tenant's default. Runs after AuthenticationMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request, "tenant", None)
        offered = offered_languages(tenant)
        default = tenant.default_language if tenant else settings.LANGUAGE_CODE
        user = getattr(request, "user", None)
        language = None
        if user is not None and user.is_authenticated and user.language in offered:
            language = user.language
        if language is None:
            language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language not in offered:
            language = None
            accept = translation.get_language_from_request(request)
            if accept in offered and request.headers.get("Accept-Language"):
                language = accept
        language = language or default
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        response.headers.setdefault("Content-Language", language)
        translation.deactivate()
        return response


@csrf_exempt
@require_POST
def set_language(request):
    """Django's set_language (cookie, redirect to `next`), limited to the tenant's languages, and saved on
    the profile of a logged-in user so every device and every email follows.

    An anonymous visitor's choice only sets the language cookie, so the switcher carries no CSRF token
    for them (an anonymous page then sets no cookie and can be cached publicly); a signed-in user's
    choice changes the profile and is CSRF-checked as any other form."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        refused = CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {})
        if refused is not None:
            return refused
    language = request.POST.get("language", "")
    if language not in offered_languages(getattr(request, "tenant", None)):
        request.POST = request.POST.copy()
        request.POST["language"] = ""  # Django then just redirects without changing anything
    response = django_set_language(request)
    if language in offered_languages(getattr(request, "tenant", None)) and user is not None and user.is_authenticated:
        user_update_profile(user=user, language=language)
    return response
