"""Credentials for fuzzing a running local API: prints shell `export` lines.

Creates an organisation of its own through the platform endpoint (the demo organisation stays
clean) with vehicles and hidden profiles allowed, so those operations are reached past their
feature checks; logs its Admin in; enrols the Admin in TOTP, so the session stays usable even when
the fuzzer turns `require_mfa` on; creates an organisation API key and a site.

usage: credentials.py DEV_JSON
"""

import base64
import hashlib
import hmac
import json
import secrets
import struct
import sys
import time
import urllib.request

dev = json.load(open(sys.argv[1]))
base = dev["base_url"]


def call(method, path, body=None, token=None):
    request = urllib.request.Request(base + path, method=method)
    if body is not None:
        request.data = json.dumps(body).encode()
        request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def totp(secret):
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


password = "Fuzz-" + secrets.token_urlsafe(12) + "-7a"
email = f"fuzz.{secrets.token_hex(6)}@fuzz.roster.example"
created = call("POST", "/v1/platform/organisations", {
    "name": "Fuzzing",
    "settings": {"vehicles_enabled": True, "allow_hide_profile": True},
    "admin": {"first_name": "Fuzz", "last_name": "Admin", "email": email, "password": password},
}, dev["platform_token"])
session = call("POST", "/v1/auth/login", {"email": email, "password": password})["token"]
enrolment = call("POST", "/v1/me/mfa/totp", {"password": password}, session)
call("POST", "/v1/me/mfa/totp/confirm", {"code": totp(enrolment["secret"])}, session)
key = call("POST", "/v1/admin/api-keys", {"name": "Fuzzing"}, session)["key"]
call("POST", "/v1/admin/sites", {"name": "Fuzz HQ"}, session)

print(f"export ROSTER_FUZZ_BASE_URL={base}")
print(f"export ROSTER_FUZZ_SESSION={session}")
print(f"export ROSTER_FUZZ_API_KEY={key}")
print(f"export ROSTER_FUZZ_PLATFORM_TOKEN={dev['platform_token']}")
print(f"export ROSTER_FUZZ_ORGANISATION={created['organisation']['id']}")
