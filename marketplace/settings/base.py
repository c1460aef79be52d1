"""Settings shared by every environment. Configuration comes only from environment variables.

Transactions: ATOMIC_REQUESTS is off. Services that move state or money own their transaction
(`@transaction.atomic(durable=True)`), which proves they are never nested in another one.
"""

from datetime import timedelta
from pathlib import Path

import django_stubs_ext
import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.utils.translation import gettext_lazy as _

# Generic Django classes (ModelAdmin[Order], ...) may be subscripted at runtime, as mypy wants them.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent.parent
LOCAL_DIR = BASE_DIR / ".local"  # git-ignored: embedded database, broker folders, media in development

env = environ.Env()

# The repository's development key is public: nothing that proves anything (webhook signatures) is
# derived from it. `make run` generates SECRET_KEY and the webhook secret into .local/secrets.env.
PUBLIC_DEVELOPMENT_SECRET_KEY = "dev-insecure-key-change-me-in-production-0123456789abcdef"
SECRET_KEY = env("SECRET_KEY", default=PUBLIC_DEVELOPMENT_SECRET_KEY)
DEBUG = env.bool("DEBUG", default=False)
# Tenants are resolved from the host name by TenantMiddleware, which answers 404 for unknown hosts.
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["*"])
SITE_URL_SCHEME = env("SITE_URL_SCHEME", default="http")
SITE_PORT = env("SITE_PORT", default="8000")

INSTALLED_APPS = [
    "core",
    "marketplace",
    "accounts",
    "partners",
    "rights",
    "listings",
    "escrow",
    "transfers",
    "financing",
    "demand",
    "negotiation",
    "marketplace.apps.PlatformAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django_fsm",
    "rest_framework",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "template_partials",
    "allauth",
    "allauth.account",
    "csp",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.tenancy.TenantMiddleware",
    "core.http_cache.PublicCacheMiddleware",  # before sessions: sees the final cookies and Vary
    "core.replicas.ReplicaPinMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "marketplace.i18n.TenantLocaleMiddleware",  # after auth: a logged-in user's saved language wins
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "axes.middleware.AxesMiddleware",  # last: answers a throttled login attempt (accounts/throttling.py)
]

ROOT_URLCONF = "marketplace.urls"
WSGI_APPLICATION = "marketplace.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.site",
            ],
        },
    }
]

# PostgreSQL always. DATABASE_URL when set, else the embedded server started by bin/dev.py (pgserver).
DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/ipex")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
# Streaming replicas (core/replicas.py): public pages read from them, with read-your-writes pinning and a
# lag bound; everything else uses the primary. Each URL becomes the alias replica_1, replica_2, ...
for _number, _url in enumerate(env.list("DATABASE_REPLICA_URLS", default=[]), 1):
    DATABASES[f"replica_{_number}"] = {
        **env.db_url_config(_url), "CONN_MAX_AGE": DATABASES["default"]["CONN_MAX_AGE"],
        "OPTIONS": {"connect_timeout": env.int("DATABASE_REPLICA_CONNECT_TIMEOUT", default=2)},
        "TEST": {"MIRROR": "default"},
    }
