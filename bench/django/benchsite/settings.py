"""Settings for the benchmark site: the smallest Django that answers JSON.

No database, no sessions, no templates: what is measured is the server
(runserver or gunicorn) and the proxy in front of it, not Django's ORM.
"""
SECRET_KEY = "bench-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "benchsite.urls"
INSTALLED_APPS = []
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
DATABASES = {}
USE_TZ = True
WSGI_APPLICATION = "benchsite.wsgi.application"
# runserver logs every request to stderr; the bench discards it.
LOGGING = {"version": 1, "disable_existing_loggers": False}
