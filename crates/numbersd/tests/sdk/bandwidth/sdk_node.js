// Bandwidth's official Node SDK (@bandwidth/numbers 2.0.0) against a real numbersd.
// Environment: NUMBERSD_BASE (…/api), NUMBERSD_ACCOUNT, NUMBERSD_KEY, NUMBERSD_SECRET,
// NUMBERSD_SITE, NUMBERSD_HOOK (a receiver URL the disconnect notifications go to). Prints one JSON document of what the SDK saw; exits 1 on any failure.
const numbers = require("@bandwidth/numbers");

const env = process.env;
const client = new numbers.Client(env.NUMBERSD_ACCOUNT, env.NUMBERSD_KEY, env.NUMBERSD_SECRET, "", "", {
  apiEndPoint: env.NUMBERSD_BASE,
});
const site = env.NUMBERSD_SITE;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const asArray = (x) => (x == null ? [] : Array.isArray(x) ? x : [x]);
const settled = (s) => !["RECEIVED", "PROCESSING"].includes(s);

async function pollOrder(id) {
  for (let i = 0; i < 200; i++) {
    const resp = await numbers.Order.getAsync(client, id);
    if (settled(resp.orderStatus)) return resp;
    await sleep(50);
  }
  throw new Error("order never settled: " + id);
}

(async () => {
  const out = {};
  const search = await numbers.AvailableNumbers.listAsync(client, { areaCode: 206, quantity: 2 });
  out.search = asArray(search.telephoneNumberList && search.telephoneNumberList.telephoneNumber);
  const detail = await numbers.AvailableNumbers.listAsync(client, { npaNxx: 919555, enableTNDetail: true, quantity: 2 });
  out.search_detail = asArray(detail.telephoneNumberDetailList.telephoneNumberDetail).map((d) => ({
    full_number: String(d.fullNumber),
    city: d.city,
    lata: d.lata,
  }));

  const created = await numbers.Order.createAsync(client, {
    name: "node order",
    siteId: site,
    customerOrderId: "node-1",
    existingTelephoneNumberOrderType: { telephoneNumberList: [{ telephoneNumber: out.search }] },
  });
  out.order_created_status = created.orderStatus;
  const done = await pollOrder(created.order.id);
  out.order_status = done.orderStatus;
  out.order_completed = asArray(done.completedNumbers.telephoneNumber).map((t) => String(t.fullNumber));

  const byArea = await numbers.Order.createAsync(client, {
    name: "by area",
    siteId: site,
    areaCodeSearchAndOrderType: { areaCode: 919, quantity: 1 },
  });
  const areaDone = await pollOrder(byArea.order.id);
  out.area_code_status = areaDone.orderStatus;
  out.area_code_completed = asArray(areaDone.completedNumbers.telephoneNumber).map((t) => String(t.fullNumber));

  // PARTIAL: the SDK rejects a 2xx body holding <Error><Code>+<Description> (upstream behaviour).
  const partial = await numbers.Order.createAsync(client, {
    name: "partial",
    siteId: site,
    partialAllowed: true,
    existingTelephoneNumberOrderType: { telephoneNumberList: [{ telephoneNumber: [out.search[0], "2065552233"] }] },
  });
  for (let i = 0; i < 200 && out.partial_error_code === undefined; i++) {
    try {
      const resp = await numbers.Order.getAsync(client, partial.order.id);
      if (settled(resp.orderStatus)) out.partial_status = resp.orderStatus;
      await sleep(50);
    } catch (e) {
      out.partial_error_code = String(e.code);
      out.partial_error_message = e.message;
    }
  }

  const reservation = await numbers.TnReservation.createAsync(client, { reservedTn: "2065617890" });
  out.reservation_id = reservation.reservationId;
  out.reservation_tn = String(reservation.reservedTn);
  const reserved = await numbers.Order.createAsync(client, {
    name: "reserved",
    siteId: site,
    existingTelephoneNumberOrderType: {
      telephoneNumberList: [{ telephoneNumber: ["2065617890"] }],
      reservationIdList: [{ reservationId: [reservation.reservationId] }],
    },
  });
  out.reserved_order_status = (await pollOrder(reserved.order.id)).orderStatus;

  const inService = await numbers.InServiceNumber.listAsync(client, { page: 1, size: 500 });
  out.in_service = asArray(inService.telephoneNumbers.telephoneNumber).map(String).sort();

  // A subscription to disconnect notifications: create (Location, then a GET), update, list.
  const sub = await numbers.Subscription.createAsync(client, {
    orderType: "disconnects",
    callbackSubscription: { url: env.NUMBERSD_HOOK, expiry: 3600 },
  });
  out.subscription_id = sub.id;
  out.subscription_created = {
    order_type: sub.orderType,
    // The SDK's parser lowers only the first letter: <URL> reads as `uRL` (upstream).
    url: sub.callbackSubscription.uRL,
    expiry: sub.callbackSubscription.expiry,
  };
  await sub.updateAsync({ orderType: "disconnects", callbackSubscription: { url: env.NUMBERSD_HOOK, expiry: 7200 } });
  const subs = await numbers.Subscription.listAsync(client);
  out.subscriptions = subs.map((s) => ({ id: s.id, order_type: s.orderType, expiry: s.callbackSubscription.expiry }));

  const disc = await numbers.Disconnect.createAsync(client, "node disconnect", [out.search[0]]);
  out.disconnect_created_status = disc.orderStatus;
  out.disconnect_id = disc.orderRequest.id;
  for (let i = 0; i < 200; i++) {
    const d = await numbers.Disconnect.getAsync(client, disc.orderRequest.id, {});
    out.disconnect_status = d.orderStatus;
    if (settled(d.orderStatus)) break;
    await sleep(50);
  }
  const tn = await numbers.Tn.getAsync(client, out.search[0]);
  out.tn_status = tn.status;
  console.log(JSON.stringify(out));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
