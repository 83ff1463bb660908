"""Real Flask as a test oracle for flagon/flask (run with Debian's /usr/bin/python3 + python3-flask).

Reads one JSON batch on stdin: {"ops": [{"op": ..., ...}, ...]} and prints {"results": [...]}.
Values cross the boundary as typed JSON (test/fixtures/flask/README.md section 3), plus
{"$float": "<literal>"} for any finite float, so that 1.0 and 1 stay apart.
"""
import base64
import datetime
import json
import math
import sys
import uuid

import itsdangerous.timed
from flask import Flask, flash, get_flashed_messages, jsonify, request, session
from itsdangerous.encoding import base64_decode
from markupsafe import Markup
from werkzeug.http import parse_date

UTC = datetime.timezone.utc


def from_typed(j):
    if isinstance(j, list):
        return [from_typed(x) for x in j]
    if isinstance(j, dict):
        if len(j) == 1:
            ((k, v),) = j.items()
            if k.startswith("$"):
                if k == "$tuple":
                    return tuple(from_typed(x) for x in v)
                if k == "$bytes":
                    return base64.b64decode(v)
                if k == "$markup":
                    return Markup(v)
                if k == "$uuid":
                    return uuid.UUID(v)
                if k == "$datetime":
                    return datetime.datetime.fromisoformat(v.replace("Z", "+00:00"))
                if k == "$int":
                    return int(v)
                if k == "$float":
                    return float(v)
                if k == "$dict":
                    ((ik, iv),) = v.items()
                    return {ik: from_typed(iv)}
                raise ValueError("unknown typed JSON tag " + k)
        return {k: from_typed(x) for k, x in j.items()}
    return j


def to_typed(v):
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, Markup):
        return {"$markup": str(v)}
    if isinstance(v, str):
        return v
    if isinstance(v, int):
        return v if abs(v) <= 2**53 - 1 else {"$int": str(v)}
    if isinstance(v, float):
        if math.isnan(v):
            return {"$float": "NaN"}
        if math.isinf(v):
            return {"$float": "Infinity" if v > 0 else "-Infinity"}
        return v
    if isinstance(v, tuple):
        return {"$tuple": [to_typed(x) for x in v]}
    if isinstance(v, list):
        return [to_typed(x) for x in v]
    if isinstance(v, bytes):
        return {"$bytes": base64.b64encode(v).decode("ascii")}
    if isinstance(v, uuid.UUID):
        return {"$uuid": str(v)}
    if isinstance(v, datetime.datetime):
        return {"$datetime": v.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"}
    if isinstance(v, dict):
        d = {k: to_typed(x) for k, x in v.items()}
        if len(d) == 1 and next(iter(d)).startswith("$"):
            return {"$dict": d}
        return d
    raise TypeError("cannot type " + type(v).__name__)


def make_app(secret, max_age=None):
    app = Flask("flask_oracle")
    app.secret_key = secret
    if max_age is not None:
        app.permanent_session_lifetime = datetime.timedelta(seconds=max_age)

    @app.post("/mint")
    def mint():
        spec = request.get_json()
        for key, value in from_typed(spec["data"]).items():
            session[key] = value
        for category, message in spec.get("flashes", []):
            flash(message, category)
        if spec.get("permanent"):
            session.permanent = True
        return "minted"

    @app.get("/read")
    def read():
        snapshot = to_typed(dict(session))
        permanent = session.permanent
        flashes = get_flashed_messages(with_categories=True)
        return jsonify(session=snapshot, permanent=permanent, flashes=[list(f) for f in flashes])

    return app


class frozen_time:
    """Pins itsdangerous' clock (it reads int(time.time()))."""

    def __init__(self, now):
        self.now = now

    def __enter__(self):
        self.saved = itsdangerous.timed.time.time
        if self.now is not None:
            itsdangerous.timed.time.time = lambda: self.now

    def __exit__(self, *exc):
        itsdangerous.timed.time.time = self.saved


def set_cookie_value(response):
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith("session="):
            return header.split(";", 1)[0][len("session=") :], header
    return None, None


def run(op):
    kind = op["op"]
    if kind == "dumps":
        app = make_app(op["secret"])
        # In an app context, as in save_session: flask.json.dumps then sorts keys (app.json).
        with app.app_context(), frozen_time(op.get("now")):
            return app.session_interface.get_signing_serializer(app).dumps(from_typed(op["session"]))
    if kind == "loads":
        app = make_app(op["secret"])
        max_age = op.get("max_age", int(app.permanent_session_lifetime.total_seconds()))
        with app.app_context(), frozen_time(op.get("now")):
            try:
                data = app.session_interface.get_signing_serializer(app).loads(op["cookie"], max_age=max_age)
            except Exception as e:  # report the reason, the test decides
                return {"error": type(e).__name__}
        return {"session": to_typed(dict(data or ()))}
    if kind == "mint":
        app = make_app(op["secret"], op.get("max_age"))
        response = app.test_client(use_cookies=False).post("/mint", json=op)
        value, header = set_cookie_value(response)
        return {"status": response.status_code, "cookie": value, "set_cookie": header}
    if kind == "read":
        app = make_app(op["secret"], op.get("max_age"))
        client = app.test_client(use_cookies=False)
        response = client.get("/read", headers={"Cookie": "session=" + op["cookie"]})
        if response.status_code != 200:
            return {"status": response.status_code}
        body = response.get_json()
        value, _ = set_cookie_value(response)
        body.update(status=200, cookie=value)
        return body
    if kind == "b64":
        out = []
        for text in op["inputs"]:
            row = {}
            try:
                row["segment"] = base64.b64encode(base64_decode(text)).decode("ascii")
            except Exception:
                row["segment"] = None
            try:
                row["standard"] = base64.b64encode(base64.b64decode(text)).decode("ascii")
            except Exception:
                row["standard"] = None
            out.append(row)
        return out
    if kind == "parse_date":
        out = []
        for text in op["inputs"]:
            try:
                parsed = parse_date(text)
            except Exception:
                out.append("error")
                continue
            if parsed is None:
                out.append(None)
            else:
                try:
                    out.append(parsed.timestamp())
                except (OverflowError, ValueError, OSError):
                    out.append("overflow")
        return out
    if kind == "session_loads":
        # What open_session makes of a verified payload: SecureCookieSession(serializer.loads(text)).
        app = make_app("unused")
        out = []
        with app.app_context():
            for text in op["inputs"]:
                try:
                    data = dict(app.session_interface.session_class(app.session_interface.serializer.loads(text)))
                except Exception:
                    out.append("error")
                    continue
                if not all(isinstance(k, str) for k in data):
                    out.append("non-string-key")
                    continue
                try:
                    out.append({"session": to_typed(data)})
                except (OverflowError, ValueError):  # e.g. year 1 at +01:00 has no UTC form
                    out.append("untypable")
        return out
    if kind == "float_repr":
        return [json.dumps(float(text)) for text in op["inputs"]]
    raise ValueError("unknown op " + kind)


def main():
    batch = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    sys.stdout.write(json.dumps({"results": [run(op) for op in batch["ops"]]}))


if __name__ == "__main__":
    main()
