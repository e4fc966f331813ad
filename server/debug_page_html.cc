// The debug page's one static document (server/debug_page.h). Plain HTML,
// CSS and script with no external resources. Data from the JSON endpoints
// only ever enters the document as text nodes (el() below): titles and tags
// are user content.
#include "server/debug_page.h"

namespace recall {

const char kDebugPageHtml[] = R"HTML(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>recall-server debug</title>
<style>
body { font: 13px/1.4 system-ui, sans-serif; margin: 16px; color: #222; }
h1 { font-size: 18px; margin: 0 0 4px; }
h2 { font-size: 15px; margin: 18px 0 6px; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 4px 0; }
th, td { border: 1px solid #ddd; padding: 2px 6px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
button.item { font: inherit; color: #0645ad; background: none; border: none;
  padding: 0; cursor: pointer; text-decoration: underline; }
.muted { color: #777; }
.error { color: #b00; font-weight: bold; }
.src { overflow-wrap: anywhere; }
td.title { min-width: 14em; }
#layout { display: flex; gap: 24px; align-items: flex-start; }
#main { flex: 3; min-width: 0; overflow-x: auto; }
#side { flex: 2; min-width: 0; overflow-x: auto; }
form label { margin-right: 10px; }
input[type=number] { width: 70px; }
</style>
</head>
<body data-state="loading">
<h1>recall-server debug</h1>
<div id="info" class="muted"></div>
<form id="form">
  <label>user <input id="user" size="14"></label>
  <label>seeds <input id="seeds" size="24" placeholder="item ids, comma-separated"></label>
  <label>k <input id="k" type="number" value="100" min="1"></label>
  <label><input id="only" type="checkbox"> only the channels overridden below</label>
  <button type="submit">Recall</button>
  <details><summary>channel overrides (blank: the policy's)</summary>
    <table id="overrides"><thead><tr><th>channel</th><th>enabled</th><th>quota</th>
      <th>min_similarity</th><th>weight</th><th>fetch_k</th></tr></thead><tbody></tbody></table>
  </details>
  <div class="muted">request: <code id="request"></code></div>
</form>
<div id="error" class="error"></div>
<div id="layout">
<div id="main">
  <h2 id="answer-title">Merged answer</h2>
  <div id="answer-flags" class="muted"></div>
  <table id="merged"><thead><tr><th>#</th><th>item</th><th>title (or tags)</th><th>category</th>
    <th>score</th><th>sources: channel (via) similarity / score, rank</th></tr></thead>
    <tbody></tbody></table>
  <h2>Channels</h2>
  <table id="channels"><thead><tr><th>channel</th><th>status</th><th>found</th><th>kept</th>
    <th>dropped (threshold)</th><th>excluded</th><th>truncated</th><th>latency us</th>
    <th>note</th></tr></thead><tbody></tbody></table>
  <h2>User record</h2>
  <div id="user-record"></div>
  <h2>Real time</h2>
  <div id="realtime"></div>
  <h2>Snapshot</h2>
  <div id="snapshot"></div>
</div>
<div id="side">
  <h2 id="similar-title">Similar items</h2>
  <div class="muted" id="similar-hint">Click an item to see the items similar to it.</div>
  <table id="similar"><thead><tr><th>#</th><th>item</th><th>title</th><th>score</th>
    <th>sources</th></tr></thead><tbody></tbody></table>
</div>
</div>
<script>
"use strict";
// Builds an element; string children become text nodes, never markup.
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "onclick") e.addEventListener("click", v); else e.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}
function num(x, digits) {
  return typeof x === "number" ? x.toFixed(digits) : String(x);
}
function fill(tbody, rows) { tbody.replaceChildren(...rows); }
function showError(what, body) {
  const msg = body && body.message ? body.code + ": " + body.message : String(body);
  document.getElementById("error").replaceChildren(what + ": " + msg);
}
async function getJson(path, params) {
  const r = await fetch(path + "?" + new URLSearchParams(params));
  const body = await r.json();
  if (!r.ok) throw body;
  return body;
}
function itemButton(id) {
  return el("button", {class: "item", "data-item-id": id, type: "button",
                       onclick: () => showSimilar(id)}, id);
}
function itemCells(id, meta) {
  const m = meta || {};
  // No title (the synthetic world has none): the item's tags, greyed.
  const title = m.title ? el("td", {class: "title"}, m.title)
      : el("td", {class: "muted"}, (m.tags || []).map(t => t.tag).join(", "));
  return [el("td", {}, itemButton(id)), title, el("td", {}, m.cat2 || m.cat1 || "")];
}
function sourcesText(sources) {
  return sources.map(s => el("div", {class: "src"},
      s.channel + (s.via ? " (" + s.via + ")" : "") + " " + num(s.similarity, 3) +
      " / " + num(s.score, 3) + ", #" + s.rank));
}
function answerRows(body, withCategory) {
  return body.response.items.map((it, i) => {
    const cells = itemCells(it.item_id, body.items[it.item_id]);
    if (!withCategory) cells.pop();
    return el("tr", {"data-item-id": it.item_id}, el("td", {class: "num"}, i + 1),
              cells, el("td", {class: "num"}, num(it.score, 4)),
              el("td", {}, sourcesText(it.sources)));
  });
}
function channelRows(stats) {
  return stats.map(c => el("tr", {"data-channel": c.channel}, el("td", {}, c.channel),
      el("td", {}, c.status), el("td", {class: "num"}, c.found), el("td", {class: "num"}, c.kept),
      el("td", {class: "num"}, c.dropped_by_threshold), el("td", {class: "num"}, c.excluded),
      el("td", {class: "num"}, c.truncated), el("td", {class: "num"}, c.latency_us),
      el("td", {}, [c.clamped, c.note].filter(Boolean).join("; "))));
}
function buildRequest() {
  const req = {user_id: document.getElementById("user").value.trim(),
               k: Number(document.getElementById("k").value) || 0};
  const seeds = document.getElementById("seeds").value.split(",").map(s => s.trim()).filter(Boolean);
  if (seeds.length) req.seed_item_ids = seeds;
  const overrides = [];
  for (const row of document.querySelectorAll("#overrides tbody tr")) {
    const o = {channel: row.dataset.channel};
    const enabled = row.querySelector("[name=enabled]").checked;
    if (!enabled) o.enabled = false;
    for (const f of ["quota", "min_similarity", "weight", "fetch_k"]) {
      const v = row.querySelector("[name=" + f + "]").value.trim();
      if (v !== "") o[f] = Number(v);
    }
    if (Object.keys(o).length > 1 || document.getElementById("only").checked && enabled)
      overrides.push(o);
  }
  if (overrides.length) req.channel_overrides = overrides;
  if (document.getElementById("only").checked) req.only_overridden_channels = true;
  return req;
}
function kv(rows) {
  return el("table", {}, rows.map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, v))));
}
function clickTable(clicks, cls) {
  if (!clicks.length) return el("div", {class: "muted"}, "none");
  return el("table", {class: cls}, el("tr", {}, el("th", {}, "time"), el("th", {}, "item"),
      el("th", {}, "title"), el("th", {}, "category")),
    clicks.map(c => el("tr", {}, el("td", {}, new Date(c.ts * 1000).toISOString()),
      c.item ? itemCells(c.item.item_id, c.item) : el("td", {colspan: 3}, "(gone)"))));
}
function renderUser(u) {
  const box = document.getElementById("user-record");
  if (!u.found) {
    box.replaceChildren(el("div", {class: "muted"}, "The snapshot has no record of " +
        u.user_id + " (a new reader: the fallback answers)."));
  } else {
    box.replaceChildren(
      kv([["seen items", u.seen_items],
          ["user vectors", u.vectors.map(v => v.space + " (" + v.dim + ")").join(", ")],
          ["clusters", u.clusters.map(c => c.clustering + "/" + c.cluster +
              (c.label ? " " + c.label : "") + " w=" + num(c.weight, 3)).join("; ")],
          ["tags", u.tags.slice(0, 30).map(t => t.tag + " " + num(t.weight, 3)).join(", ")]]),
      el("h3", {}, "Recent clicks"), clickTable(u.recent_clicks, "recent"));
  }
  const rt = document.getElementById("realtime");
  const parts = [];
  if (u.realtime) {
    parts.push(kv([["click stream", u.realtime.status]]), el("h3", {}, "Fresh clicks"),
               clickTable(u.realtime.fresh_clicks, "fresh"), el("h3", {}, "Hot now"),
               el("table", {}, u.realtime.hot_now.map((h, i) => el("tr", {},
                 el("td", {class: "num"}, i + 1), h.item ? itemCells(h.item.item_id, h.item) : el("td", {}, "(gone)"),
                 el("td", {class: "num"}, num(h.score, 2))))));
  } else {
    parts.push(el("div", {class: "muted"}, "No click stream (--click_stream)."));
  }
  if (u.live_items) {
    parts.push(el("h3", {}, "Live items"), kv([["item stream", u.live_items.status],
      ["live items", u.live_items.items], ["taken down", u.live_items.taken_down],
      ["per space", u.live_items.spaces.map(s => s.space + ": " + s.items).join(", ")]]));
  } else {
    parts.push(el("div", {class: "muted"}, "No item stream (--item_stream)."));
  }
  rt.replaceChildren(...parts);
}
function streamText(st) {
  if (!st || !st.url) return "not configured";
  return st.url + (st.connected ? ", connected" : ", NOT connected") +
    (st.caught_up ? ", caught up" : ", catching up") + ", lag " + num(st.lag_seconds, 1) + " s";
}
function renderSnapshot(info) {
  const age = s => num(Number(s) / 3600, 1) + " h";
  document.getElementById("snapshot").replaceChildren(
    kv([["version", info.version], ["built", age(info.age_seconds) + " ago"],
        ["items / users", info.item_count + " / " + info.user_count],
        ["policy channels", info.channels.join(", ")],
        ["click stream", streamText(info.click_stream)],
        ["item stream", streamText(info.item_stream)]]),
    el("table", {id: "spaces"}, el("tr", {}, ["space", "dim", "items", "index", "user vectors",
        "i2i table", "live items"].map(h => el("th", {}, h))),
      info.spaces.map(sp => el("tr", {}, el("td", {}, sp.name), el("td", {class: "num"}, sp.dim),
        el("td", {class: "num"}, sp.count), el("td", {}, sp.index_factory),
        el("td", {}, sp.has_user_vectors ? "yes" : "no"),
        el("td", {}, sp.neighbour_table_items > 0 ? sp.neighbour_table_items + " items, k=" +
           sp.neighbour_table_k : "none"),
        el("td", {class: "num"}, sp.live_items)))));
}
async function runRecall(push) {
  document.body.dataset.state = "loading";
  document.getElementById("error").replaceChildren();
  const req = buildRequest();
  document.getElementById("request").textContent = JSON.stringify(req);
  if (push) history.pushState(null, "", "?user=" + encodeURIComponent(req.user_id));
  try {
    const body = await getJson("api/recall", {request: JSON.stringify(req)});
    const r = body.response;
    fill(document.querySelector("#merged tbody"), answerRows(body, true));
    fill(document.querySelector("#channels tbody"), channelRows(r.channel_stats));
    document.getElementById("answer-flags").textContent =
      r.items.length + " items; snapshot " + r.snapshot_version +
      (r.user_found ? "" : "; user not in the snapshot") + (r.partial ? "; PARTIAL" : "") +
      (r.backfilled ? "; back-filled" : "") + (r.truncated ? "; truncated" : "");
    if (req.user_id) renderUser(await getJson("api/user", {user: req.user_id}));
    document.body.dataset.state = "ready";
  } catch (e) {
    showError("recall", e);
    document.body.dataset.state = "error";
  }
}
async function showSimilar(id) {
  document.body.dataset.similar = "loading";
  document.getElementById("similar-title").textContent = "Similar to " + id;
  document.getElementById("similar-hint").textContent = "";
  try {
    const body = await getJson("api/similar", {request: JSON.stringify({item_ids: [id], k: 20})});
    fill(document.querySelector("#similar tbody"), answerRows(body, false));
    document.body.dataset.similar = "ready";
  } catch (e) {
    showError("similar items of " + id, e);
    document.body.dataset.similar = "error";
  }
}
async function init() {
  try {
    const info = await getJson("api/info", {});
    document.getElementById("info").textContent = "snapshot " + info.version + ", " +
      info.item_count + " items, " + info.user_count + " users, serving for " +
      info.served_seconds + " s";
    renderSnapshot(info);
    fill(document.querySelector("#overrides tbody"), info.channels.map(c =>
      el("tr", {"data-channel": c}, el("td", {}, c),
         el("td", {}, el("input", {type: "checkbox", name: "enabled", checked: ""})),
         ["quota", "min_similarity", "weight", "fetch_k"].map(f =>
           el("td", {}, el("input", {name: f, size: 6}))))));
  } catch (e) {
    showError("snapshot info", e);
  }
  const params = new URLSearchParams(location.search);
  document.getElementById("user").value = params.get("user") || "";
  document.getElementById("seeds").value = params.get("seeds") || "";
  if (params.get("k")) document.getElementById("k").value = params.get("k");
  document.getElementById("form").addEventListener("submit", ev => {
    ev.preventDefault();
    runRecall(true);
  });
  if (params.get("item")) showSimilar(params.get("item"));
  if (params.get("user") || params.get("seeds")) await runRecall(false);
  else document.body.dataset.state = "ready";
}
init();
</script>
</body>
</html>
)HTML";

}  // namespace recall
