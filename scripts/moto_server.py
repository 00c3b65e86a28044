"""moto server for Roster's local stack, plus the email outbox.

moto keeps what SES and SNS receive inside its own process, so this wrapper serves moto's normal
API and, at GET /_roster/outbox, the messages SES v2 accepted, newest last, as
[{"to": [...], "subject": "...", "raw": "<whole MIME message>"}], and at GET /_roster/sns the
messages published to each SNS platform endpoint (phones), as {"<endpoint arn>": ["<message>"]}.

Usage: python moto_server.py HOST PORT
"""

import email
import email.policy
import json
import sys

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.ses.models import RawMessage, ses_backends
from moto.sns.models import sns_backends
from werkzeug.serving import make_server

OUTBOX_PATH = "/_roster/outbox"
SNS_PATH = "/_roster/sns"


def outbox():
    messages = []
    for _account, regions in ses_backends.items():
        for _region, backend in regions.items():
            for message in backend.sent_messages:
                if isinstance(message, RawMessage):
                    parsed = email.message_from_string(message.raw_data, policy=email.policy.default)
                    messages.append(
                        {
                            # moto lists a raw message's recipients twice (header and destination).
                            "to": list(dict.fromkeys(message.destinations)),
                            "subject": str(parsed.get("Subject", "")),
                            "raw": message.raw_data,
                        }
                    )
                else:
                    messages.append(
                        {
                            "to": list(message.destinations.get("ToAddresses", [])),
                            "subject": message.subject,
                            "raw": message.body,
                        }
                    )
    return messages


def phone_messages():
    published = {}
    for _account, regions in sns_backends.items():
        for _region, backend in regions.items():
            for arn, endpoint in backend.platform_endpoints.items():
                published[arn] = list(endpoint.messages.values())
    return published


def with_outbox(moto_app):
    views = {OUTBOX_PATH: outbox, SNS_PATH: phone_messages}

    def app(environ, start_response):
        view = views.get(environ.get("PATH_INFO"))
        if view is not None and environ.get("REQUEST_METHOD") == "GET":
            body = json.dumps(view()).encode("utf-8")
            start_response(
                "200 OK",
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
            )
            return [body]
        return moto_app(environ, start_response)

    return app


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    app = with_outbox(DomainDispatcherApplication(create_backend_app))
    server = make_server(host, port, app, threaded=True)
    print(f"moto listening on http://{host}:{port} (outbox at {OUTBOX_PATH})", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
