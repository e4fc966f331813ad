#!/usr/bin/env python3
"""The Grafana dashboard (deploy/grafana) queries what a real recall-server exports.

Usage: grafana_dashboard_test.py BIN_DIR [DASHBOARD_JSON] [--promtool PATH]

1. Every PromQL query of the dashboard (panel targets, and the selectors of its
   label_values() template variables), with the template variables replaced by
   concrete values, is written as a recording rule and checked by
   `promtool check rules`: each must parse.
2. A real recall-server is started, with a real redis-server behind its click and
   item streams (their series exist only then), and sent Recall and SimilarItems
   calls, and a burst of calls with deadlines too short to finish
   (the per-channel failure series exist only after a channel timed out). Its
   /metrics is scraped: every metric name a query uses must be an exported sample
   name (a histogram as NAME_bucket, NAME_sum or NAME_count), every label a
   selector matches on, and every label a query groups by, must be one of that
   metric's labels (or job and instance, which Prometheus adds).
3. The checks must catch mistakes: a copy of the dashboard with a misspelled
   metric and an expression that does not parse must fail both checks.

Every failure names the panel (or template variable) and the metric or the
parse error. Only the Python standard library is used; promtool, redis-server and
BIN_DIR/recall-server and BIN_DIR/recallctl are run as they are.
"""
import argparse
import copy
import difflib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
GRAFANA = os.path.join(REPO, "deploy", "grafana")
DEFAULT_DASHBOARD = os.path.join(GRAFANA, "dashboards", "recall-service.json")
DATASOURCES = os.path.join(GRAFANA, "provisioning", "datasources", "prometheus.yaml")

# Grafana's global variables, as a query would see them.
GRAFANA_BUILTINS = {
    "__rate_interval": "1m", "__interval": "30s", "__interval_ms": "30000",
    "__range": "1h", "__range_s": "3600", "__range_ms": "3600000",
    "__from": "1700000000000", "__to": "1700003600000",
}
# Series Prometheus writes itself for each target (not in /metrics).
PROMETHEUS_SYNTHETIC = {"up", "scrape_duration_seconds", "scrape_samples_scraped",
                        "scrape_samples_post_metric_relabeling", "scrape_series_added"}
# Labels Prometheus attaches to every scraped series.
TARGET_LABELS = {"job", "instance"}

AGGREGATIONS = {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count",
                "count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio"}
GROUPING = {"by", "without", "on", "ignoring", "group_left", "group_right"}
KEYWORDS = GROUPING | {"bool", "and", "or", "unless", "offset", "atan2", "inf", "nan"}
# Functions that make labels of their own: a query using one is not checked for
# grouping labels.
LABEL_MAKERS = {"label_replace", "label_join", "count_values"}

TOKEN = re.compile(r"""
   (?P<ws>\s+|\#[^\n]*)
  |(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  |(?P<num>0[xX][0-9a-fA-F]+|(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?(?:[a-zA-Z]+\d*)*)
  |(?P<id>[a-zA-Z_:][a-zA-Z0-9_:]*)
  |(?P<op>=~|!~|!=|==|<=|>=|[-+*/%^<>=,(){}\[\]@:])
""", re.X)


class Failures:
    def __init__(self):
        self.messages = []

    def add(self, message):
        self.messages.append(message)

    def __bool__(self):
        return bool(self.messages)


# --- The dashboard ----------------------------------------------------------

def all_panels(panels):
    """Panels, rows' nested panels (collapsed rows) included."""
    for panel in panels or []:
        yield panel
        yield from all_panels(panel.get("panels"))


def variable_query(variable):
    """The PromQL expression inside a query variable's definition, or None."""
    query = variable.get("query")
    if isinstance(query, dict):
        query = query.get("query")
    query = query or variable.get("definition") or ""
    query = query.strip()
    m = re.fullmatch(r"label_values\((.*),\s*[a-zA-Z_]\w*\s*\)", query, re.S)
    if m:
        return m.group(1)
    m = re.fullmatch(r"query_result\((.*)\)", query, re.S)
    if m:
        return m.group(1)
    return None  # label_values(label), label_names(), metrics(re): no expression


