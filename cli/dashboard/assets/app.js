// The dashboard page: plain JavaScript, no framework, nothing fetched from elsewhere.
// The server pushes the whole fleet state on every refresh (server-sent events, `state`);
// each view redraws from it. The topology drawing is fetched once and only its boxes'
// classes change (state, rollout), so the layout never jumps.
"use strict";

(function () {
  const STATES = ["converged", "drifted", "changing", "failed", "unprotected", "unreachable", "declared", "unmanaged"];
  const KIND_TITLES = { host: "Hosts", dpu: "DPUs", service: "Services", device: "Host devices" };
  /** More matching rows than this start with their cluster groups folded. */
  const FOLD_ABOVE = 300;
  /** At most this many rows are drawn; the search narrows the rest. */
  const MAX_ROWS = 2000;

  let current = null;
  /** Topology boxes by node id. */
  const boxes = new Map();
  let selectedId = null;
  /** Cluster groups the user folded or unfolded, by name: true when folded. */
  const folded = new Map();

  const byId = (id) => document.getElementById(id);

  /** An element with attributes and children (strings become text: nothing is parsed as HTML). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat(Infinity)) if (child !== undefined && child !== null) node.append(child instanceof Node ? child : String(child));
    return node;
  }

  const badge = (state, text) => el("span", { class: `badge st-${state}` }, text || state);
  const time = (ms) => new Date(ms).toLocaleTimeString();

  // ---- tabs -------------------------------------------------------------------------
  const tabs = Array.from(document.querySelectorAll('[role="tab"]'));
  function selectTab(tab) {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      byId(t.getAttribute("aria-controls")).hidden = !on;
    }
    redraw();
  }
  for (const tab of tabs) {
    tab.addEventListener("click", () => selectTab(tab));
    tab.addEventListener("keydown", (e) => {
      const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
      if (!step) return;
      const next = tabs[(tabs.indexOf(tab) + step + tabs.length) % tabs.length];
      next.focus();
      selectTab(next);
    });
  }
  const visible = (panel) => !byId(panel).hidden;

  // ---- header -------------------------------------------------------------------------
  function drawHeader(state) {
    byId("stack-name").textContent = `${state.stack} (stack ${state.pulumiStack})`;
    document.title = `smartfleet ${state.stack}`;
    const managed = state.nodes.filter((n) => n.kind === "dpu" && n.resources.length > 0).length;
    byId("refresh-info").textContent = state.observed
      ? `read ${state.dpusRead} of ${managed} DPUs with ${state.requests} requests at ${time(state.refreshedAt)} (${state.refreshMs} ms)`
      : `reading ${managed} DPUs for the first time: until then the stack's word is shown`;
    const items = [];
    for (const [kind, title] of Object.entries(KIND_TITLES)) {
      const counts = state.counts[kind];
      if (!counts) continue;
      const parts = STATES.filter((s) => counts[s]).map((s) => badge(s, `${counts[s]} ${s}`));
      items.push(el("li", {}, `${title}: `, ...parts.flatMap((p, i) => (i ? [" ", p] : [p]))));
    }
    const inMaintenance = state.rollout.maintenance.length;
    const disrupted = state.rollout.disrupted.length;
    if (disrupted) items.push(el("li", {}, badge("disrupted", `${disrupted} disrupted now`)));
    if (inMaintenance) items.push(el("li", {}, badge("maintenance", `${inMaintenance} in maintenance`)));
    byId("summary").replaceChildren(...items);
  }

  // ---- topology -----------------------------------------------------------------------
  byId("state-legend").replaceChildren(
    ...STATES.map((s) => el("li", {}, badge(s))),
    el("li", {}, badge("disrupted", "host disrupted now")),
    el("li", {}, badge("maintenance", "host in maintenance")),
  );

  /** Draws one view of the topology (`fleet` or a cluster: a big fleet is drawn a cluster at a time). */
  async function loadTopology(view) {
    const container = byId("topology");
    container.setAttribute("aria-busy", "true");
    container.textContent = `laying out ${view === "fleet" ? "the whole fleet" : `cluster ${view}`}…`;
    boxes.clear();
    try {
      const response = await fetch(`api/topology.svg?view=${encodeURIComponent(view)}`);
      if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
      const text = await response.text();
      // Another view was picked while this one was laid out: that one is drawn instead.
      if (byId("topology-view").value !== view) return;
      const doc = new DOMParser().parseFromString(text, "image/svg+xml");
      const svg = document.importNode(doc.documentElement, true);
      container.replaceChildren(svg);
      for (const box of svg.querySelectorAll("g.node[data-id]")) boxes.set(box.getAttribute("data-id"), box);
      container.setAttribute("aria-busy", "false");
      if (current) paintTopology(current);
    } catch (error) {
      container.textContent = `The topology could not be drawn: ${error.message}`;
    }
  }

  /** The views the server can draw, the picker, and the first drawing. */
  async function loadViews() {
    const picker = byId("topology-view");
    try {
      const response = await fetch("api/topology");
      if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
      const { views, initial, dpus } = await response.json();
      picker.replaceChildren(...views.map((v) => el("option", { value: v }, v === "fleet" ? `the whole fleet (${dpus} DPUs)` : `cluster ${v}`)));
      picker.value = initial;
      picker.addEventListener("change", () => loadTopology(picker.value));
      await loadTopology(initial);
    } catch (error) {
      byId("topology").textContent = `The topology could not be drawn: ${error.message}`;
    }
  }

  function paintTopology(state) {
    for (const node of state.nodes) {
      const box = boxes.get(node.id);
      if (!box) continue;
      const classes = ["node", node.kind, node.state, ...(node.rollout || []), ...(node.id === selectedId ? ["selected"] : [])];
      box.setAttribute("class", classes.join(" "));
      box.setAttribute("data-state", node.state);
      const title = box.querySelector("title");
      if (title) title.textContent = `${node.kind} ${node.label} (${[node.state, ...(node.rollout || [])].join(", ")})${node.notes.length ? `: ${node.notes.join("; ")}` : ""}`;
    }
    if (selectedId) showSelection(state.nodes.find((n) => n.id === selectedId));
  }

  byId("topology").addEventListener("click", (e) => {
    const box = e.target.closest && e.target.closest("g.node[data-id]");
    if (!box || !current) return;
    const previous = selectedId && boxes.get(selectedId);
    if (previous) previous.classList.remove("selected");
    selectedId = box.getAttribute("data-id");
    box.classList.add("selected");
    showSelection(current.nodes.find((n) => n.id === selectedId));
  });

  function showSelection(node) {
    const panel = byId("selection");
    if (!node) return;
    const list = (items) => el("ul", {}, items.map((i) => el("li", {}, i)));
    panel.replaceChildren(
      el("h3", {}, `${node.kind} ${node.id.slice(node.id.indexOf(":") + 1)}`),
      el("p", {}, badge(node.state), ...(node.rollout || []).map((r) => [" ", badge(r, r === "disrupted" ? "disrupted now" : "in maintenance")])),
      node.host ? el("p", {}, `host ${node.host}${node.cluster ? `, cluster ${node.cluster}` : ""}`) : null,
      el("p", {}, "Declared:"),
      list(node.details),
      node.notes.length ? el("p", {}, "Observed:") : null,
      node.notes.length ? list(node.notes) : null,
      node.resources.length ? el("p", { class: "muted" }, `resources: ${node.resources.join(", ")}`) : null,
    );
  }

  // ---- table --------------------------------------------------------------------------
  const stateFilter = byId("state-filter");
  stateFilter.append(...STATES.map((s) => el("option", { value: s }, s)));
  byId("filters").addEventListener("submit", (e) => e.preventDefault());
  let searchTimer;
  byId("search").addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(drawTable, 150);
  });
  for (const id of ["kind-filter", "state-filter", "group-by-cluster"]) byId(id).addEventListener("change", drawTable);

  function matching(state) {
    const kinds = byId("kind-filter").value.split(",");
    const wanted = stateFilter.value;
    const words = byId("search").value.toLowerCase().split(/\s+/).filter(Boolean);
    return state.nodes.filter((n) => {
      if (!kinds.includes(n.kind)) return false;
      if (wanted && n.state !== wanted) return false;
      if (!words.length) return true;
      const text = [n.id, n.label, n.host, n.cluster, n.state, ...(n.rollout || []), ...n.details, ...n.notes].join(" ").toLowerCase();
      return words.every((w) => text.includes(w));
    });
  }

  function row(n) {
    return el(
      "tr",
      { "data-id": n.id },
      el("td", {}, n.kind),
      el("td", {}, n.kind === "host" ? n.label : `${n.host ?? ""}/${n.id.split("/").slice(1).join("/")}`),
      el("td", {}, badge(n.state), ...(n.rollout || []).map((r) => [" ", badge(r, r === "disrupted" ? "disrupted now" : "in maintenance")])),
      el("td", {}, n.details.join("; ")),
      el("td", { class: "notes" }, n.notes.join("; ")),
    );
  }

  function drawTable() {
    if (!current || !visible("panel-table")) return;
    const rows = matching(current);
    const grouped = byId("group-by-cluster").checked;
    const head = el("thead", {}, el("tr", {}, ["kind", "name", "state", "declared", "observed difference"].map((h) => el("th", { scope: "col" }, h))));
    const bodies = [];
    let drawn = 0;
    const take = (list) => {
      const room = Math.max(0, MAX_ROWS - drawn);
      drawn += Math.min(room, list.length);
      return list.slice(0, room).map(row);
    };
    if (grouped) {
      const groups = new Map();
      for (const n of rows) {
        const key = n.cluster ?? "(no cluster)";
        if (!groups.has(key)) groups.set(key, []);
        groups.get(key).push(n);
      }
      for (const [name, members] of groups) {
        const isFolded = folded.has(name) ? folded.get(name) : rows.length > FOLD_ABOVE;
        const problems = members.filter((n) => !["converged", "declared", "unmanaged"].includes(n.state)).length;
        const toggle = el(
          "button",
          { type: "button", "aria-expanded": String(!isFolded), onclick: () => { folded.set(name, !isFolded); drawTable(); } },
          `${isFolded ? "▸" : "▾"} cluster ${name} — ${members.length} rows${problems ? `, ${problems} not converged` : ""}`,
        );
        bodies.push(el("tbody", { "data-cluster": name }, el("tr", {}, el("th", { class: "group", colspan: 5, scope: "rowgroup" }, toggle)), isFolded ? [] : take(members)));
      }
    } else bodies.push(el("tbody", {}, take(rows)));
    byId("table-container").replaceChildren(el("table", { "aria-label": "Fleet nodes" }, head, ...bodies));
    const more = rows.length > MAX_ROWS ? `; the first ${MAX_ROWS} drawn, search to narrow` : "";
    byId("table-count").textContent = `${rows.length} of ${current.nodes.length} nodes match${more}`;
  }

  // ---- rollout --------------------------------------------------------------------------
  function drawRollout() {
    if (!current || !visible("panel-rollout")) return;
    const { rollout } = current;
    const changing = current.nodes.filter((n) => n.state === "changing");
    const parts = [];
    if (rollout.note) parts.push(el("p", { class: "muted" }, `Not shown: ${rollout.note}.`));
    else if (!rollout.exists) parts.push(el("p", { class: "muted" }, "No rollout has run for this stack on this machine yet (no lease store)."));
    parts.push(
      rollout.disrupted.length
        ? el("table", { "aria-label": "Hosts disrupted now" },
            el("thead", {}, el("tr", {}, ["host disrupted now", "slots held", "run", "lease until"].map((h) => el("th", { scope: "col" }, h)))),
            el("tbody", {}, rollout.disrupted.map((d) => el("tr", { "data-host": d.host }, el("td", {}, d.host), el("td", {}, d.scopes.join(", ")), el("td", {}, d.run), el("td", {}, time(d.expiresAt))))))
        : el("p", {}, "No host holds a rollout slot now."),
    );
    parts.push(
      rollout.maintenance.length
        ? el("table", { "aria-label": "Hosts in maintenance" },
            el("thead", {}, el("tr", {}, ["host in maintenance", "since", "group", "note"].map((h) => el("th", { scope: "col" }, h)))),
            el("tbody", {}, rollout.maintenance.map((m) => el("tr", { "data-host": m.host }, el("td", {}, m.host), el("td", {}, time(m.since)), el("td", {}, m.group ?? ""), el("td", {}, m.note)))))
        : el("p", {}, "No host is in maintenance."),
    );
    if (changing.length) parts.push(el("p", {}, "Changing now: ", changing.map((n, i) => [i ? ", " : "", `${n.kind} ${n.host ?? ""} ${n.label} (${n.notes.join("; ")})`])));
    byId("rollout-now").replaceChildren(...parts);
    markPlanRows();
  }

  /** The plan's host rows show which hosts are disrupted or in maintenance now. */
  function markPlanRows() {
    if (!current) return;
    const disrupted = new Set(current.rollout.disrupted.map((d) => d.host));
    const maintenance = new Set(current.rollout.maintenance.map((m) => m.host));
    for (const rowEl of document.querySelectorAll("#plan g.host-row[data-host]")) {
      const host = rowEl.getAttribute("data-host");
      rowEl.classList.toggle("now-disrupted", disrupted.has(host));
      rowEl.classList.toggle("now-maintenance", maintenance.has(host));
    }
  }

  function showPlan(result) {
    const status = byId("plan-status");
    if (!result.ok) {
      status.textContent = `No plan: ${result.error}`;
      byId("plan").replaceChildren();
      return;
    }
    const errors = result.plan.violations.filter((v) => v.severity === "error").length;
    status.textContent = `Computed at ${time(result.computedAt)} in ${result.seconds.toFixed(1)} s: ${result.plan.hosts.filter((h) => h.order !== null).length} hosts disrupted, estimated ${Math.round(result.plan.estimateSeconds)} s${errors ? `, ${errors} policy errors` : ""}.`;
    const doc = new DOMParser().parseFromString(result.svg, "image/svg+xml");
    const findings = result.plan.violations.map((v) => el("li", {}, badge(v.severity === "error" ? "failed" : "unprotected", `${v.rule} ${v.severity}`), " ", v.message));
    byId("plan").replaceChildren(document.importNode(doc.documentElement, true), findings.length ? el("ul", {}, findings) : "");
    markPlanRows();
  }

  byId("compute-plan").addEventListener("click", async () => {
    const button = byId("compute-plan");
    button.disabled = true;
    byId("plan-status").textContent = "Computing the plan (a preview through Pulumi)…";
    try {
      const response = await fetch("api/plan", { method: "POST" });
      showPlan(await response.json());
    } catch (error) {
      byId("plan-status").textContent = `The plan could not be computed: ${error.message}`;
    } finally {
      button.disabled = false;
    }
  });

  // ---- changes ------------------------------------------------------------------------
  function drawChanges() {
    if (!current || !visible("panel-changes")) return;
    const items = current.changes.slice().reverse().map((c) => el("li", {}, `${time(c.at)} ${c.id}: `, badge(c.from), " → ", badge(c.to), c.notes.length ? ` ${c.notes.join("; ")}` : ""));
    byId("changes").replaceChildren(...(items.length ? items : [el("li", { class: "muted" }, "No state has changed since the dashboard started.")]));
  }

  // ---- port events ----------------------------------------------------------------------
  /** The ports' events: each state's list, plus what the streams pushed since (by key, so none twice). */
  const portEvents = new Map();
  /** The page keeps as many as the server does. */
  const EVENTS_KEPT = 500;
  function takeEvents(list) {
    for (const e of list) portEvents.set(e.key, e);
    if (portEvents.size > EVENTS_KEPT) {
      const newest = [...portEvents.values()].sort((a, b) => a.at - b.at).slice(-EVENTS_KEPT);
      portEvents.clear();
      for (const e of newest) portEvents.set(e.key, e);
    }
  }
  byId("event-filters").addEventListener("submit", (e) => e.preventDefault());
  let eventSearchTimer;
  byId("event-search").addEventListener("input", () => {
    clearTimeout(eventSearchTimer);
    eventSearchTimer = setTimeout(drawEvents, 150);
  });
  byId("event-severity").addEventListener("change", drawEvents);
  const SEVERITY_STATE = { Critical: "failed", Warning: "drifted", OK: "converged" };

  function drawEvents() {
    if (!visible("panel-events")) return;
    const severity = byId("event-severity").value;
    const words = byId("event-search").value.toLowerCase().split(/\s+/).filter(Boolean);
    const all = [...portEvents.values()].sort((a, b) => b.at - a.at);
    const rows = all.filter((e) => {
      if (severity && e.severity !== severity) return false;
      const text = [e.dpu, e.severity, e.messageId, e.message].join(" ").toLowerCase();
      return words.every((w) => text.includes(w));
    });
    const head = el("thead", {}, el("tr", {}, ["time", "host", "DPU", "severity", "message"].map((h) => el("th", { scope: "col" }, h))));
    const body = el("tbody", {}, rows.map((e) => el("tr", { "data-key": e.key, "data-via": e.via },
      el("td", {}, time(e.at)),
      el("td", {}, e.host),
      el("td", {}, e.dpu.slice(e.dpu.indexOf("/") + 1)),
      el("td", {}, badge(SEVERITY_STATE[e.severity] || "declared", e.severity)),
      el("td", { title: e.messageId }, e.message))));
    byId("events-container").replaceChildren(rows.length ? el("table", { "aria-label": "Port events" }, head, body) : el("p", { class: "muted" }, all.length ? "No event matches." : "No port has logged anything yet."));
    byId("event-count").textContent = `${rows.length} of ${all.length} events match`;
  }

  // ---- updates ------------------------------------------------------------------------
  function redraw() {
    if (!current) return;
    drawHeader(current);
    paintTopology(current);
    drawTable();
    drawRollout();
    drawChanges();
    drawEvents();
  }

  function connect() {
    const connection = byId("connection");
    const events = new EventSource("api/events");
    events.addEventListener("open", () => {
      connection.textContent = "live";
      connection.className = "live";
    });
    events.addEventListener("state", (e) => {
      current = JSON.parse(e.data);
      takeEvents(current.events || []);
      document.body.setAttribute("data-version", String(current.version));
      redraw();
    });
    events.addEventListener("port-events", (e) => {
      takeEvents(JSON.parse(e.data));
      drawEvents();
    });
    events.addEventListener("error", () => {
      connection.textContent = "disconnected, retrying…";
      connection.className = "down";
    });
  }

  loadViews();
  connect();
  fetch("api/plan").then((r) => (r.ok ? r.json() : null)).then((plan) => plan && showPlan(plan), () => undefined);
})();