DATABASE_ROUTERS = ["core.replicas.ReplicaRouter"]
DATABASE_REPLICA_MAX_LAG_SECONDS = env.float("DATABASE_REPLICA_MAX_LAG_SECONDS", default=5.0)
DATABASE_REPLICA_PIN_SECONDS = env.float("DATABASE_REPLICA_PIN_SECONDS", default=15.0)  # > the lag bound
DATABASE_REPLICA_CHECK_SECONDS = env.float("DATABASE_REPLICA_CHECK_SECONDS", default=2.0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "accounts.throttling.LoginThrottleBackend",  # first: refuses throttled (IP, account) pairs
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "accounts:dashboard"

# django-allauth: email is the login, confirmed before the account can be used.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
# Failed logins are throttled by django-axes per (IP, account) (accounts/throttling.py), not by allauth's
# per-IP / per-account limits that let a stranger lock an account's owner out.
ACCOUNT_RATE_LIMITS = {"login_failed": False}
# How many reverse proxies in front of the site are ours (README: 1 behind the TLS proxy). The client IP
# is taken that many hops from the right of X-Forwarded-For; 0 = REMOTE_ADDR.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
# axes reads the address through core.net.client_ip (the same trusted-proxy rule; django-ipware, which its
# AXES_IPWARE_* settings need, is not installed).
AXES_CLIENT_IP_CALLABLE = "core.net.client_ip"
AXES_LOCKOUT_PARAMETERS = [["ip_address", "username"]]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "accounts.throttling.login_username"
AXES_LOCKOUT_CALLABLE = "accounts.throttling.locked_out"
AXES_HTTP_RESPONSE_CODE = 429

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(LOCAL_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Private files (core/storage.py): handed out only by permission-checked views, streamed, or (when the
# storage can sign, i.e. S3 in production) as a redirect to a URL that is valid for a few seconds.
PRIVATE_FILES_SIGNED_URLS = env.bool("PRIVATE_FILES_SIGNED_URLS", default=False)
PRIVATE_FILES_URL_SECONDS = env.int("PRIVATE_FILES_URL_SECONDS", default=60)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=10 * 1024 * 1024)
# The platform's certificate and key (PEM) that sign the final transfer papers (PAdES). `make run`
# generates a self-signed pair into .local/ when missing; production sets real paths.
PAPERS_SIGNING_CERT = env("PAPERS_SIGNING_CERT", default=str(LOCAL_DIR / "papers-signing-cert.pem"))
PAPERS_SIGNING_KEY = env("PAPERS_SIGNING_KEY", default=str(LOCAL_DIR / "papers-signing-key.pem"))

# Shared cache (API throttling, rate limits, sessions, the home page's counts, search facets' estimates):
# Django's Redis backend when REDIS_URL is set (no database query per request); otherwise the database
# cache, the embedded default. Its table is created by core's migrations whatever the settings, so it
# can never be missing. A Redis outage fails the cache's reads soft (see core.cache).
REDIS_URL = env("REDIS_URL", default="")
CACHE_TABLE = "ipex_cache"
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "core.cache.FailSoftRedisCache",
            "LOCATION": env("CACHE_REDIS_URL", default=REDIS_URL),
            "KEY_PREFIX": "ipex",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        },
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": CACHE_TABLE}}
# Figures that may be a minute old: the home page's counts by kind, search facets (per filters).
LISTINGS_CACHE_SECONDS = env.int("LISTINGS_CACHE_SECONDS", default=60)
# Anonymous public pages (home, search, listing) answered from the cache for min(their s-maxage, this):
# what nginx may keep anyway (core/http_cache.py); 0 turns it off.
PUBLIC_PAGE_CACHE_SECONDS = env.int("PUBLIC_PAGE_CACHE_SECONDS", default=60)
# Sessions: read from the cache, written through to the database (a cache flush logs nobody out).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="ipex <no-reply@ipex.local>")

# Celery. REDIS_URL when set; otherwise kombu's filesystem transport in .local/broker, which still
# runs a real worker process and beat with no service to install.
BROKER_DIR = LOCAL_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # A task whose worker died is redelivered after this long (Redis has no other way to know); money
    # tasks take seconds, and countdowns are kept below it. The sweeper (beat) finishes sooner still.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=600)}
    if REDIS_URL.startswith("sentinel://"):  # Redis Sentinel: "sentinel://s1:26379;sentinel://s2:26379"
        CELERY_BROKER_TRANSPORT_OPTIONS["master_name"] = env("REDIS_SENTINEL_MASTER", default="ipex")
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
        "control_folder": str(BROKER_DIR / "control"),
    }
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(LOCAL_DIR / "celerybeat-schedule")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Every periodic task, in one place (deterministic whatever order modules are imported in).
CELERY_BEAT_SCHEDULE = {
    "relay-outbox": {"task": "core.tasks.relay_outbox", "schedule": 30.0},
    "listings-recheck-register": {
        "task": "listings.tasks.recheck_all_tenants", "schedule": crontab(hour=3, minute=30),
    },
    "listings-flush-views": {"task": "listings.tasks.flush_listing_views", "schedule": 60.0},
    "listings-search-vocabulary": {
        "task": "listings.tasks.refresh_search_vocabulary", "schedule": crontab(hour=4, minute=10),
    },
    "escrow-retry-disbursements": {"task": "escrow.tasks.retry_disbursements", "schedule": 300.0},
    "escrow-sweep-in-flight": {"task": "escrow.tasks.sweep_in_flight", "schedule": 60.0},
    "transfers-poll-offices": {
        "task": "transfers.tasks.poll_offices", "schedule": env.float("TRANSFER_POLL_INTERVAL", default=60.0),
    },
    "transfers-poll-recordals": {
        "task": "transfers.tasks.poll_recordals", "schedule": env.float("TRANSFER_POLL_INTERVAL", default=60.0),
    },
    "transfers-enforce-deadlines": {
        "task": "transfers.tasks.enforce_deadlines", "schedule": env.float("TRADE_DEADLINES_INTERVAL", default=300.0),
    },
    "negotiation-expire-offers": {"task": "negotiation.tasks.expire_offers", "schedule": 300.0},
    "negotiation-royalty-deadlines": {"task": "negotiation.tasks.enforce_royalty_deadlines", "schedule": 3600.0},
    "partners-retry-webhooks": {"task": "partners.tasks.retry_webhooks", "schedule": 30.0},
    "rights-monitor": {"task": "rights.tasks.monitor_rights", "schedule": env.float("RIGHTS_MONITOR_INTERVAL",
                                                                                    default=600.0)},
    "rights-alert-digests": {"task": "rights.tasks.send_alert_digests",
                             "schedule": env.float("RIGHTS_DIGEST_INTERVAL", default=86400.0)},
    "partners-purge-idempotency": {"task": "partners.tasks.purge_idempotency_records", "schedule": 3600.0},
    "demand-finish-auctions": {"task": "demand.tasks.finish_due_auctions", "schedule": 15.0},
    "financing-expire-deadlines": {"task": "financing.tasks.expire_deadlines", "schedule": 300.0},
    "financing-release-appraisal-fees": {"task": "financing.tasks.release_due_appraisal_fees", "schedule": 900.0},
    "financing-alert-overdue-dispute-answers": {"task": "financing.tasks.alert_overdue_dispute_answers",
                                                "schedule": 900.0},
    "financing-alert-overdue-service-fees": {"task": "financing.tasks.alert_overdue_service_fees",
                                             "schedule": 3600.0},
}

