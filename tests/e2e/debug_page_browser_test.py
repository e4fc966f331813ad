#!/usr/bin/env python3
"""The debug page as a person uses it: headless Chromium (Debian's chromium,
driven by chromedriver over the WebDriver protocol) opens
http://127.0.0.1:DEBUG_PORT/?user=ID on a real recall-server over a real
socket, and
  - the merged answer on the page holds the candidate ids the Recall RPC
    returns for that user (`recallctl query --json`), in the same order;
  - titles that are markup (`<img src=x onerror=alert(1)>`) show as text:
    no <img> element in the document, no alert;
  - a click on an item shows its similar items, the ids SimilarItems returns;
  - a screenshot is written (SCREENSHOT, else a temporary file).

Usage: debug_page_browser_test.py BIN_DIR [SCREENSHOT]
"""
import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

XSS_TITLE = "<img src=x onerror=alert(1)>"
USER = "u0000001"
K = 20


def fail(message):
    print("FAILED: " + message)
    sys.exit(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def make_snapshot(bin_dir, tmp):
    """A tiny world whose every item's title is markup, built into a root."""
    world, root = os.path.join(tmp, "world"), os.path.join(tmp, "root")
    run(f"{bin_dir}/recallctl", "gen", "--out", world, "--items", "500",
        "--users", "50", "--dim", "8", "--extra_spaces=false")
    with open(os.path.join(world, "items.tsv")) as items, \
            open(os.path.join(world, "titles.tsv"), "w") as titles:
        titles.write("item_id\ttitle\n")
        for n, line in enumerate(list(items)[1:]):
            titles.write(f"{line.split(chr(9))[0]}\t{XSS_TITLE} #{n}\n")
    run(f"{bin_dir}/recallctl", "build", "--input", world, "--out", root,
        "--index", "Flat")
    return root


def start_server(bin_dir, root, tmp):
    """recall-server with the debug page; returns (process, grpc, debug)."""
    log = open(os.path.join(tmp, "server.log"), "w+")
    server = subprocess.Popen(
        [f"{bin_dir}/recall-server", "--snapshot_root", root, "--host",
         "127.0.0.1", "--port", "0", "--metrics_port", "-1", "--admin_port",
         "-1", "--debug_port", "0"], stderr=log)
    for _ in range(300):
        log.seek(0)
        m = re.search(r"serving on port (\d+).*debug page on 127\.0\.0\.1:(\d+)",
                      log.read())
        if m:
            return server, int(m.group(1)), int(m.group(2))
        if server.poll() is not None:
            break
        time.sleep(0.1)
    log.seek(0)
    fail("the server did not start:\n" + log.read())


def rpc_ids(bin_dir, grpc_port, *args):
    out = run(f"{bin_dir}/recallctl", "query", "--target",
              f"127.0.0.1:{grpc_port}", "--k", str(K), "--json", *args)
    return [item["item_id"] for item in json.loads(out).get("items", [])]


class WebDriver:
    """The few WebDriver commands the test needs, over HTTP (stdlib only)."""

    def __init__(self, tmp):
        self.port = free_port()
        self.process = subprocess.Popen(
            ["chromedriver", f"--port={self.port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        options = {"binary": shutil.which("chromium"), "args": [
            "--headless=new", "--no-sandbox", "--disable-gpu",
            "--disable-dev-shm-usage", "--window-size=1500,1100",
            f"--user-data-dir={tmp}/chrome"]}
        for _ in range(100):
            try:
                value = self.call("POST", "/session", {"capabilities": {
                    "alwaysMatch": {"goog:chromeOptions": options}}})
                self.session = value["sessionId"]
                return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        fail("chromedriver did not start")

    def call(self, method, path, body=None, session=False):
        url = f"http://127.0.0.1:{self.port}"
        url += (f"/session/{self.session}" if session else "") + path
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method, headers={
            "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as r:
                return json.load(r)["value"]
        except urllib.error.HTTPError as e:
            return {"webdriver_error": json.load(e)["value"]}

    def script(self, source):
        return self.call("POST", "/execute/sync",
                         {"script": source, "args": []}, session=True)

    def wait_for(self, source, want, what):
        for _ in range(200):
            if self.script(source) == want:
                return
            time.sleep(0.05)
        fail(f"the page never got {what}; error shown: " +
             str(self.script("return document.getElementById('error').textContent")))

    def quit(self):
        try:
            self.call("DELETE", "", session=True)
        finally:
            self.process.terminate()
            self.process.wait()


ROW_IDS = "return [...document.querySelectorAll('{} tbody tr')].map(r => r.dataset.itemId)"


def check_page(driver, debug_port, want_ids, bin_dir, grpc_port):
    driver.call("POST", "/url", {"url": f"http://127.0.0.1:{debug_port}/?user={USER}&k={K}"},
                session=True)
    driver.wait_for("return document.body.dataset.state", "ready", "a merged answer")
    page_ids = driver.script(ROW_IDS.format("#merged"))
    if page_ids != want_ids:
        fail(f"the page shows {page_ids}, the RPC answered {want_ids}")
    print(f"the page shows the RPC's {len(want_ids)} candidates in the same order")

    titles = driver.script(
        "return [...document.querySelectorAll('td.title')].map(t => t.textContent)")
    images = driver.script("return document.querySelectorAll('img').length")
    alert = driver.call("GET", "/alert/text", session=True)
    if not titles or not all(t.startswith(XSS_TITLE) for t in titles):
        fail(f"titles are not shown as their text: {titles[:3]}")
    if images != 0 or not isinstance(alert, dict) or "webdriver_error" not in alert:
        fail(f"a title became markup: {images} <img> elements, alert {alert}")
    print(f"{len(titles)} titles shown as text, no <img> in the document, no alert")

    first = want_ids[0]
    button = driver.call("POST", "/element", {
        "using": "css selector",
        "value": f"#merged tbody tr[data-item-id='{first}'] button.item"}, session=True)
    element = next(iter(button.values()))
    driver.call("POST", f"/element/{element}/click", {}, session=True)
    driver.wait_for("return document.body.dataset.similar", "ready", "similar items")
    similar = driver.script(ROW_IDS.format("#similar"))
    want_similar = rpc_ids(bin_dir, grpc_port, "--similar", "--seeds", first, "--k", "50")
    if not similar or similar != want_similar:
        fail(f"after a click on {first} the page shows {similar[:5]}..., "
             f"SimilarItems answered {want_similar[:5]}...")
    print(f"a click on {first} shows its {len(similar)} similar items, as SimilarItems")


def main():
    if len(sys.argv) < 2:
        fail(__doc__)
    bin_dir = sys.argv[1]
    for tool in ("chromium", "chromedriver"):
        if shutil.which(tool) is None:
            fail(f"{tool} is not installed (scripts/install-deps.sh installs it)")
    tmp = tempfile.mkdtemp()
    server = driver = None
    try:
        root = make_snapshot(bin_dir, tmp)
        server, grpc_port, debug_port = start_server(bin_dir, root, tmp)
        want_ids = rpc_ids(bin_dir, grpc_port, "--user", USER, "--wait", "30")
        if not want_ids:
            fail("the RPC answered no candidates")
        driver = WebDriver(tmp)
        check_page(driver, debug_port, want_ids, bin_dir, grpc_port)
        shot = base64.b64decode(driver.call("GET", "/screenshot", session=True))
        path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(tmp, "debug.png")
        with open(path, "wb") as f:
            f.write(shot)
        if not shot.startswith(b"\x89PNG") or len(shot) < 10000:
            fail(f"the screenshot is not a PNG of the page ({len(shot)} bytes)")
        print(f"screenshot {path}: {len(shot)} bytes")
    finally:
        if driver is not None:
            driver.quit()
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