def queries(dashboard):
    """(where, expr) for each PromQL query of the dashboard."""
    out = []
    for panel in all_panels(dashboard.get("panels")):
        if panel.get("type") == "row":
            continue
        for target in panel.get("targets") or []:
            where = 'panel "%s" (id %s, target %s)' % (
                panel.get("title"), panel.get("id"), target.get("refId"))
            out.append((where, target.get("expr", "")))
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") == "query":
            expr = variable_query(variable)
            if expr is not None:
                out.append(('template variable "$%s"' % variable.get("name"), expr))
    return out


def variable_values(dashboard):
    """A concrete value for each template variable, as Grafana would put it in a query."""
    values = {}
    for variable in dashboard.get("templating", {}).get("list", []):
        name = variable.get("name")
        kind = variable.get("type")
        current = (variable.get("current") or {}).get("value")
        if isinstance(current, list):
            current = current[0] if current else None
        if current == "$__all":
            current = variable.get("allValue") or ".*"
        if kind in ("interval", "custom") and not current:
            current = str(variable.get("query", "")).split(",")[0].strip()
        if kind == "constant":
            current = str(variable.get("query", ""))
        values[name] = current if current else "value_of_" + name
    return values


VARIABLE = re.compile(r"\$\{([A-Za-z_]\w*)(?::[\w]+)?\}|\[\[([A-Za-z_]\w*)(?::\w+)?\]\]"
                      r"|\$([A-Za-z_]\w*)")


def substitute(expr, values):
    """expr with the dashboard's and Grafana's variables replaced; unknown names."""
    unknown = []

    def value(m):
        name = m.group(1) or m.group(2) or m.group(3)
        if name in values:
            return values[name]
        if name in GRAFANA_BUILTINS:
            return GRAFANA_BUILTINS[name]
        unknown.append(name)
        return m.group(0)

    return VARIABLE.sub(value, expr), unknown


def check_structure(dashboard, datasource_uid, failures):
    """Panels and their targets use the provisioned datasource; ids are unique."""
    ids = {}
    for panel in all_panels(dashboard.get("panels")):
        title = panel.get("title")
        if panel.get("id") in ids:
            failures.add('panel "%s": id %s is also panel "%s"\'s' % (
                title, panel.get("id"), ids[panel.get("id")]))
        ids[panel.get("id")] = title
        if panel.get("type") == "row":
            continue
        sources = [("panel", panel.get("datasource"))] + [
            ("target " + str(t.get("refId")), t.get("datasource"))
            for t in panel.get("targets") or [] if t.get("datasource") is not None]
        for what, source in sources:
            uid = source.get("uid") if isinstance(source, dict) else source
            if uid != datasource_uid:
                failures.add('panel "%s": %s datasource %r is not the provisioned %r (%s)' % (
                    title, what, uid, datasource_uid, os.path.relpath(DATASOURCES, REPO)))
        if not panel.get("targets"):
            failures.add('panel "%s": no queries' % title)
        for target in panel.get("targets") or []:
            if not str(target.get("expr", "")).strip():
                failures.add('panel "%s": target %s has no expr' % (title, target.get("refId")))
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") != "query":
            continue
        source = variable.get("datasource")
        uid = source.get("uid") if isinstance(source, dict) else source
        if uid != datasource_uid:
            failures.add('template variable "$%s": datasource %r is not the provisioned %r' % (
                variable.get("name"), uid, datasource_uid))


# --- PromQL -----------------------------------------------------------------

def lex(expr):
    tokens = []
    pos = 0
    while pos < len(expr):
        m = TOKEN.match(expr, pos)
        if not m:
            raise ValueError("cannot read %r at column %d" % (expr[pos:pos + 10], pos + 1))
        if m.lastgroup != "ws":
            tokens.append((m.lastgroup, m.group(0)))
        pos = m.end()
    return tokens


def unquote(literal):
    if literal[0] == "`":
        return literal[1:-1]
    return bytes(literal[1:-1], "utf-8").decode("unicode_escape")


