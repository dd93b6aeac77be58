#!/usr/bin/env python3
"""Connection hygiene of a real numbersd, measured from outside (docs/SECURITY.md, "Measured").

Starts `numbersd serve` on a fresh SQLite database, then:

1. Slow headers: opens N connections (default 3,000) that each send a request line and then one
   header line every second, never the blank line that ends the head. Every one must be closed
   by the server within the header timeout (plus a margin for a loaded machine).
2. Burst: opens M connections (default 20,000) as fast as it can, each sending one complete
   request and reading its answer, holds them all open (idle keep-alive), then closes them. The
   server's resident memory (VmRSS in /proc/PID/status) is read before the burst, at its peak
   and after the connections are gone and the server has had a few seconds to settle; the
   after-figure must be within 20 % of the before-figure.

Usage: scripts/edge/connection_burst.py [--binary target/release/numbersd] [--slow 3000]
       [--burst 20000] [--header-timeout 10]
Needs a file-descriptor limit above the slow-header count (it raises its soft limit to the hard
one; the server inherits it; the burst's clients are spread over several processes) and runs
on Linux (/proc).
"""

import argparse
import asyncio
import multiprocessing
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def slow_client(port, results, deadline, interval):
    """One connection that never finishes its headers; records seconds until the server closed."""
    started = time.monotonic()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError as e:
        results.append(("connect-failed", str(e)))
        return
    started = time.monotonic()
    try:
        writer.write(b"GET /v1/numbers HTTP/1.1\r\nHost: burst\r\n")
        await writer.drain()
        while time.monotonic() < deadline:
            try:
                data = await asyncio.wait_for(reader.read(4096), timeout=interval)
            except asyncio.TimeoutError:
                writer.write(b"X-Slow: 1\r\n")
                await writer.drain()
                continue
            if not data:
                results.append(("closed", time.monotonic() - started))
                return
            # An answer (408) before the close is fine; keep reading until the close.
        results.append(("still-open", time.monotonic() - started))
    except (ConnectionError, OSError):
        results.append(("closed", time.monotonic() - started))
    finally:
        writer.close()


async def burst_client(port, source, opened, failed, release, hold, errors):
    """Connects, sends one request, reads the answer, then stays open (idle keep-alive) until
    the main process releases everyone or `hold` seconds have passed — so connections beyond the
    server's cap, waiting in the listen backlog, are served as earlier ones leave."""
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0)), timeout=300
        )
    except (OSError, asyncio.TimeoutError) as e:
        note_failure(failed, errors, e)
        return
    try:
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: burst\r\n\r\n")
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=300)
        if head.startswith(b"HTTP/1.1 200"):
            with opened.get_lock():
                opened.value += 1
        else:
            note_failure(failed, errors, head[:40])
        until = time.monotonic() + hold
        while not release.is_set() and time.monotonic() < until:
            await asyncio.sleep(0.2)
    except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError) as e:
        note_failure(failed, errors, e)
    finally:
        writer.close()


def note_failure(failed, errors, what):
    with failed.get_lock():
        failed.value += 1
    if len(errors) < 3:
        errors.append(repr(what))


def burst_worker(index, port, count, opened, failed, release, hold):
    """One client process's share of the burst (a process holds at most its fd limit). Its
    connections come from 50 loopback source addresses of their own: one address's ephemeral
    ports (about 28,000, some still in TIME_WAIT from earlier runs) would run out."""
    errors = []

    async def run():
        await asyncio.gather(
            *(
                burst_client(
                    port, f"127.1.{index}.{j % 50 + 1}", opened, failed, release, hold, errors
                )
                for j in range(count)
            )
        )

    asyncio.run(run())
    if errors:
        print(f"  some failures: {errors}", flush=True)


async def phase_slow(port, count, header_timeout):
    margin = max(5.0, header_timeout)
    deadline = time.monotonic() + header_timeout + margin + 30
    results = []
    tasks = [
        asyncio.create_task(slow_client(port, results, deadline, 1.0)) for _ in range(count)
    ]
    await asyncio.gather(*tasks)
    closed = [t for kind, t in results if kind == "closed"]
    other = [(kind, t) for kind, t in results if kind != "closed"]
    worst = max(closed) if closed else float("nan")
    within = sum(1 for t in closed if t <= header_timeout + margin)
    print(
        f"slow headers: {count} connections, {len(closed)} closed by the server, "
        f"{within} within {header_timeout + margin:.0f} s (header timeout {header_timeout:.0f} s "
        f"+ margin), slowest {worst:.1f} s, not closed: {len(other)}"
    )
    return len(other) == 0 and within == count


