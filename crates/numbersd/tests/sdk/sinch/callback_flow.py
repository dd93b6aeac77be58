"""Sinch callbacks checked with Sinch's official Python SDK (sinch==2.3.0): sets the project's
callbackConfiguration (hmacSecret) through the SDK, rents a number with an SMS configuration and a
callbackUrl pointing at a receiver this script runs on 127.0.0.1, waits for numbersd's
PROVISIONING_TO_SMS_PLATFORM callback, and verifies it with the SDK's own validator
(`client.numbers.sinch_events(secret).validate_authentication_header`) and parser. Reads
NUMBERSD_BASE_URL, SINCH_PROJECT_ID, SINCH_KEY_ID, SINCH_KEY_SECRET; prints one JSON document;
exits non-zero on any failure."""

import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sinch import SinchClient

received = []


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        received.append((dict(self.headers.items()), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=server.serve_forever, daemon=True).start()
callback_url = f"http://127.0.0.1:{server.server_address[1]}/sinch-callbacks"

base = os.environ["NUMBERSD_BASE_URL"]
client = SinchClient(
    project_id=os.environ["SINCH_PROJECT_ID"],
    key_id=os.environ["SINCH_KEY_ID"],
    key_secret=os.environ["SINCH_KEY_SECRET"],
)
client.configuration.auth_origin = base
client.configuration.numbers_origin = base
numbers = client.numbers

secret = "py-callback-secret-0123456789-abcdef"
numbers.event_destinations.update(hmac_secret=secret)
rented = numbers.rent(
    phone_number="+12065550123",
    sms_configuration={"service_plan_id": "py-callback-plan"},
    event_destination_target=callback_url,
)

deadline = time.time() + 30
while not received and time.time() < deadline:
    time.sleep(0.05)
if not received:
    sys.exit("no callback within 30 s")
headers, body = received[0]

events = numbers.sinch_events(secret)
event = events.parse_event(body, headers)
out = {
    "rented": rented.phone_number,
    "verifies": events.validate_authentication_header(headers, body),
    "verifiesWithAnotherSecret": numbers.sinch_events("x" * 32).validate_authentication_header(headers, body),
    "verifiesTampered": events.validate_authentication_header(headers, body.replace(b"SUCCEEDED", b"FAILED")),
    "event": {
        "projectId": event.project_id,
        "resourceType": event.resource_type,
        "resourceId": event.resource_id,
        "eventType": event.event_type,
        "status": event.status,
        "timestampHasZone": event.timestamp.tzinfo is not None,
    },
}
json.dump(out, sys.stdout)
server.shutdown()
