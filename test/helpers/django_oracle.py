"""Real Django (Debian's python3-django, 3.2) for flagon's tests: mints session cookies with
Django's own signed_cookies session backend and reads cookies with the exact call that backend
makes (django.core.signing.loads), so the tests compare flagon with Django itself.

Reads {"ops": [...]} as JSON on stdin and writes {"results": [...]} on stdout. Operations:
  {"op": "mint", "secret_key", "data", "now", "algorithm"?: "sha256" | "sha1"}
      -> {"cookie"}: SessionStore().save() of the signed_cookies backend at time `now` (seconds)
  {"op": "load", "secret_key", "cookie", "now", "max_age"?, "salt"?}
      -> {"ok": true, "data"} or {"ok": false, "error": "<exception class>"}
Run with /usr/bin/python3 (the interpreter python3-django installs into).
"""

import json
import sys
import time
import warnings

import django
from django.conf import settings

warnings.simplefilter("ignore")  # DEFAULT_HASHING_ALGORITHM is a deprecated (transitional) setting in 3.2

settings.configure(
    SECRET_KEY="replaced per operation",
    SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
    INSTALLED_APPS=["django.contrib.sessions"],
    USE_TZ=True,
)
django.setup()

from django.contrib.sessions.backends.signed_cookies import SessionStore  # noqa: E402
from django.core import signing  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

SALT = "django.contrib.sessions.backends.signed_cookies"
real_time = time.time


def at(now):
    """Django's signing reads time.time(): pin it to `now` for one operation."""
    time.time = lambda: float(now)


def mint(op):
    at(op["now"])
    with override_settings(SECRET_KEY=op["secret_key"], DEFAULT_HASHING_ALGORITHM=op.get("algorithm", "sha256")):
        store = SessionStore()
        store.update(op["data"])
        store.save()
        return {"cookie": store.session_key}


def load(op):
    at(op["now"])
    with override_settings(SECRET_KEY=op["secret_key"]):
        try:
            # The call SessionStore.load() makes (it turns every exception into an empty session).
            data = signing.loads(
                op["cookie"],
                serializer=SessionStore().serializer,
                max_age=op.get("max_age", settings.SESSION_COOKIE_AGE),
                salt=op.get("salt", SALT),
            )
            return {"ok": True, "data": data}
        except Exception as error:  # noqa: BLE001 - the backend catches everything too
            return {"ok": False, "error": type(error).__name__}


OPS = {"mint": mint, "load": load}


def main():
    ops = json.load(sys.stdin)["ops"]
    results = []
    for op in ops:
        try:
            results.append(OPS[op["op"]](op))
        finally:
            time.time = real_time
    json.dump({"django": django.get_version(), "results": results}, sys.stdout)


main()
