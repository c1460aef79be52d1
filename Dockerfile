# Production image: gunicorn serves the web; the same image runs the Celery worker and beat.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=marketplace.settings.production \
    MEDIA_ROOT=/data/media \
    PORT=8000

WORKDIR /app

# Locked dependencies first, so code changes do not reinstall them (all wheels: no compiler needed).
COPY requirements.lock ./
RUN pip install -r requirements.lock

COPY . .

# Static files (hashed and compressed for whitenoise). The build needs placeholder secrets only.
RUN SECRET_KEY=collectstatic-only ALLOWED_HOSTS=localhost python manage.py collectstatic --noinput \
 && useradd --system --uid 1000 --home /app ipex \
 && mkdir -p /data/media /app/.local \
 && chown -R ipex /data /app/.local

USER ipex
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import os,urllib.request,sys; r=urllib.request.Request('http://127.0.0.1:%s/healthz' % os.environ.get('PORT','8000'), headers={'X-Forwarded-Proto':'https'}); sys.exit(0 if urllib.request.urlopen(r, timeout=4).status==200 else 1)"

CMD ["sh", "-c", "exec gunicorn marketplace.wsgi:application --bind 0.0.0.0:${PORT} --workers ${WEB_CONCURRENCY:-3} --timeout 60 --access-logfile - --forwarded-allow-ips='*'"]