def phase_burst(pid, port, count, settle, processes, hold):
    before = rss_kib(pid)
    fds_before = open_fds(pid)
    opened = multiprocessing.Value("i", 0)
    failed = multiprocessing.Value("i", 0)
    release = multiprocessing.Event()
    started = time.monotonic()
    shares = [count // processes + (1 if i < count % processes else 0) for i in range(processes)]
    workers = [
        multiprocessing.Process(
            target=burst_worker, args=(i, port, n, opened, failed, release, hold)
        )
        for i, n in enumerate(shares)
    ]
    for w in workers:
        w.start()
    # Wait until every connection has been answered (or failed), sampling the peak.
    peak = before
    peak_fds = fds_before
    while opened.value + failed.value < count and time.monotonic() - started < 600:
        time.sleep(0.5)
        peak = max(peak, rss_kib(pid))
        peak_fds = max(peak_fds, open_fds(pid))
    took = time.monotonic() - started
    release.set()
    for w in workers:
        w.join()
    # Wait until the server has closed its side, then let it settle.
    for _ in range(600):
        if open_fds(pid) <= fds_before + 5:
            break
        time.sleep(0.1)
    time.sleep(settle)
    after = rss_kib(pid)
    ratio = after / before
    print(
        f"burst: {count} connections ({opened.value} answered, {failed.value} failed) in "
        f"{took:.1f} s from {processes} client processes; server fds before {fds_before}, "
        f"peak {peak_fds}, after {open_fds(pid)}"
    )
    print(
        f"burst RSS: before {before / 1024:.1f} MiB, peak {peak / 1024:.1f} MiB, "
        f"after {after / 1024:.1f} MiB ({settle:.0f} s after the last close) = "
        f"{ratio * 100:.0f} % of before (target: within 120 %)"
    )
    return ratio <= 1.2 and failed.value == 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", default="target/release/numbersd")
    parser.add_argument("--slow", type=int, default=3000)
    parser.add_argument("--burst", type=int, default=20000)
    parser.add_argument("--header-timeout", type=float, default=10.0)
    parser.add_argument("--settle", type=float, default=15.0)
    parser.add_argument(
        "--rounds", type=int, default=1, help="bursts in a row (a leak grows with each)"
    )
    parser.add_argument(
        "--hold", type=float, default=5.0, help="seconds each burst connection stays open"
    )
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the server (e.g. MALLOC_ARENA_MAX=2), repeatable",
    )
    args = parser.parse_args()

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < args.slow + 200:
        sys.exit(f"file-descriptor limit {hard} is below the {args.slow + 200} the run needs")
    # The burst's clients are spread over processes of at most half the limit each.
    processes = max(1, -(-args.burst // max(1, hard // 2 - 100)))

    work = tempfile.mkdtemp(prefix="numbersd-burst-")
    port = free_port()
    env = dict(os.environ)
    env.update(
        {
            "NUMBERSD_DATABASE_URL": f"sqlite://{work}/burst.db",
            "NUMBERSD_LISTEN": f"127.0.0.1:{port}",
            "NUMBERSD_CONNECTIONS_HEADER_TIMEOUT_SECONDS": str(int(args.header_timeout)),
            "NUMBERSD_LOG": "warn",
            # The bursts come from one address: the per-address throttle would answer most of
            # them 429 (by design; tests/api/edge.rs covers it). Measured here: connections.
            "NUMBERSD_THROTTLE": "false",
        }
    )
    env.update(kv.split("=", 1) for kv in args.server_env)
    log = open(os.path.join(work, "serve.log"), "w")
    server = subprocess.Popen(
        [args.binary, "serve", "--metrics-listen", "off"], env=env, stdout=log, stderr=log
    )
    ok = False
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        else:
            sys.exit("numbersd did not start")
        # Warm up (first requests allocate the runtime's and the router's lasting state).
        for _ in range(50):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).read()
        print(f"numbersd pid {server.pid}, RSS at start {rss_kib(server.pid) / 1024:.1f} MiB")
        slow_ok = asyncio.run(phase_slow(port, args.slow, args.header_timeout))
        # Let the memory of the slow connections go back before the burst's "before".
        time.sleep(args.settle)
        burst_ok = True
        for round in range(args.rounds):
            if args.rounds > 1:
                print(f"round {round + 1} of {args.rounds}")
            burst_ok &= phase_burst(
                server.pid, port, args.burst, args.settle, processes, args.hold
            )
        ok = slow_ok and burst_ok
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        if ok:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"server log kept in {work}/serve.log")
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