# Partner API (partners/): API-key authentication that sets the tenant from the key, scopes,
# per-key throttling, cursor pagination, problem details (RFC 9457) for every error.
# The partner API's key model and idempotency store (the REST infrastructure in core/api/ names them
# here, as Django names AUTH_USER_MODEL, so the library imports no app).
# Financing: the exchange's fee for arranging a pledge loan (basis points of the amount paid out, charged
# to the borrower through the ledger) and its commission on an appraisal fee held in escrow.
FINANCING_SERVICE_FEE_BPS = env.int("FINANCING_SERVICE_FEE_BPS", default=50)
# Defaults when an exchange has no `financing.FinancingTerms` row: minimum fee (minor units of the
# exchange's currency) and the days the borrower has to pay it after the disbursement.
FINANCING_SERVICE_FEE_MIN_MINOR = env.int("FINANCING_SERVICE_FEE_MIN_MINOR", default=0)
FINANCING_SERVICE_FEE_DAYS = env.int("FINANCING_SERVICE_FEE_DAYS", default=30)
APPRAISAL_COMMISSION_BPS = env.int("APPRAISAL_COMMISSION_BPS", default=1000)
# Appraisals: the client may dispute a delivered report for this many days (then the fee is released);
# the appraiser answers a dispute within APPRAISAL_ANSWER_DAYS. Reports must carry a PDF signature
# whose certificate chains to one of APPRAISAL_TRUST_ROOTS (PEM/DER paths of the authorities the
# exchange accepts for appraisers' signing certificates).
# Pledge loans: an application expires when no offer is accepted within FINANCING_APPLICATION_DAYS; a
# lender's offer is valid FINANCING_OFFER_DAYS unless the lender says otherwise (1 to 90 days).
FINANCING_APPLICATION_DAYS = env.int("FINANCING_APPLICATION_DAYS", default=30)
FINANCING_OFFER_DAYS = env.int("FINANCING_OFFER_DAYS", default=14)
APPRAISAL_DISPUTE_DAYS = env.int("APPRAISAL_DISPUTE_DAYS", default=14)
APPRAISAL_ANSWER_DAYS = env.int("APPRAISAL_ANSWER_DAYS", default=5)
APPRAISAL_TRUST_ROOTS = env.list("APPRAISAL_TRUST_ROOTS", default=[])
# Revocation of appraisers' signing certificates (financing/signatures.py): CRL files the exchange keeps
# (paths), whether to fetch the CRLs / OCSP answers the certificates name at upload (on in production;
# the test settings turn it off: no network in tests), and pyHanko's revocation mode.
APPRAISAL_CRLS = env.list("APPRAISAL_CRLS", default=[])
APPRAISAL_REVOCATION_FETCH = env.bool("APPRAISAL_REVOCATION_FETCH", default=True)
APPRAISAL_REVOCATION_MODE = env("APPRAISAL_REVOCATION_MODE", default="hard-fail")
# Require a timestamp token on appraisal report signatures, from a TSA chaining to APPRAISAL_TSA_ROOTS.
APPRAISAL_REQUIRE_TIMESTAMP = env.bool("APPRAISAL_REQUIRE_TIMESTAMP", default=False)
APPRAISAL_TSA_ROOTS = env.list("APPRAISAL_TSA_ROOTS", default=[])

