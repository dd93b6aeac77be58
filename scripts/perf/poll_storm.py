#!/usr/bin/env python3
"""Orders per second while many clients poll orders: does a polling storm starve fulfilment?

Starts `numbersd serve` on a fresh PostgreSQL database (20,000 generated numbers, one tenant), then
for each phase submits --orders single-number orders from a few clients without waiting for them
and times until the database shows every one final (the server's fulfilment rate): first alone,
then while --pollers threads (in processes of their own) read an existing order as fast as the
server answers. Prints both rates, how long submitting took, and their ratio; the ratio is what to
compare between builds (the machine is shared, so absolute rates move). Cleans up its database and
server.

    python3 scripts/perf/poll_storm.py --binary target/debug/numbersd --pollers 200
"""
import argparse, base64, http.client, json, multiprocessing, os, subprocess, sys, threading, time, uuid

PG = "postgres://postgres@127.0.0.1:5432"


def psql(sql):
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qAtc", sql, "postgres"], check=True)


class Client:
    def __init__(self, port, key_id, secret):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.auth = "Basic " + base64.b64encode(f"{key_id}:{secret}".encode()).decode()

    def call(self, method, path, body=None):
        headers = {"Authorization": self.auth}
        if body is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(body)
        self.conn.request(method, path, body=body, headers=headers)
        r = self.conn.getresponse()
        data = r.read()
        try:
            return r.status, (json.loads(data) if data else None)
        except ValueError:
            return r.status, data


def order_one(c):
    status, order = c.call("POST", "/v1/orders", {"search": {"country": "US"}, "quantity": 1})
    if status not in (200, 201, 202):
        raise RuntimeError(f"order refused: {status} {order}")
    while order["status"] in ("RECEIVED", "PROCESSING"):
        time.sleep(0.01)
        status, order = c.call("GET", f"/v1/orders/{order['id']}")
    return order


def poll(port, creds, target, threads, stop, reads):
    def run():
        c = Client(port, *creds)
        while not stop.is_set():
            c.call("GET", f"/v1/orders/{target}")
            with reads.get_lock():
                reads.value += 1

    ts = [threading.Thread(target=run) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


def fulfilment_rate(port, creds, clients, count, name):
    """Submits `count` orders (not waiting for them) and times until the database shows every
    one final: the server's fulfilment rate, whatever the clients' share of the HTTP server."""
    before = final_orders(name)
    per_client = count // clients

    def run():
        c = Client(port, *creds)
        for _ in range(per_client):
            status, order = c.call("POST", "/v1/orders", {"search": {"country": "US"}, "quantity": 1})
            if status not in (200, 201, 202):
                raise RuntimeError(f"order refused: {status} {order}")

    start = time.monotonic()
    threads = [threading.Thread(target=run) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    submitted = time.monotonic()
    while final_orders(name) < before + per_client * clients:
        if time.monotonic() - submitted > 300:
            raise RuntimeError("orders not final after 300 s")
        time.sleep(0.1)
    return per_client * clients / (time.monotonic() - start), submitted - start


def final_orders(name):
    out = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qAtc",
                          "SELECT count(*) FROM orders WHERE status NOT IN ('RECEIVED', 'PROCESSING')", name],
                         check=True, capture_output=True, text=True).stdout
    return int(out.strip())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default="target/debug/numbersd")
    ap.add_argument("--pollers", type=int, default=200)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--orders", type=int, default=400)
    ap.add_argument("--port", type=int, default=18471)
    a = ap.parse_args()
    name = "poll_storm_" + uuid.uuid4().hex[:12]
    url = f"{PG}/{name}"
    env = dict(os.environ, NUMBERSD_DATABASE_URL=url, NUMBERSD_SECRET_KEY="poll-storm-secret-key-of-32-characters!",
               NUMBERSD_METRICS_LISTEN="off")
    psql(f"CREATE DATABASE {name}")
    server = None
    try:
        subprocess.run([a.binary, "inventory", "generate", "--count", "20000"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        out = subprocess.run([a.binary, "account", "create", "--name", "storm", "--json"], env=env,
                             check=True, capture_output=True, text=True).stdout
        acct = json.loads(out)
        creds = (acct["key_id"], acct["secret"])
        server = subprocess.Popen([a.binary, "serve", "--listen", f"127.0.0.1:{a.port}", "--throttle", "false"],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                c = Client(a.port, *creds)
                c.call("GET", "/healthz")
                break
            except OSError:
                time.sleep(0.2)
        target = order_one(Client(a.port, *creds))["id"]
        alone, _ = fulfilment_rate(a.port, creds, a.clients, a.orders, name)
        # The pollers run in processes of their own: in this one they would hold the GIL and
        # starve the ordering clients instead of the server.
        reads = multiprocessing.Value("l", 0)
        stop = multiprocessing.Event()
        pollers = [multiprocessing.Process(target=poll, args=(a.port, creds, target, a.pollers // 4, stop, reads))
                   for _ in range(4)]
        for p in pollers:
            p.start()
        time.sleep(2)
        r0, t0 = reads.value, time.monotonic()
        stormed, submitting = fulfilment_rate(a.port, creds, a.clients, a.orders, name)
        read_rate = (reads.value - r0) / (time.monotonic() - t0)
        stop.set()
        for p in pollers:
            p.join()
        print(f"orders fulfilled/s alone {alone:.1f}; with {a.pollers} pollers {stormed:.1f} "
              f"(submitting took {submitting:.1f} s; pollers read {read_rate:.0f} orders/s); "
              f"ratio {stormed / alone:.2f}")
    finally:
        if server:
            server.terminate()
            server.wait()
        psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


if __name__ == "__main__":
    sys.exit(main())
