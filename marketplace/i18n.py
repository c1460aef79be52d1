from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers


class TenantLocaleMiddleware:
    """Language: the visitor's choice (cookie) > browser languages the tenant offers > tenant default."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request, "tenant", None)
        offered = (tenant.languages if tenant and tenant.languages else [c for c, _ in settings.LANGUAGES])
        default = tenant.default_language if tenant else settings.LANGUAGE_CODE
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
