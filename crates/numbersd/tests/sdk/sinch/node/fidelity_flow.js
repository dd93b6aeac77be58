// Sinch's official Node SDK (@sinch/sdk-core 1.5.0) on the calls issue 14 added: active numbers
// listed with `orderBy: 'displayName'` (followed page by page by the SDK's own iterator) and the
// four emergency-address calls. Reads NUMBERSD_BASE_URL, SINCH_PROJECT_ID, SINCH_KEY_ID,
// SINCH_KEY_SECRET; prints one JSON document of what it saw; exits non-zero on any failure.
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
  const names = { '+12065550100': 'Zed desk', '+12065550101': 'Front desk' };
  for (const [phoneNumber, displayName] of Object.entries(names)) {
    await numbers.rent({ phoneNumber, rentNumberRequestBody: {} });
    await numbers.update({ phoneNumber, updateActiveNumberRequestBody: { displayName } });
  }
  out.byDisplayName = [];
  for await (const n of numbers.list({ regionCode: 'US', type: 'LOCAL', orderBy: 'displayName', pageSize: 1 })) {
    out.byDisplayName.push([n.displayName, n.phoneNumber]);
  }

  const phoneNumber = '+12065550100';
  const emergencyAddressRequestBody = {
    displayName: 'Acme HQ',
    address: { streetNumber: '1201', streetInfo: '3rd  Ave', city: 'Seattle', state: 'wa', postalCode: '98101' },
  };
  const validated = await numbers.validateEmergencyAddress({ phoneNumber, emergencyAddressRequestBody });
  out.validated = {
    validationResult: validated.validationResult,
    correctedState: validated.correctedAddress.state,
    candidates: validated.candidateAddresses.length,
  };
  out.provisioned = await numbers.provisionEmergencyAddress({ phoneNumber, emergencyAddressRequestBody });
  out.fetched = await numbers.getEmergencyAddress({ phoneNumber });
  await numbers.deprovisionEmergencyAddress({ phoneNumber });
  try {
    await numbers.getEmergencyAddress({ phoneNumber });
    out.afterDeprovision = 'still there';
  } catch (err) {
    out.afterDeprovision = String(err.message || err).includes('404') ? 404 : String(err);
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
