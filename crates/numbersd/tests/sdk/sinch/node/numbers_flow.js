// Drives numbersd with Sinch's official Node SDK (@sinch/sdk-core 1.5.0), pointed at it through
// the SDK's own `numbersHostname` / `authHostname` options. Reads NUMBERSD_BASE_URL,
// SINCH_PROJECT_ID, SINCH_KEY_ID, SINCH_KEY_SECRET; prints one JSON document of what it saw;
// exits non-zero on any failure.
'use strict';

const { SinchClient } = require('@sinch/sdk-core');

const base = process.env.NUMBERSD_BASE_URL;
const sinch = new SinchClient({
  projectId: process.env.SINCH_PROJECT_ID,
  keyId: process.env.SINCH_KEY_ID,
  keySecret: process.env.SINCH_KEY_SECRET,
  numbersHostname: base,
  authHostname: base,
  logger: null,
});
const numbers = sinch.numbers;

async function main() {
  const out = {};
  const regions = await numbers.availableRegions.list({ types: ['LOCAL', 'MOBILE'] });
  out.regions = regions.availableRegions.map((r) => r.regionCode).sort();

  const search = await numbers.searchForAvailableNumbers({
    regionCode: 'US',
    type: 'LOCAL',
    'numberPattern.pattern': '+1206555',
    'numberPattern.searchPattern': 'START',
    capabilities: ['SMS', 'VOICE'],
    size: 3,
  });
  const available = search.availableNumbers.map((n) => n.phoneNumber);
  out.available = available;

  const checked = await numbers.checkAvailability({ phoneNumber: available[1] });
  out.checked = { phoneNumber: checked.phoneNumber, monthly: checked.monthlyPrice.amount };

  const rented = await numbers.rent({
    phoneNumber: available[1],
    rentNumberRequestBody: {
      voiceConfiguration: { type: 'RTC', appId: 'node-app' },
      callbackUrl: 'http://127.0.0.1:9/node-callbacks',
    },
  });
  out.rented = {
    phoneNumber: rented.phoneNumber,
    scheduledAppId: rented.voiceConfiguration.scheduledVoiceProvisioning.appId,
    nextChargeDateIsDate: rented.nextChargeDate instanceof Date,
  };

  const any = await numbers.rentAny({
    rentAnyNumberRequestBody: {
      regionCode: 'US',
      type: 'LOCAL',
      numberPattern: { pattern: '253', searchPattern: 'START' },
      smsConfiguration: { servicePlanId: 'node-plan' },
    },
  });
  out.rentedAny = any.phoneNumber;

  const listed = [];
  for await (const n of numbers.list({ regionCode: 'US', type: 'LOCAL', capability: ['SMS', 'VOICE'], pageSize: 1 })) {
    listed.push(n.phoneNumber);
  }
  out.listed = listed;

  const got = await numbers.get({ phoneNumber: available[1] });
  out.got = { phoneNumber: got.phoneNumber, projectId: got.projectId, capability: got.capability };

  const updated = await numbers.update({
    phoneNumber: available[1],
    updateActiveNumberRequestBody: { displayName: 'Node desk', callbackUrl: null },
  });
  out.updated = { displayName: updated.displayName, callbackUrl: updated.callbackUrl };

  out.released = [];
  for (const phoneNumber of [available[1], any.phoneNumber]) {
    out.released.push((await numbers.release({ phoneNumber })).phoneNumber);
  }

  const secret = 'node-secret-0123456789-abcdefghijklmn';
  await numbers.callbacks.update({ updateCallbackConfigurationRequestBody: { hmacSecret: secret } });
  out.hmacSecret = (await numbers.callbacks.get({})).hmacSecret;

  try {
    await numbers.get({ phoneNumber: available[1] });
    out.afterRelease = 'still active';
  } catch (e) {
    out.afterRelease = { statusCode: e.statusCode, status: JSON.parse(e.data).error.status };
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => {
  process.stderr.write(`${e && e.stack ? e.stack : e}\n${e && e.data ? e.data : ''}\n`);
  process.exit(1);
});