def names_in(expr):
    """What a PromQL expression reads: (metrics, [(metric or None, label)] of its
    selectors' matchers, grouping labels, whether it makes labels of its own)."""
    toks = lex(expr)
    metrics, matchers, grouping = set(), [], set()
    makes_labels = False

    def text(i):
        return toks[i][1] if i < len(toks) else None

    def selector(i, metric):
        """Reads the matchers from toks[i] == '{'; returns the index after '}'."""
        i += 1
        found = []
        while i < len(toks) and text(i) != "}":
            if text(i) == ",":
                i += 1
                continue
            label, op, value = text(i), text(i + 1), toks[i + 2] if i + 2 < len(toks) else None
            if value is None or value[0] != "str":
                raise ValueError("cannot read the matcher at %r" % label)
            found.append((label, op, unquote(value[1])))
            i += 3
        for label, op, value in found:
            if label == "__name__" and op == "=":
                metric = value
                metrics.add(value)
        for label, op, value in found:
            if label != "__name__":
                matchers.append((metric, label))
        return i + 1

    i = 0
    while i < len(toks):
        kind, word = toks[i]
        if word == "[":  # a range or a subquery: durations only
            while i < len(toks) and text(i) != "]":
                i += 1
            i += 1
            continue
        if word == "{":
            i = selector(i, None)
            continue
        if kind == "id":
            low = word.lower()
            following = text(i + 1)
            if low in GROUPING and following == "(":
                i += 2
                while i < len(toks) and text(i) != ")":
                    if toks[i][0] == "id":
                        grouping.add(toks[i][1])
                    i += 1
                i += 1
                continue
            if low in KEYWORDS:
                i += 1
                continue
            if following == "(" or (word in AGGREGATIONS and
                                    (following or "").lower() in ("by", "without")):
                if word in LABEL_MAKERS:
                    makes_labels = True
                i += 1
                continue
            metrics.add(word)
            if following == "{":
                i = selector(i + 1, word)
            else:
                i += 1
            continue
        i += 1
    return metrics, matchers, grouping, makes_labels


def check_parse(items, promtool, tmp, failures):
    """items: [(where, expr)] already substituted. promtool check rules on them all."""
    rules = [{"record": "dashboard:q%d" % n, "expr": expr} for n, (_, expr) in enumerate(items)]
    path = os.path.join(tmp, "dashboard_rules.yml")
    with open(path, "w") as f:
        # JSON is YAML: no YAML library needed.
        json.dump({"groups": [{"name": "grafana-dashboard", "rules": rules}]}, f, indent=1)
    run = subprocess.run([promtool, "check", "rules", path], capture_output=True, text=True)
    if run.returncode == 0:
        return
    output = run.stdout + run.stderr
    named = 0
    for m in re.finditer(r'"dashboard:q(\d+)": (.*)', output):
        where, expr = items[int(m.group(1))]
        failures.add("%s: promtool: %s\n    expr: %s" % (where, m.group(2), expr))
        named += 1
    if named == 0:
        failures.add("promtool check rules failed:\n" + output)


def check_names(items, exposition, failures):
    """items: [(where, expr)]. Metric and label names against a real scrape."""
    samples, labels = exposition
    for where, expr in items:
        try:
            metrics, matchers, grouping, makes_labels = names_in(expr)
        except ValueError as e:
            failures.add("%s: cannot read the expression (%s)\n    expr: %s" % (where, e, expr))
            continue
        for metric in sorted(metrics):
            if metric in samples or metric in PROMETHEUS_SYNTHETIC:
                continue
            hint = ""
            if metric + "_bucket" in samples:
                hint = " (a histogram: query %s_bucket, _sum or _count)" % metric
            else:
                close = difflib.get_close_matches(metric, sorted(samples), n=1, cutoff=0.8)
                if close:
                    hint = " (did you mean %s?)" % close[0]
            failures.add("%s: metric %s is not exported by recall-server%s" % (where, metric, hint))
        for metric, label in matchers:
            if label in TARGET_LABELS or metric in PROMETHEUS_SYNTHETIC:
                continue
            if metric is None or metric not in samples:
                continue  # no metric name, or reported above
            if label not in labels[metric]:
                failures.add("%s: metric %s has no label %s (its labels: %s)" % (
                    where, metric, label, ", ".join(sorted(labels[metric])) or "none"))
        if makes_labels:
            continue
        known = set(TARGET_LABELS)
        for metric in metrics:
            known |= labels.get(metric, set())
        for label in sorted(grouping - known):
            failures.add("%s: groups by %s, a label none of %s has" % (
                where, label, ", ".join(sorted(metrics))))