# Panels the trade extensions add to the listing page (listings imports no higher app; it calls these).
LISTING_DETAIL_PANELS = ["financing.panels.listing_valuation_panel"]

CELERY_APP = "marketplace.celery.app"  # what core.outbox publishes through

API_KEY_MODEL = "partners.PartnerAPIKey"
API_IDEMPOTENCY_STORE = "partners.idempotency"

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.PartnerAutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": ["core.api.authentication.PartnerKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["core.api.permissions.HasScope"],
    "DEFAULT_THROTTLE_CLASSES": ["core.api.throttling.PartnerKeyThrottle"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.PartnerCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_RENDERER_CLASSES": ["core.api.renderers.SafeJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.api.parsers.SafeJSONParser"],
    "EXCEPTION_HANDLER": "core.api.problems.exception_handler",
    "UNAUTHENTICATED_USER": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
API_THROTTLE_RATE = env("API_THROTTLE_RATE", default="1200/min")
# A partner's key is read from the database once per this many seconds per process (core.api.authentication):
# a revocation reaches the other processes within it; 0 reads the key on every call.
API_KEY_CACHE_SECONDS = env.int("API_KEY_CACHE_SECONDS", default=5)
# Webhook URLs on loopback/private networks (development receivers only; never in production).
WEBHOOK_ALLOW_PRIVATE_HOSTS = env.bool("WEBHOOK_ALLOW_PRIVATE_HOSTS", default=False)
SPECTACULAR_SETTINGS = {
    "TITLE": "ipex partner API",
    "DESCRIPTION": (
        "Trade patents and trademarks with payment held in escrow by the exchange.\n\n"
        "**Keys.** Send `Authorization: Api-Key <prefix>.<secret>` (issued by the exchange's administrator). "
        "The key decides the exchange and acts as its organization: call the API on that exchange's host "
        "name (another exchange's host answers 401); other organizations' objects answer 404.\n\n"
        "**Retries.** Every POST accepts `Idempotency-Key`: the same key and body replay the first answer "
        "(`Idempotent-Replayed: true`), the same key with another body is refused with 422.\n\n"
        "**Errors** are problem details (RFC 9457, `application/problem+json`) with messages per field in "
        "`errors`, in the language of `Accept-Language` (zh-hans, en). Lists are cursor-paginated (follow "
        "`next`). Too many requests for a key: 429 with `Retry-After`.\n\n"
        "**Webhooks** carry `X-Ipex-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of \"<t>.<raw body>\">` "
        "with the endpoint's secret; they are retried with backoff for a day. Amounts are integers in minor "
        "units of the exchange's currency."
    ),
    "VERSION": "1.0.0",
    "TAGS": [
        {"name": "key", "description": "Who the key acts as"},
        {"name": "register", "description": "The rights register"},
        {"name": "listings", "description": "The market: published listings"},
        {"name": "seller listings", "description": "Your organization's listings, bulk import"},
        {"name": "orders", "description": "Escrowed orders and the actions of each party"},
        {"name": "transfer papers", "description": "Papers to sign, office notices"},
        {"name": "webhooks", "description": "Signed event notifications"},
    ],
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_AUTHENTICATION": [],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "ENUM_NAME_OVERRIDES": {
        "ListingStateEnum": "listings.models.Listing.State",
        "OrderStateEnum": "escrow.models.OrderState",
        "PaymentStateEnum": "escrow.models.Payment.State",
        "DisbursementStateEnum": "escrow.models.Disbursement.State",
        "DisbursementKindEnum": "escrow.models.Disbursement.Kind",
        "RightKindEnum": "listings.models.RightKind",
        "WantDealTypeEnum": "demand.models.DealWanted",
        "DealTypeEnum": "listings.models.Listing.DealType",
        "JurisdictionEnum": "rights.models.Jurisdiction",
        "OfferStateEnum": "negotiation.models.Offer.State",
    },
    "PATH_CONVERTER_OVERRIDES": {
        "id": {"type": "integer", "minimum": 1, "maximum": 999999999999999999},
        "ref": {"type": "string", "pattern": "^[A-Za-z0-9-]{1,20}$"},
    },
}

