"""Drives numbersd with Sinch's official Python SDK (sinch==2.3.0), pointed at it through the
SDK's own configuration attributes. Reads NUMBERSD_BASE_URL, SINCH_PROJECT_ID, SINCH_KEY_ID,
SINCH_KEY_SECRET; prints one JSON document of what it saw; exits non-zero on any failure."""

import json
import os
import sys

from sinch import SinchClient
from sinch.domains.numbers.api.v1.exceptions import NumberNotFoundException

base = os.environ["NUMBERSD_BASE_URL"]
client = SinchClient(
    project_id=os.environ["SINCH_PROJECT_ID"],
    key_id=os.environ["SINCH_KEY_ID"],
    key_secret=os.environ["SINCH_KEY_SECRET"],
)
client.configuration.auth_origin = base
client.configuration.numbers_origin = base
numbers = client.numbers
out = {}

out["regions"] = sorted(r.region_code for r in numbers.regions.list(types=["LOCAL", "MOBILE"]).iterator())

page = numbers.search_for_available_numbers(
    region_code="US",
    number_type="LOCAL",
    number_pattern="+1206555",
    number_search_pattern="START",
    capabilities=["SMS", "VOICE"],
    page_size=3,
)
available = [n.phone_number for n in page.content()]
out["available"] = available

checked = numbers.check_availability(phone_number=available[0])
out["checked"] = {"phoneNumber": checked.phone_number, "setupPrice": str(checked.setup_price.amount),
                  "currency": checked.monthly_price.currency_code}

rented = numbers.rent(
    phone_number=available[0],
    sms_configuration={"service_plan_id": "py-plan"},
    event_destination_target="http://127.0.0.1:9/python-callbacks",
)
out["rented"] = {
    "phoneNumber": rented.phone_number,
    "scheduledServicePlanId": rented.sms_configuration.scheduled_provisioning.service_plan_id,
    "scheduledStatus": rented.sms_configuration.scheduled_provisioning.status,
    "callbackUrl": rented.event_destination_target,
}

any_number = numbers.rent_any(
    region_code="US",
    number_type="LOCAL",
    number_pattern={"pattern": "919", "search_pattern": "START"},
    capabilities=["SMS", "VOICE"],
)
out["rentedAny"] = any_number.phone_number

listed = numbers.list(region_code="US", number_type="LOCAL", capabilities=["SMS", "VOICE"], page_size=1)
out["listed"] = [n.phone_number for n in listed.iterator()]

got = numbers.get(phone_number=available[0])
out["got"] = {"phoneNumber": got.phone_number, "projectId": got.project_id, "type": got.type}

updated = numbers.update(phone_number=available[0], display_name="Python desk")
out["updatedDisplayName"] = updated.display_name

out["released"] = [numbers.release(phone_number=n).phone_number for n in (available[0], any_number.phone_number)]

secret = "py-secret-0123456789-abcdefghijklmnop"
numbers.event_destinations.update(hmac_secret=secret)
out["hmacSecret"] = numbers.event_destinations.get().hmac_secret

try:
    numbers.get(phone_number=available[0])
    out["afterRelease"] = "still active"
except NumberNotFoundException as e:
    out["afterRelease"] = "NumberNotFoundException"

json.dump(out, sys.stdout)
