"""Checks a dev.json against DESIGN.md section 8: all nine keys, and each one usable.

Usage: dev-json-check.py <dev.json>. Prints what failed and exits 1, or exits 0 quietly.
"""
import json
import sys
import urllib.error
import urllib.request

KEYS = {"base_url", "organisation_id", "admin_email", "admin_password", "platform_token",
        "import_bucket", "aws_endpoint", "dynamodb_endpoint", "outbox_url"}


def call(url, body=None, token=None, method=None):
    """(status, parsed JSON or None) of one HTTP request."""
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, None


def problems(dev):
    missing = KEYS - dev.keys()
    if missing:
        return [f"missing keys: {sorted(missing)}"]
    found = []
    status, session = call(f"{dev['base_url']}/v1/auth/login",
                           {"email": dev["admin_email"], "password": dev["admin_password"]})
    if status != 200:
        return [f"the admin of dev.json could not log in ({status})"]
    status, me = call(f"{dev['base_url']}/v1/me", token=session["token"])
    if status != 200 or me.get("organisation_id") != dev["organisation_id"]:
        found.append(f"the admin's organisation is not organisation_id ({status}, {me})")
    # A platform call with an invalid body: 422 means the token was accepted, 401 that it was not.
    status, _ = call(f"{dev['base_url']}/v1/platform/organisations", {}, token=dev["platform_token"])
    if status != 422:
        found.append(f"platform_token was not accepted ({status})")
    status, _ = call(f"{dev['aws_endpoint']}/{dev['import_bucket']}", method="HEAD")
    if status != 200:
        found.append(f"import_bucket is not a bucket at aws_endpoint ({status})")
    status, outbox = call(dev["outbox_url"])
    if status != 200 or not isinstance(outbox, list):
        found.append(f"outbox_url does not answer a JSON list ({status})")
    try:
        urllib.request.urlopen(dev["dynamodb_endpoint"], timeout=10)
    except urllib.error.HTTPError:
        pass  # DynamoDB Local answers a bare GET with an error status: it is listening.
    except OSError as error:
        found.append(f"dynamodb_endpoint does not answer ({error})")
    return found


if __name__ == "__main__":
    with open(sys.argv[1]) as file:
        failures = problems(json.load(file))
    for failure in failures:
        print(f"dev.json: {failure}", file=sys.stderr)
    sys.exit(1 if failures else 0)
