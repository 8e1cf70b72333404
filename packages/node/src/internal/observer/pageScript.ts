/**
 * The observer page's script (plain browser JavaScript, no dependency). It follows the
 * server's event stream: `init` (every service and the recent events) builds the tree
 * once; each `patch` (the services that changed, the ids that are gone, new events) is
 * queued and applied at the next animation frame, merged with the others queued, and only
 * the changed fields of the changed rows are touched. Subtrees collapse; uptimes and task
 * ages are counted on the page from the instants the server sent.
 */
export const script = String.raw`
(function () {
  "use strict";
  var base = location.pathname.replace(/\/+$/, "");
  var params = new URLSearchParams(location.search);
  var token = params.get("token") || sessionStorage.getItem("observer-token") || "";
  if (params.has("token")) {
    sessionStorage.setItem("observer-token", token);
    params.delete("token");
    var rest = params.toString();
    history.replaceState(null, "", base + (rest ? "?" + rest : ""));
  }
  var $ = function (id) { return document.getElementById(id); };
  var tree = $("tree"), feed = $("feed"), details = $("info"), conn = $("conn"), counts = $("counts"), notice = $("notice");
  var nodes = new Map();
  var running = new Set();
  var offset = 0;
  var actions = false;
  var selected = null;
  var queued = [];
  var frame = 0;
  var maxFeed = 200;
  /** The selected service's timer statistics and supervisor figures, asked for while it is selected. */
  var stats = null;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function now() { return Date.now() - offset; }
  function age(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) return s + "s";
    var m = Math.floor(s / 60);
    if (m < 60) return m + "m " + (s % 60) + "s";
    var h = Math.floor(m / 60);
    if (h < 24) return h + "h " + (m % 60) + "m";
    return Math.floor(h / 24) + "d " + (h % 24) + "h";
  }
  /** A row's uptime: to the second for a minute, then coarser, so that a row rarely changes. */
  function short(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) return s + "s";
    if (s < 3600) return Math.floor(s / 60) + "m";
    return age(ms);
  }
  function clock(at) { return new Date(at + offset).toTimeString().slice(0, 8); }

  function place(n, v) {
    var parent = v.parent === null ? null : nodes.get(v.parent);
    var box = parent ? parent.kids : tree;
    if (n.parent !== v.parent) {
      var old = n.parent === null ? null : nodes.get(n.parent);
      if (old) setKids(old, old.count - 1);
      if (parent) setKids(parent, parent.count + 1);
      n.parent = v.parent;
    }
    var at = box.children[v.index];
    if (n.wrap.parentNode !== box || (at !== n.wrap && at !== undefined)) box.insertBefore(n.wrap, at || null);
  }
  function setKids(n, count) {
    n.count = count;
    n.tw.textContent = count === 0 ? "\u00b7" : n.kids.hidden ? "\u25b8" : "\u25be";
  }
  function collapse(n, hidden) {
    n.kids.hidden = hidden;
    setKids(n, n.count);
    if (!hidden) tick();
  }
  /** Whether a row is on screen: no collapsed subtree above it. */
  function shown(n) {
    for (var p = nodes.get(n.parent); p; p = nodes.get(p.parent)) if (p.kids.hidden) return false;
    return true;
  }
  function showUptime(n, t) {
    var text = n.view.startedAt === null ? "" : short(t - n.view.startedAt);
    if (n.up.textContent !== text) n.up.textContent = text;
  }
  /** Counts the uptimes of the rows on screen; only a text that changed is written. */
  function tick() {
    var t = now();
    running.forEach(function (id) {
      var n = nodes.get(id);
      if (n && shown(n)) showUptime(n, t);
    });
  }

  function create(v, collapsed) {
    var wrap = el("div", "node"), row = el("div", "row");
    var n = {
      id: v.id, view: null, parent: undefined, count: 0, wrap: wrap, row: row, kids: el("div", "kids"),
      tw: el("span", "tw"), label: el("span", "label"), st: el("span", "st"), up: el("span", "up"),
      rc: el("span", "rc"), fl: el("span", "fl"), tk: el("span", "tk"), sv: el("span", "sv")
    };
    wrap.dataset.id = v.id;
    row.style.setProperty("--d", String(v.depth - 1));
    row.append(n.tw, n.label, n.sv, n.st, n.up, n.rc, n.fl, n.tk);
    wrap.append(row, n.kids);
    n.kids.hidden = !!collapsed;
    setKids(n, 0);
    nodes.set(v.id, n);
    return n;
  }

  function update(n, v) {
    var o = n.view || {};
    if (o.label !== v.label) n.label.textContent = v.label;
    if (o.path !== v.path) { n.wrap.dataset.path = v.path; n.row.title = v.path; }
    if (o.state !== v.state) {
      n.wrap.dataset.state = v.state;
      n.st.textContent = v.state;
      n.st.className = "st s-" + v.state;
    }
    if (o.strategy !== v.strategy) n.sv.textContent = v.strategy || "";
    if (o.restartCount !== v.restartCount) n.rc.textContent = v.restartCount > 0 ? "\u21bb " + v.restartCount : "";
    if (String(o.flags) !== String(v.flags)) {
      n.fl.textContent = "";
      v.flags.forEach(function (f) { n.fl.append(el("span", "", f)); });
    }
    if (!o.tasks || o.tasks.length !== v.tasks.length) {
      n.tk.textContent = v.tasks.length === 0 ? "" : v.tasks.length + (v.tasks.length === 1 ? " task" : " tasks");
    }
    n.view = v;
    if (v.startedAt === null) running.delete(v.id);
    else running.add(v.id);
    showUptime(n, now());
    place(n, v);
    if (selected === v.id) showDetails();
  }

  function remove(id) {
    var n = nodes.get(id);
    if (!n) return;
    var parent = n.parent === null ? null : nodes.get(n.parent);
    if (parent) setKids(parent, parent.count - 1);
    n.wrap.remove();
    nodes.delete(id);
    running.delete(id);
    if (selected === id) showDetails();
  }

  function addEvents(events, initial) {
    events.forEach(function (e) {
      var item = el("div", "ev k-" + e.kind);
      item.dataset.kind = e.kind;
      item.dataset.path = e.path;
      item.append(el("time", "", clock(e.at)), el("b", "", e.kind), el("span", "p", e.path), el("span", "", e.text));
      feed.insertBefore(item, feed.firstChild);
      var n = nodes.get(e.id);
      if (!initial && n && (e.kind === "crash" || e.kind === "escalation")) {
        n.wrap.classList.remove("flash");
        void n.wrap.offsetWidth;
        n.wrap.classList.add("flash");
      }
    });
    while (feed.childElementCount > maxFeed) feed.lastChild.remove();
  }

  function showCounts() {
    var by = {};
    nodes.forEach(function (n) { by[n.view.state] = (by[n.view.state] || 0) + 1; });
    counts.textContent = "";
    counts.append(el("span", "", nodes.size + " services"));
    Object.keys(by).sort().forEach(function (s) { counts.append(el("span", "", s + " " + by[s])); });
  }

  function row(table, cells, head) {
    var tr = el("tr");
    cells.forEach(function (c, i) { tr.append(el(head || i === 0 ? "th" : "td", "", c)); });
    table.append(tr);
  }

  function showDetails() {
    details.textContent = "";
    if (selected !== null && !nodes.has(selected)) { selected = null; showActions(); }
    var n = selected === null ? undefined : nodes.get(selected);
    if (!n) { details.append(el("p", "empty", "Select a service to see its flags and tasks.")); return; }
    var v = n.view, t = now();
    details.append(el("h2", "", v.label), el("div", "path", v.path + "  (id " + v.id + ")"));
    var facts = el("table");
    row(facts, ["state", v.state + (v.phase !== v.state ? " (phase " + v.phase + ")" : "")]);
    row(facts, ["uptime", v.startedAt === null ? "-" : age(t - v.startedAt)]);
    row(facts, ["restarts", String(v.restartCount)]);
    // The layer graph's edges (services built from layers): what it was built on, and who uses it.
    var pathOf = function (id) { var d = nodes.get(id); return d ? d.view.path : "#" + id; };
    var deps = v.dependsOn || [];
    var users = [];
    nodes.forEach(function (o) { if ((o.view.dependsOn || []).indexOf(v.id) >= 0) users.push(o.view.id); });
    if (deps.length > 0) row(facts, ["depends on", deps.map(pathOf).join(", ")]);
    if (users.length > 0) row(facts, ["used by", users.map(pathOf).join(", ")]);
    details.append(facts);
    if (v.crash) {
      var box = el("div", "crashbox");
      box.append(el("div", "", "crash from " + v.crash.origin), el("div", "", v.crash.reason));
      details.append(box);
    }
    details.append(el("h3", "", "Diag flags"));
    var names = Object.keys(v.lastTransitions);
    v.flags.forEach(function (f) { if (names.indexOf(f) < 0) names.push(f); });
    if (names.length === 0) details.append(el("div", "empty", "none"));
    else {
      var flags = el("table");
      row(flags, ["flag", "now", "last transition"], true);
      names.sort().forEach(function (f) {
        var at = v.lastTransitions[f];
        row(flags, [f, v.flags.indexOf(f) >= 0 ? "set" : "unset", at === undefined ? "-" : age(t - at) + " ago"]);
      });
      details.append(flags);
    }
    var figures = stats !== null && stats.id === v.id ? stats : null;
    if (figures && figures.supervisor) {
      details.append(el("h3", "", "Supervisor"));
      var sup = el("table");
      row(sup, ["strategy", figures.supervisor.strategy]);
      row(sup, ["restarts done", String(figures.supervisor.restarts)]);
      var w = figures.supervisor.window;
      row(sup, ["in the window", w.restarts + " of " + w.maxRestarts + " restarts in " + age(w.withinMillis)]);
      row(sup, ["escalations", String(figures.supervisor.escalations)]);
      details.append(sup);
    }
    if (figures && figures.timers.length > 0) {
      details.append(el("h3", "", "Timers"));
      var timers = el("table");
      row(timers, ["timer", "ticks", "overlaps", "drift mean", "drift max"], true);
      figures.timers.forEach(function (k) {
        row(timers, [k.timer, String(k.ticks), String(k.overlaps),
          k.drift ? k.drift.meanMillis.toFixed(1) + " ms" : "-", k.drift ? k.drift.maxMillis.toFixed(1) + " ms" : "-"]);
      });
      details.append(timers);
    }
    details.append(el("h3", "", "Tasks"));
    if (v.tasks.length === 0) details.append(el("div", "empty", "none"));
    else {
      var tasks = el("table");
      row(tasks, ["task", "fiber", "status", "age"], true);
      v.tasks.forEach(function (k) { row(tasks, [k.name, "#" + k.fiberId, k.status, age(t - k.startedAt)]); });
      details.append(tasks);
    }
  }

  function showActions() {
    var acts = $("acts");
    acts.textContent = "";
    if (!actions || selected === null || !nodes.has(selected)) return;
    var id = selected;
    [["restart", ""], ["stop", "danger"], ["crash", "danger"]].forEach(function (a) {
      var b = el("button", a[1], a[0][0].toUpperCase() + a[0].slice(1));
      b.type = "button";
      b.dataset.action = a[0];
      b.addEventListener("click", function () { act(a[0], id); });
      acts.append(b);
    });
  }

  function loadStats() {
    var id = selected;
    if (id === null) return;
    fetch(base + "/service?id=" + id).then(function (r) { return r.ok ? r.json() : null; }).then(function (s) {
      if (s && selected === id) { stats = s; showDetails(); }
    }, function () {});
  }

  function post(name, query) {
    return fetch(base + "/actions/" + name + query, { method: "POST", headers: { "x-observer-token": token } });
  }
  function say(text) { notice.textContent = text; }
  function act(name, id) {
    var path = nodes.has(id) ? nodes.get(id).view.path : "#" + id;
    post(name, "?id=" + id).then(function (r) {
      return r.text().then(function (body) { say(r.ok ? name + " of " + path + " requested" : name + ": " + body.trim()); });
    }, function (e) { say(name + ": " + e); });
  }
  $("dump").addEventListener("click", function () {
    post("dump", "").then(function (r) {
      return r.text().then(function (body) {
        if (!r.ok) { say("dump: " + body.trim()); return; }
        $("dumptext").textContent = body;
        $("dumpdlg").showModal();
      });
    }, function (e) { say("dump: " + e); });
  });
  $("token").value = token;
  $("token").addEventListener("input", function (e) {
    token = e.target.value.trim();
    sessionStorage.setItem("observer-token", token);
  });
  $("expand").addEventListener("click", function () { nodes.forEach(function (n) { collapse(n, false); }); });
  $("collapse").addEventListener("click", function () {
    nodes.forEach(function (n) { collapse(n, n.view.parent !== null); });
  });
  tree.addEventListener("click", function (e) {
    var w = e.target.closest(".node");
    if (!w) return;
    var n = nodes.get(Number(w.dataset.id));
    if (e.target.classList.contains("tw")) { collapse(n, !n.kids.hidden); return; }
    var old = selected === null ? undefined : nodes.get(selected);
    if (old) old.wrap.classList.remove("sel");
    selected = n.id;
    n.wrap.classList.add("sel");
    showDetails();
    showActions();
    loadStats();
  });

  function init(msg) {
    offset = Date.now() - msg.now;
    actions = msg.actions;
    $("actionbar").hidden = !actions;
    nodes.clear(); running.clear(); queued = [];
    tree.textContent = ""; feed.textContent = "";
    var big = msg.nodes.length > 300;
    msg.nodes.forEach(function (v) { update(create(v, big && v.depth >= 2), v); });
    addEvents(msg.events, true);
    showCounts();
    if (selected !== null && nodes.has(selected)) nodes.get(selected).wrap.classList.add("sel");
    showDetails();
    showActions();
  }

  function flush() {
    frame = 0;
    var changed = new Map(), removed = [], events = [];
    queued.forEach(function (m) {
      offset = Date.now() - m.now;
      m.changed.forEach(function (v) { changed.set(v.id, v); });
      m.removed.forEach(function (id) { changed.delete(id); removed.push(id); });
      events = events.concat(m.events);
    });
    queued = [];
    removed.forEach(remove);
    changed.forEach(function (v) { update(nodes.get(v.id) || create(v, false), v); });
    addEvents(events, false);
    showCounts();
  }

  function connect() {
    var source = new EventSource(base + "/events");
    source.addEventListener("init", function (e) {
      conn.textContent = "live"; conn.className = "conn live";
      init(JSON.parse(e.data));
    });
    source.addEventListener("patch", function (e) {
      queued.push(JSON.parse(e.data));
      if (queued.length > 100) { cancelAnimationFrame(frame); flush(); }
      else if (!frame) frame = requestAnimationFrame(flush);
    });
    source.onerror = function () { conn.textContent = "reconnecting"; conn.className = "conn down"; };
  }

  var seconds = 0;
  setInterval(function () {
    tick();
    if (selected !== null) showDetails();
    if (++seconds % 2 === 0) loadStats();
  }, 1000);
  connect();
})();
`
