"""Bandwidth's official Python SDK (bandwidth-numbers-sdk 1.2.0) against a real numbersd.

Environment: NUMBERSD_BASE (…/api), NUMBERSD_ACCOUNT, NUMBERSD_KEY, NUMBERSD_SECRET,
NUMBERSD_SITE, NUMBERSD_HOOK (a receiver URL the order notifications go to). Prints one JSON document of what the SDK saw; exits non-zero on any failure.
"""
import json
import os
import sys
import time

from bandwidth_numbers.client import Client
from bandwidth_numbers.models.account import Account
from bandwidth_numbers.models.tns import Tns

client = Client(
    url=os.environ["NUMBERSD_BASE"],
    account_id=os.environ["NUMBERSD_ACCOUNT"],
    username=os.environ["NUMBERSD_KEY"],
    password=os.environ["NUMBERSD_SECRET"],
)
account = Account(client=client)
site = os.environ["NUMBERSD_SITE"]
out = {}


def poll(get, id_):
    for _ in range(200):
        resp = get(id_)
        if resp.order_status not in ("RECEIVED", "PROCESSING"):
            return resp
        time.sleep(0.05)
    sys.exit("never settled: %s" % id_)


# Search, plain and with TN detail.
out["search"] = list(account.available_numbers.list({"areaCode": "206", "quantity": 2}).items)
detail = account.available_numbers.list({"npaNxx": "919555", "enableTNDetail": "true", "quantity": 2})
out["search_detail"] = [
    {"full_number": d.full_number, "city": d.city, "rate_center": d.rate_center, "state": d.state}
    for d in detail.items
]

# A subscription to order notifications. The SDK's CallbackSubscription knows only URL, User,
# Expiry and Status: it sends the legacy <User> and cannot send credentials.
subscription = account.subscriptions.create({
    "order_type": "orders",
    "callback_subscription": {"url": os.environ["NUMBERSD_HOOK"], "user": "legacy", "expiry": "3600"},
})
out["subscription_id"] = subscription.id
listed = account.subscriptions.list()
out["subscriptions"] = [
    {"id": s.subscription_id, "order_type": s.order_type, "url": s.callback_subscription.url,
     "expiry": s.callback_subscription.expiry}
    for s in listed.items
]
# Known SDK bug: subscriptions.get(id) passes params= to Subscription.get, which takes none.
try:
    account.subscriptions.get(subscription.id)
    out["subscriptions_get"] = "ok"
except TypeError:
    out["subscriptions_get"] = "TypeError"

# Order the two numbers found, poll to COMPLETE.
order = account.orders.create({
    "name": "python order", "site_id": site, "customer_order_id": "py-1",
    "existing_telephone_number_order_type": {"telephone_number_list": {"telephone_number": out["search"]}},
})
out["order_created_status"] = order.order_status
out["order_id"] = order.id
done = poll(account.orders.get, order.id)
out["order_status"] = done.order_status
out["order_completed"] = list(done.completed_numbers.items)

# By area code.
by_area = account.orders.create({
    "name": "by area", "site_id": site,
    # The SDK silently drops non-string values: the quantity must be the string "1".
    "area_code_search_and_order_type": {"area_code": "919", "quantity": "1"},
})
done = poll(account.orders.get, by_area.id)
out["area_code_status"] = done.order_status
out["area_code_completed"] = list(done.completed_numbers.items)

# PARTIAL: one of the two numbers is already ours.
partial = account.orders.create({
    "name": "partial", "site_id": site, "partial_allowed": "true",
    "existing_telephone_number_order_type": {
        "telephone_number_list": {"telephone_number": [out["search"][0], "2065552233"]}},
})
done = poll(account.orders.get, partial.id)
out["partial_status"] = done.order_status
out["partial_completed"] = list(done.completed_numbers.items)
out["partial_errors"] = [
    {"code": e.code, "telephone_number": e.telephone_number} for e in done.error_list.error.items
]

# Reservation, then an order carrying its ReservationIdList.
reservation = account.tnreservation
reservation.reserved_tn = "2065617890"
reservation.save()
out["reservation_id"] = reservation.id
fetched = account.tnreservation.get(reservation.id)
out["reservation_tn"] = fetched.reserved_tn
reserved = account.orders.create({
    "name": "reserved", "site_id": site,
    "existing_telephone_number_order_type": {
        "telephone_number_list": {"telephone_number": ["2065617890"]},
        "reservation_id_list": {"reservation_id": [reservation.id]},
    },
})
done = poll(account.orders.get, reserved.id)
out["reserved_order_status"] = done.order_status

# In service.
out["in_service"] = sorted(account.in_service_numbers.list({"page": 1, "size": 500}).items)

# Disconnect one, poll, then /tns/{tn} says Aging.
disc = account.disconnects.create({
    "name": "python disconnect", "customer_order_id": "py-d1",
    "disconnect_telephone_number_order_type": {"telephone_number_list": {"telephone_number": [out["search"][0]]}},
})
out["disconnect_created_status"] = disc.order_status
d = poll(account.disconnects.get, disc.id)
out["disconnect_status"] = d.order_status
out["in_service_after"] = sorted(account.in_service_numbers.list({"page": 1, "size": 500}).items)
out["tn_status"] = Tns(client=client).get(out["search"][0]).status

print(json.dumps(out))
