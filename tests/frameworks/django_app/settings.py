"""Settings for the test project: no database, sessions in signed cookies."""

SECRET_KEY = "not-a-secret"
DEBUG = False
# Let unhandled exceptions out of the ASGI app, so that raise_server_exceptions=True
# re-raises them in the test; without it Django answers 500 itself.
DEBUG_PROPAGATE_EXCEPTIONS = True
ALLOWED_HOSTS = ["testserver"]
ROOT_URLCONF = "tests.frameworks.django_app.urls"
INSTALLED_APPS: list[str] = []
MIDDLEWARE = ["django.contrib.sessions.middleware.SessionMiddleware"]
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True
