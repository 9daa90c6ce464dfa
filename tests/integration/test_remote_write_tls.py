#!/usr/bin/env python3
"""Remote write over https with basic auth, to Debian's Prometheus.

Prometheus 2.42 serves https (a self-signed certificate for 127.0.0.1 made
with openssl) and asks for basic auth (--web.config.file). Three hindsightd
at a 1 s interval push to it at once:
  - right: ca_file is the certificate, the right password. Its ticks arrive
    (Prometheus' API, over the same TLS and auth, has hindsight_ticks_total
    at every acknowledged tick);
  - a wrong password: 401, logged, retried (the sender is refused, not the
    data): nothing dropped, nothing acknowledged;
  - no ca_file: the certificate is not trusted: a log line naming it,
    retried, nothing acknowledged.
Each keeps its ticks on time. Skipped (77) without prometheus or openssl.
"""
import base64
import json
import os
import shutil
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt  # bcrypt through libxcrypt; the module leaves Python in 3.13

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from metricscommon import DAEMON, Daemon, free_port, wait_for  # noqa: E402

PROMETHEUS = shutil.which("prometheus")
OPENSSL = shutil.which("openssl")
PASSWORD = "s3cret-for-remote-write"


def make_cert(tmp):
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run([OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext",
                    "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


def start_prometheus(tmp, port, cert, key):
    web = os.path.join(tmp, "web.yml")
    with open(web, "w") as f:
        f.write(f"tls_server_config:\n  cert_file: {cert}\n  key_file: {key}\n"
                f"basic_auth_users:\n  web1: '{crypt.crypt(PASSWORD, crypt.mksalt(crypt.METHOD_BLOWFISH))}'\n")
    cfg = os.path.join(tmp, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("storage:\n  tsdb:\n    out_of_order_time_window: 1h\n")
    return subprocess.Popen(
        [PROMETHEUS, f"--config.file={cfg}", f"--storage.tsdb.path={tmp}/data",
         f"--web.listen-address=127.0.0.1:{port}", f"--web.config.file={web}",
         "--web.enable-remote-write-receiver", "--log.level=warn"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def get(base, path, cert, **params):
    ctx = ssl.create_default_context(cafile=cert)
    req = urllib.request.Request(f"{base}{path}?" + urllib.parse.urlencode(params))
    token = base64.b64encode(f"web1:{PASSWORD}".encode()).decode()
    req.add_header("Authorization", f"Basic {token}")
    with urllib.request.urlopen(req, timeout=10, context=ctx) as r:
        return r.status, r.read()


def acked_ts(db, url):
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
        row = con.execute("SELECT acked_ts FROM remote_write_state WHERE url = ?",
                          (url,)).fetchone()
        # (the first tick's interval runs from the start: not timed)
        first = con.execute("SELECT min(ts), max(ts), max(abs(dur_ms - 1000)) FILTER (WHERE ts > "
                            "(SELECT min(ts) FROM agent)), sum(rw_dropped_count), "
                            "sum(rw_retries_count) FROM agent").fetchone()
        con.close()
        return (row[0] if row else None), first
    except sqlite3.Error:
        return None, (None, None, None, None, None)


def main():
    if not PROMETHEUS or not OPENSSL:
        print("needs prometheus and openssl (Debian packages prometheus, openssl)")
        return 77
    if not os.access(DAEMON, os.X_OK):
        print(f"no {DAEMON}")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        cert, key = make_cert(tmp)
        port = free_port()
        base = f"https://127.0.0.1:{port}"
        url = f"{base}/api/v1/write"
        prom = start_prometheus(tmp, port, cert, key)
        daemons = {}
        ok = True
        try:
            def ready():
                try:
                    return get(base, "/-/ready", cert)[0] == 200
                except OSError:
                    return False
            wait_for(ready, 60, "prometheus over https")
            for name, secret, ca in (("right", PASSWORD, True), ("wrong", "nope", True),
                                     ("untrusted", PASSWORD, False)):
                d = os.path.join(tmp, name)
                os.mkdir(d)
                pw = os.path.join(d, "password")
                with open(pw, "w") as f:
                    f.write(secret + "\n")
                os.chmod(pw, 0o600)
                daemons[name] = Daemon(d, f"remote_write:\n  url: {url}\n"
                                          f"  basic_auth: {{username: web1, password_file: {pw}}}\n"
                                          + (f"  ca_file: {cert}\n" if ca else "") +
                                          "  timeout: 2s\n  max_backoff: 1s\n"
                                          f"  labels: {{instance: {name}}}\n")
            right = daemons["right"]
            right.wait_ticks(8)
            time.sleep(2)
            for name, d in daemons.items():
                acked, (first, last, off, dropped, retries) = acked_ts(d.db, url)
                sent = acked is not None and acked > first
                print(f"{name}: ticks {first}..{last}, acknowledged up to {acked}; "
                      f"dur_ms off by at most {off} ms; {retries} retries, {dropped} dropped")
                ok &= off <= 250 and not dropped
                ok &= sent if name == "right" else not sent
            _, body = get(base, "/api/v1/query", cert,
                          query='count_over_time(hindsight_ticks_total{instance="right"}[1m])')
            result = json.loads(body)["data"]["result"]
            n = int(result[0]["value"][1]) if result else 0
            acked, (first, *_) = acked_ts(right.db, url)
            print(f"right: Prometheus has {n} samples of hindsight_ticks_total over https "
                  f"for {acked - first} acknowledged ticks")
            ok &= n >= acked - first >= 5
            for name, want in (("wrong", "HTTP 401"), ("untrusted", "certificate")):
                code = daemons[name].stop()
                lines = [x for x in daemons[name].text().splitlines() if "retrying" in x]
                print(f"{name}: exit {code}; {lines[0][20:] if lines else 'no retry logged'}")
                ok &= code == 0 and bool(lines) and want in lines[0]
        finally:
            for d in daemons.values():
                d.stop()
            prom.terminate()
            prom.wait(30)
        ok &= all(d.proc.returncode == 0 for d in daemons.values())
        print("ok" if ok else "FAILED")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
