"""Unknown paths under /api/ answer a problem-details 404 (not the website's HTML page)."""

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from .problems import PROBLEM_CONTENT_TYPE


@csrf_exempt
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    body = {"type": "urn:ipex:problem:not_found", "title": str(_("Not found")), "status": 404,
            "detail": str(_("There is no API operation at this path; see /api/docs/.")), "instance": request.path,
            "code": "not_found"}
    return HttpResponse(json.dumps(body, ensure_ascii=False), status=404, content_type=PROBLEM_CONTENT_TYPE)
