// Sinch callbacks checked with Sinch's official Node SDK (@sinch/sdk-core 1.5.0): sets the
// project's callbackConfiguration (hmacSecret) through the SDK, rents a number with a voice
// configuration and a callbackUrl pointing at a receiver this script runs on 127.0.0.1, waits for
// numbersd's PROVISIONING_TO_VOICE_PLATFORM callback, and verifies it with the SDK's own
// `NumbersCallbackWebhooks(secret).validateAuthenticationHeader` and `parseEvent`. Reads
// NUMBERSD_BASE_URL, SINCH_PROJECT_ID, SINCH_KEY_ID, SINCH_KEY_SECRET; prints one JSON document;
// exits non-zero on any failure.
'use strict';

const http = require('http');
const { SinchClient, NumbersCallbackWebhooks } = require('@sinch/sdk-core');

const base = process.env.NUMBERSD_BASE_URL;
const sinch = new SinchClient({
  projectId: process.env.SINCH_PROJECT_ID,
  keyId: process.env.SINCH_KEY_ID,
  keySecret: process.env.SINCH_KEY_SECRET,
  numbersHostname: base,
  authHostname: base,
  logger: null,
});

function receiver() {
  return new Promise((resolve) => {
    let deliver;
    const first = new Promise((r) => { deliver = r; });
    const server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        res.writeHead(200).end();
        deliver({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), path: req.url, method: req.method });
      });
    });
    server.listen(0, '127.0.0.1', () => resolve({ server, first, url: `http://127.0.0.1:${server.address().port}/sinch-callbacks` }));
  });
}

async function main() {
  const { server, first, url } = await receiver();
  const secret = 'node-callback-secret-0123456789-abcd';
  await sinch.numbers.callbacks.update({ updateCallbackConfigurationRequestBody: { hmacSecret: secret } });
  const rented = await sinch.numbers.rent({
    phoneNumber: '+12065550101',
    rentNumberRequestBody: { voiceConfiguration: { type: 'RTC', appId: 'node-callback-app' }, callbackUrl: url },
  });
  // unref: a pending timer must not keep the process alive once the callback arrived.
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('no callback within 30 s')), 30000).unref());
  const got = await Promise.race([first, timeout]);
  const webhooks = new NumbersCallbackWebhooks(secret);
  const event = webhooks.parseEvent(got.body);
  const out = {
    rented: rented.phoneNumber,
    verifies: webhooks.validateAuthenticationHeader(got.headers, got.body, got.path, got.method),
    verifiesWithAnotherSecret: new NumbersCallbackWebhooks('x'.repeat(32))
      .validateAuthenticationHeader(got.headers, got.body, got.path, got.method),
    event: {
      projectId: event.projectId,
      resourceType: event.resourceType,
      resourceId: event.resourceId,
      eventType: event.eventType,
      status: event.status,
      timestampIsDate: event.timestamp instanceof Date && !Number.isNaN(event.timestamp.getTime()),
    },
  };
  server.close();
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => {
  process.stderr.write(`${e.stack || e}\n${e.data || ''}\n`);
  process.exit(1);
});
