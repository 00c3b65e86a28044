"""schemathesis hooks for Roster (loaded through SCHEMATHESIS_HOOKS)."""

import schemathesis


@schemathesis.check
def problem_json_errors(ctx, response, case):
    """Every error answer is application/problem+json with the Problem members (RFC 9457)."""
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.startswith("application/problem+json"), (
        f"{response.status_code} answered as {content_type!r}, not application/problem+json"
    )
    body = response.json()
    missing = [m for m in ("type", "title", "status", "code", "detail") if m not in body]
    assert not missing, f"problem without {missing}"
    assert body["status"] == response.status_code, "problem status differs from the HTTP status"
    return None