# --- A real server ----------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_ports(proc, log):
    """The gRPC and metrics ports a server started with port 0 logs."""
    for _ in range(300):
        m = re.search(r"serving on port (\d+), metrics on port (\d+)", open(log).read())
        if m:
            return int(m.group(1)), int(m.group(2))
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    sys.exit("recall-server did not start:\n" + open(log).read()[-3000:])


def wait_for_redis(port, proc, log):
    for _ in range(100):
        if proc.poll() is not None:
            sys.exit("redis-server exited:\n" + open(log).read())
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit("redis-server did not answer on port %d" % port)


def scrape(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
        body = r.read().decode()
    samples, labels = set(), {}
    for line in body.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?", line)
        if not m:
            continue
        name = m.group(1)
        samples.add(name)
        names = labels.setdefault(name, set())
        names.update(re.findall(r'([a-zA-Z_]\w*)="', m.group(2) or ""))
    return samples, labels


def run(cmd, what):
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit("%s failed (%d): %s\n%s%s" % (what, done.returncode, " ".join(cmd),
                                                done.stdout[-2000:], done.stderr[-2000:]))
    return done.stdout


def serve_and_scrape(bin_dir, tmp, wanted):
    """Starts redis-server and recall-server with both streams, sends traffic, and
    returns the parsed /metrics once it has every name in `wanted` (or after a
    few rounds of traffic)."""
    redis = shutil.which("redis-server")
    if not redis:
        sys.exit("redis-server not installed (the click and item stream series need it)")
    recallctl = os.path.join(bin_dir, "recallctl")
    world, root = os.path.join(tmp, "world"), os.path.join(tmp, "root")
    run([recallctl, "gen", "--out", world, "--items", "500", "--users", "50", "--dim", "8",
         "--extra_spaces=false"], "recallctl gen")
    run([recallctl, "build", "--input", world, "--out", root, "--index", "Flat"],
        "recallctl build")
    procs = []
    try:
        redis_port = free_port()
        redis_log = os.path.join(tmp, "redis.log")
        procs.append(subprocess.Popen(
            [redis, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", tmp],
            stdout=open(redis_log, "w"), stderr=subprocess.STDOUT))
        wait_for_redis(redis_port, procs[-1], redis_log)

        broker = "redis://127.0.0.1:%d" % redis_port
        server_log = os.path.join(tmp, "server.log")
        # Port 0: the kernel picks free ports (no race with tests beside this one).
        procs.append(subprocess.Popen(
            [os.path.join(bin_dir, "recall-server"), "--snapshot_root", root,
             "--host", "127.0.0.1", "--port", "0",
             "--metrics_host", "127.0.0.1", "--metrics_port", "0",
             "--admin_port", "-1",
             "--click_stream", broker + "/clicks", "--item_stream", broker + "/items"],
            stdout=open(server_log, "w"), stderr=subprocess.STDOUT))
        grpc_port, metrics_port = wait_for_ports(procs[-1], server_log)
        target = "127.0.0.1:%d" % grpc_port
        health = subprocess.run([recallctl, "health", "--target", target, "--wait", "30"],
                                capture_output=True, text=True)
        if health.returncode != 0:
            sys.exit("recall-server did not serve:\n" + open(server_log).read()[-3000:])

        # Recall and SimilarItems calls: the channels of the policy run.
        users = open(os.path.join(world, "users.txt")).read().split()
        item = open(os.path.join(world, "items.tsv")).readline().split("\t")[0]
        for user in users[:3]:
            run([recallctl, "query", "--target", target, "--user", user, "--k", "5",
                 "--wait", "30"], "recallctl query --user")
        run([recallctl, "query", "--target", target, "--seeds", item, "--k", "5"],
            "recallctl query --seeds")

        # Calls with deadlines too short for the whole plan: channels cut off by the
        # deadline are counted in recall_channel_failures_total{code=DEADLINE_EXCEEDED}
        # (a series that exists only after a failure).
        users_file = os.path.join(world, "users.txt")
        exposition = scrape(metrics_port)
        for deadline_ms in ("0.3", "0.6", "1", "0.2", "2", "0.4"):
            if wanted <= exposition[0] | PROMETHEUS_SYNTHETIC:
                break
            subprocess.run([recallctl, "bench", "--target", target, "--user_ids", users_file,
                            "--duration", "1", "--warmup", "0", "--concurrency", "4",
                            "--deadline_ms", deadline_ms], capture_output=True, text=True)
            exposition = scrape(metrics_port)
        if procs[-1].poll() is not None:
            sys.exit("recall-server exited:\n" + open(server_log).read()[-3000:])
        return exposition
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# --- The checks -------------------------------------------------------------

def prepare(dashboard):
    """[(where, substituted expr)] and failures for undefined variables."""
    failures = Failures()
    values = variable_values(dashboard)
    items = []
    for where, expr in queries(dashboard):
        concrete, unknown = substitute(expr, values)
        for name in unknown:
            failures.add("%s: $%s is neither a template variable of the dashboard nor "
                         "Grafana's" % (where, name))
        items.append((where, concrete))
    return items, failures


def check(dashboard, datasource_uid, promtool, tmp, exposition=None, bin_dir=None):
    items, failures = prepare(dashboard)
    check_structure(dashboard, datasource_uid, failures)
    check_parse(items, promtool, tmp, failures)
    if exposition is None:
        wanted = set()
        for _, expr in items:
            try:
                wanted |= names_in(expr)[0]
            except ValueError:
                pass
        exposition = serve_and_scrape(bin_dir, tmp, wanted)
    check_names(items, exposition, failures)
    return items, failures, exposition


def mistakes(dashboard):
    """A copy with a misspelled metric and an expression that does not parse."""
    broken = copy.deepcopy(dashboard)
    targets = [(p, t) for p in all_panels(broken.get("panels")) for t in p.get("targets") or []]
    misspelt = next((p, t) for p, t in targets if "recall_requests_total" in t.get("expr", ""))
    misspelt[1]["expr"] = misspelt[1]["expr"].replace("recall_requests_total",
                                                      "recall_requests_totl")
    unparsable = next((p, t) for p, t in targets if p is not misspelt[0])
    unparsable[1]["expr"] = "sum(rate(" + unparsable[1]["expr"]
    return broken, misspelt[0]["title"], unparsable[0]["title"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("bin_dir", help="the build's bin/ (recall-server, recallctl)")
    parser.add_argument("dashboard", nargs="?", default=DEFAULT_DASHBOARD)
    parser.add_argument("--promtool", default=shutil.which("promtool") or "promtool")
    args = parser.parse_args()

    with open(args.dashboard) as f:
        dashboard = json.load(f)
    with open(DATASOURCES) as f:
        m = re.search(r"^\s*uid:\s*['\"]?([\w.-]+)", f.read(), re.M)
    if not m:
        sys.exit("no datasource uid in " + DATASOURCES)
    datasource_uid = m.group(1)

    tmp = tempfile.mkdtemp(prefix="grafana_dashboard_test.")
    try:
        items, failures, exposition = check(dashboard, datasource_uid, args.promtool, tmp,
                                            bin_dir=args.bin_dir)
        shown = os.path.abspath(args.dashboard)
        if shown.startswith(REPO + os.sep):
            shown = os.path.relpath(shown, REPO)
        print("%s: %d queries" % (shown, len(items)))
        if failures:
            print("FAILED: %d problem(s):" % len(failures.messages))
            for message in failures.messages:
                print("  " + message)
            return 1
        print("every query parses (promtool check rules) and reads only metrics and labels "
              "a real recall-server exports (%d sample names scraped)" % len(exposition[0]))

        # The checks catch mistakes: the same checks on a broken copy must fail.
        broken, misspelt_title, unparsable_title = mistakes(dashboard)
        _, caught, _ = check(broken, datasource_uid, args.promtool, tmp, exposition)
        text = "\n".join(caught.messages)
        expected = [('"%s"' % misspelt_title, "recall_requests_totl"),
                    ('"%s"' % unparsable_title, "promtool")]
        missed = [pair for pair in expected
                  if not any(pair[0] in msg and pair[1] in msg for msg in caught.messages)]
        if missed:
            print("FAILED: the checks did not catch a deliberate mistake %s; they reported:\n%s"
                  % (missed, text))
            return 1
        print("and they catch a misspelled metric and an unparsable expression "
              "(%d problems in a broken copy)" % len(caught.messages))
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
