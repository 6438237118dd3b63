// The strm dashboard: polls snapshot.json (beside this page) once a second and redraws.
// Rates are the Monitor's where it has them (agents), else the difference between two
// snapshots over the worker's own clock. Every value is written with textContent: a topic or
// an error message is shown, never interpreted as HTML.
"use strict";

const POLL_MS = 1000;
let previous = null;

function $(id) { return document.getElementById(id); }

function count(n) {
  return n === null || n === undefined ? "-" : Number(n).toLocaleString("en-US");
}

function perSecond(n) {
  if (n === null || n === undefined) return "-";
  return (n >= 100 ? Math.round(n) : Math.round(n * 10) / 10).toLocaleString("en-US") + "/s";
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "-";
  if (seconds < 0.001) return (seconds * 1e6).toFixed(0) + " µs";
  if (seconds < 1) return (seconds * 1000).toFixed(1) + " ms";
  if (seconds < 120) return seconds.toFixed(1) + " s";
  if (seconds < 7200) return Math.floor(seconds / 60) + " min";
  return (seconds / 3600).toFixed(1) + " h";
}

function clock(unixSeconds) {
  return new Date(unixSeconds * 1000).toLocaleTimeString("en-GB");
}

function rate(key, value, snapshot) {
  // Events per second since the previous snapshot, by the worker's uptime clock.
  if (!previous || value === null || value === undefined) return null;
  const before = previous.counts[key];
  const elapsed = snapshot.uptime_seconds - previous.uptime;
  if (before === undefined || elapsed <= 0) return null;
  return Math.max(0, value - before) / elapsed;
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function fill(tableId, rows, columns, emptyText) {
  const body = $(tableId).tBodies[0];
  const fresh = document.createElement("tbody");
  if (rows.length === 0) {
    const td = cell(emptyText, "empty");
    td.colSpan = columns;
    fresh.appendChild(document.createElement("tr")).appendChild(td);
  }
  for (const cells of rows) {
    const tr = document.createElement("tr");
    for (const td of cells) tr.appendChild(td);
    fresh.appendChild(tr);
  }
  body.replaceWith(fresh);
}

function progressCell(recovery) {
  if (!recovery) return cell("-", "empty");
  const td = document.createElement("td");
  const bar = document.createElement("span");
  bar.className = "bar";
  const done = document.createElement("span");
  const share = recovery.total > 0 ? Math.min(1, recovery.done / recovery.total) : 1;
  done.style.width = (share * 100).toFixed(1) + "%";
  bar.appendChild(done);
  td.appendChild(bar);
  const replayed = " (" + count(recovery.done) + " of " + count(recovery.total) + " replayed)";
  if (recovery.finished) {
    td.appendChild(document.createTextNode("recovered" + (recovery.total ? replayed : "")));
  } else {
    td.appendChild(document.createTextNode(Math.floor(share * 100) + "%" + replayed));
  }
  return td;
}

function render(s) {
  const counts = {};
  document.title = s.app + " · strm dashboard";
  $("app-id").textContent = s.app;
  $("app-state").textContent = s.state;
  $("app-state").className = "state " + s.state;
  $("strm-version").textContent = s.strm;
  $("uptime").textContent = duration(s.uptime_seconds);
  $("monitor-off").hidden = s.monitor !== "off";

  const t = s.totals;
  counts["in"] = t.events_in;
  counts["out"] = t.events_out;
  $("events-in").textContent = count(t.events_in);
  $("events-in-rate").textContent = perSecond(rate("in", t.events_in, s));
  $("events-out").textContent = count(t.events_out);
  $("events-out-rate").textContent = perSecond(rate("out", t.events_out, s));
  $("total-lag").textContent = count(t.lag);
  $("commits").textContent = count(t.commits);
  $("commit-latency").textContent = "avg " + duration(t.commit_latency_avg);
  $("rebalance-count").textContent = count(t.rebalances);
  $("dead-letters").textContent = count(t.dead_letters);

  fill("agents", s.agents.map((a) => {
    counts["agent:" + a.name] = a.events;
    return [
      cell(a.name), cell(a.channel),
      cell(count(a.events), "n events"),
      cell(perSecond(a.rate !== null ? a.rate : rate("agent:" + a.name, a.events, s)), "n"),
      cell(duration(a.p50_seconds), "n"), cell(duration(a.p99_seconds), "n"),
      cell(count(a.errors), "n"), cell(count(a.restarts), "n"),
    ];
  }), 8, "no agents");

  fill("partitions", s.partitions.map((p) => {
    const key = "tp:" + p.topic + "/" + p.partition;
    counts[key] = p.events;
    return [
      cell(p.topic), cell(String(p.partition), "n"),
      cell(count(p.events), "n"), cell(perSecond(rate(key, p.events, s)), "n"),
      cell(count(p.committed), "n"), cell(count(p.end), "n"),
      cell(count(p.lag), p.lag > 0 ? "n lagging" : "n"),
    ];
  }), 7, "no partitions assigned");

  fill("tables", s.tables.map((tb) => [
    cell(tb.name), cell(count(tb.size), "n"), progressCell(tb.recovery),
  ]), 3, "no tables");

  fill("errors", s.errors.slice().reverse().map((e) => [
    cell(clock(e.time)), cell(e.where), cell(e.type + ": " + e.message),
  ]), 3, "none");

  fill("rebalances", s.rebalances.slice().reverse().map((r) => [
    cell(clock(r.time)), cell(count(r.assigned), "n"), cell(count(r.revoked), "n"),
    cell(duration(r.seconds), "n"),
  ]), 4, "none");

  previous = { uptime: s.uptime_seconds, counts: counts };
}

async function poll() {
  try {
    const response = await fetch("snapshot.json", { cache: "no-store" });
    if (!response.ok) throw new Error("HTTP " + response.status);
    render(await response.json());
    $("connection").textContent = "updated " + new Date().toLocaleTimeString("en-GB");
    $("connection").className = "connection";
  } catch (error) {
    $("connection").textContent = "worker unreachable (" + error.message + "); retrying";
    $("connection").className = "connection stale";
    $("app-state").textContent = "unreachable";
    $("app-state").className = "state unreachable";
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

poll();