# Simulated gateways (DESIGN section 4). The scale multiplies every simulated delay: 1.0 is real time.
SIMULATION_TIME_SCALE = env.float("SIMULATION_TIME_SCALE", default=1.0)
# The simulated payment provider lets the payer approve their own payment: the embedded default for
# development and demos, switched off in production (settings/production.py) unless asked for.
ESCROW_SIMULATED_PAYMENTS = env.bool("ESCROW_SIMULATED_PAYMENTS", default=True)
# Per installation, never in the repository (bin/dev.py writes one into .local/secrets.env).
ESCROW_SIMULATED_WEBHOOK_SECRET = env("ESCROW_SIMULATED_WEBHOOK_SECRET", default="")
# Payments and payouts in flight longer than this are finished by the sweeper (escrow/services/sweeper.py).
ESCROW_SWEEP_AFTER_SECONDS = env.int("ESCROW_SWEEP_AFTER_SECONDS", default=180)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

TENANT_LABEL = _("exchange")

# Content-Security-Policy on every page (django-csp 4): scripts only from our own static files (no
# inline handlers: static/js/site.js), no plugins, never framed. Inline *styles* stay allowed: the
# tenant's brand colours, htmx's indicator styles and the admin use them.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
    },
}
# --- Rights registers (rights/registry): live adapters per jurisdiction/kind; embedded otherwise ---
# Credentials come from the environment only: USPTO_ODP_API_KEY, USPTO_TSDR_API_KEY, EPO_OPS_KEY +
# EPO_OPS_SECRET. An adapter is switched on by REGISTER_LIVE (comma list: uspto_odp, uspto_tsdr, epo_ops).
_REGISTER_LIVE = {s.strip() for s in env("REGISTER_LIVE", default="").split(",") if s.strip()}
REGISTER_ADAPTERS = {
    **({"US": "rights.registry.uspto_odp.OdpRegister"} if "uspto_odp" in _REGISTER_LIVE else {}),
    **({"US:trademark": "rights.registry.uspto_tsdr.TsdrRegister"} if "uspto_tsdr" in _REGISTER_LIVE else {}),
    **({"EP": "rights.registry.epo_ops.OpsRegister"} if "epo_ops" in _REGISTER_LIVE else {}),
}
REGISTER_TIMEOUT_SECONDS = env.float("REGISTER_TIMEOUT_SECONDS", default=10.0)
REGISTER_RETRIES = env.int("REGISTER_RETRIES", default=3)
REGISTER_BACKOFF_SECONDS = env.float("REGISTER_BACKOFF_SECONDS", default=0.5)
REGISTER_CACHE_SECONDS = env.int("REGISTER_CACHE_SECONDS", default=86400)
REGISTER_MISS_SECONDS = env.int("REGISTER_MISS_SECONDS", default=3600)
USPTO_ODP_BASE_URL = env("USPTO_ODP_BASE_URL", default="https://api.uspto.gov")
USPTO_TSDR_BASE_URL = env("USPTO_TSDR_BASE_URL", default="https://tsdrapi.uspto.gov")
