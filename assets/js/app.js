// BanGUI's only hand-written script: progressive enhancements that the
// pages do not depend on. Loaded as a file so the CSP can forbid inline code.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function setupMenu() {
    var toggle = document.querySelector("[data-menu-toggle]");
    var nav = document.getElementById("site-nav");
    if (!toggle || !nav) return;
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") === "true";
      toggle.setAttribute("aria-expanded", open ? "false" : "true");
      nav.classList.toggle("site-nav--open", !open);
    });
    document.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
        toggle.setAttribute("aria-expanded", "false");
        nav.classList.remove("site-nav--open");
        toggle.focus();
      }
    });
  }

  // A select marked data-autosubmit (the host selector) submits its form
  // as soon as the choice changes; without script its button does.
  function setupAutosubmit() {
    document.addEventListener("change", function (ev) {
      var el = ev.target;
      if (el && el.hasAttribute && el.hasAttribute("data-autosubmit") && el.form) {
        el.form.requestSubmit ? el.form.requestSubmit() : el.form.submit();
      }
    });
  }

  // Bulk forms: "all on this page" ticks or clears the rows' checkboxes
  // (the form sends the page's rows itself, so this only shows it); a
  // ticked row opens its form's menu (folded on phones).
  function setupBulk() {
    document.addEventListener("change", function (ev) {
      var el = ev.target;
      if (el && el.name === "row" && el.checked && el.form) {
        var menu = el.form.closest("[data-bulk-menu]");
        if (menu) menu.open = true;
        return;
      }
      if (!el || !el.hasAttribute || !el.hasAttribute("data-bulk-page") || !el.form) return;
      var boxes = document.querySelectorAll('input[name="row"][form="' + el.form.id + '"]');
      for (var i = 0; i < boxes.length; i++) boxes[i].checked = el.checked;
    });
  }

  // Live pages (the htmx SSE extension on <body>): remember the last event
  // id, so that a new EventSource (the extension opens one after the old
  // gave up, e.g. while nginx was down) resumes where the old one stopped;
  // show the stream's state; hold the swaps while the reader pauses.
  function setupLive() {
    var bar = document.querySelector("[data-live-bar]");
    if (!bar || !window.htmx) return;
    var state = bar.querySelector(".live-state");
    var pause = bar.querySelector("[data-live-pause]");
    var lastId = "";
    var paused = false;
    var held = [];
    bar.hidden = false;
    if (htmx.createEventSource) {
      htmx.createEventSource = function (url) {
        if (lastId) {
          url = url.replace(/([?&])last-event-id=[^&]*&?/, "$1").replace(/[?&]$/, "");
          url += (url.indexOf("?") < 0 ? "?" : "&") + "last-event-id=" + encodeURIComponent(lastId);
        }
        return new EventSource(url, { withCredentials: true });
      };
    }
    // Counters (event "counts") go into the elements of the same id that
    // this page has; the others are not on it.
    function applyCounts(html) {
      var tpl = document.createElement("template");
      tpl.innerHTML = html;
      tpl.content.querySelectorAll("[id]").forEach(function (src) {
        var dst = document.getElementById(src.id);
        if (dst && dst.textContent !== src.textContent) dst.textContent = src.textContent;
      });
    }
    // The 24 hours map (event "map"): each country's count, colour, name
    // and label; a country no longer in the window goes back to empty.
    var svgNS = "http://www.w3.org/2000/svg";
    function countryName(a) {
      return (a.getAttribute("aria-label") || "").replace(/: [^:]*$/, "");
    }
    function applyMap(html) {
      var svg = document.querySelector("svg.worldmap");
      if (!svg) return;
      var tpl = document.createElement("template");
      tpl.innerHTML = html;
      var summary = tpl.content.querySelector("[data-map-summary]");
      var here = document.querySelector("span[data-map-summary]");
      if (summary && here) here.textContent = summary.textContent;
      var seen = {};
      tpl.content.querySelectorAll("i[data-country]").forEach(function (src) {
        var code = src.getAttribute("data-country");
        seen[code] = true;
        var a = svg.querySelector('a[data-country="' + code + '"]');
        if (!a) return;
        var n = src.getAttribute("data-bans");
        var text = countryName(a) + ": " + (n === "1" ? "1 ban" : src.getAttribute("data-label") + " bans");
        a.setAttribute("data-bans", n);
        a.setAttribute("aria-label", text);
        if (a.getAttribute("tabindex") === "-1") a.setAttribute("tabindex", "0");
        var title = a.querySelector("title");
        if (title) title.textContent = text;
        var path = a.querySelector("path");
        if (path) {
          path.setAttribute("fill", src.getAttribute("data-fill"));
          path.classList.remove("worldmap__shape--empty");
        }
        var labels = svg.querySelector(".worldmap__labels");
        var label = labels && labels.querySelector('text[data-country="' + code + '"]');
        if (labels && !label) {
          label = document.createElementNS(svgNS, "text");
          label.setAttribute("data-country", code);
          label.setAttribute("class", "worldmap__label");
          label.setAttribute("x", src.getAttribute("data-x"));
          label.setAttribute("y", src.getAttribute("data-y"));
          labels.appendChild(label);
        }
        if (label) {
          label.setAttribute("font-size", src.getAttribute("data-size"));
          label.textContent = src.getAttribute("data-label");
        }
      });
      svg.querySelectorAll('a[data-country]:not([data-bans="0"])').forEach(function (a) {
        var code = a.getAttribute("data-country");
        if (seen[code]) return;
        a.setAttribute("data-bans", "0");
        if (!a.classList.contains("is-selected")) a.setAttribute("tabindex", "-1");
        var name = countryName(a);
        a.setAttribute("aria-label", name + ": no bans");
        var title = a.querySelector("title");
        if (title) title.textContent = name + ": no bans";
        var path = a.querySelector("path");
        if (path) {
          path.removeAttribute("fill");
          path.classList.add("worldmap__shape--empty");
        }
        var label = svg.querySelector('.worldmap__labels text[data-country="' + code + '"]');
        if (label) label.remove();
      });
    }
    // Bans and unbans (event "ips", addresses separated by spaces, "*"
    // for any): the per-IP page of one of them fetches its state again.
    function applyIPs(data) {
      var live = document.querySelector("[data-live-ip]");
      if (live && (data === "*" || data.split(" ").indexOf(live.getAttribute("data-live-ip")) >= 0)) {
        htmx.trigger(live, "live-ip");
      }
    }
    // The 24 hours dashboard's counters (event "dash"): each chart and the
    // country summary replace the element of the same id; an open "Show
    // as a table" stays open.
    function applyDash(html) {
      var tpl = document.createElement("template");
      tpl.innerHTML = html;
      Array.prototype.forEach.call(tpl.content.children, function (src) {
        var dst = src.id && document.getElementById(src.id);
        if (!dst) return;
        var open = dst.querySelectorAll("details");
        src.querySelectorAll("details").forEach(function (d, i) {
          if (open[i] && open[i].open) d.open = true;
        });
        dst.replaceWith(src);
      });
    }
    // The stream missed frames it cannot replay (the panel restarted, or
    // the tab was away too long; event "resync"): the live first page of
    // the ban table and the per-IP state are fetched again, once.
    // New rows that arrive while that fetch is under way are held and
    // added after it, unless it already brought them: the rows would
    // otherwise land in the table it replaces.
    var resyncing = null;
    function resync() {
      var rows = document.querySelector('tbody[sse-swap="bans"]');
      var table = rows && rows.closest(".ban-events[id]");
      if (table) {
        var waiting = resyncing = [];
        var done = function () {
          if (resyncing === waiting) resyncing = null;
          waiting.forEach(addNewRows);
        };
        htmx.ajax("GET", location.href, { target: "#" + table.id, swap: "outerHTML" }).then(done, done);
      }
      applyIPs("*");
    }
    // addNewRows puts the rows of a "bans" frame on top of the live table,
    // leaving out those it shows already (same address and time).
    function addNewRows(html) {
      var tbody = document.querySelector('tbody[sse-swap="bans"]');
      if (!tbody) return;
      var tpl = document.createElement("template");
      tpl.innerHTML = html;
      var timeOf = function (tr) {
        var t = tr.querySelector("time");
        return t ? t.getAttribute("datetime") : "";
      };
      var rows = Array.prototype.slice.call(tpl.content.querySelectorAll("tr[data-ip]"));
      rows.reverse().forEach(function (tr) {
        var shown = Array.prototype.some.call(tbody.querySelectorAll("tr[data-ip]"), function (o) {
          return o.getAttribute("data-ip") === tr.getAttribute("data-ip") && timeOf(o) === timeOf(tr);
        });
        if (shown) return;
        tbody.insertBefore(tr, tbody.firstChild);
        htmx.process(tr);
      });
      if (rows.length) tbody.querySelectorAll(".empty-row").forEach(function (e) { e.remove(); });
    }
    document.body.addEventListener("htmx:sseBeforeMessage", function (ev) {
      var msg = ev.detail;
      if (msg && msg.lastEventId) lastId = msg.lastEventId;
      var el = ev.target;
      if (el.hasAttribute("data-live-map")) {
        ev.preventDefault();
        if (paused) held.push({ map: msg.data });
        else applyMap(msg.data);
        return;
      }
      if (el.hasAttribute("data-live-ips")) {
        ev.preventDefault();
        if (paused) held.push({ ips: msg.data });
        else applyIPs(msg.data);
        return;
      }
      if (el.hasAttribute("data-live-counts")) {
        ev.preventDefault();
        if (paused) held.push({ counts: msg.data });
        else applyCounts(msg.data);
        return;
      }
      if (el.hasAttribute("data-live-dash")) {
        ev.preventDefault();
        if (paused) held.push({ dash: msg.data });
        else applyDash(msg.data);
        return;
      }
      if (el.hasAttribute("data-live-resync")) {
        ev.preventDefault();
        if (paused) held.push({ resync: true });
        else resync();
        return;
      }
      if (el === state) bar.classList.toggle("live-bar--lost", msg.type === "bye");
      // A status bar that says the same stays (no flicker, no lost focus).
      if (el.id === "status-bar") {
        var tpl = document.createElement("template");
        tpl.innerHTML = msg.data;
        if (tpl.content.firstElementChild && tpl.content.firstElementChild.isEqualNode(el)) {
          ev.preventDefault();
          return;
        }
      }
      if (resyncing && el.matches('tbody[sse-swap="bans"]')) {
        ev.preventDefault();
        resyncing.push(msg.data);
        return;
      }
      if (!paused || el === state) return;
      ev.preventDefault();
      held.push({ id: el.id, el: el, data: msg.data, style: el.getAttribute("hx-swap") || "innerHTML" });
    });
    // The stream broke: say so, unless the panel said why (event "bye").
    document.body.addEventListener("htmx:sseError", function () {
      if (!bar.classList.contains("live-bar--lost")) state.textContent = bar.dataset.msgReconnecting;
      bar.classList.add("live-bar--lost");
    });
    // While the panel is away the proxy answers the status bar's polling
    // with its own error page: the bar keeps its last state instead of
    // becoming that page (the stream says when the panel is back).
    document.body.addEventListener("htmx:beforeSwap", function (ev) {
      var d = ev.detail;
      if (d.target && d.target.id === "status-bar" && d.xhr && (d.xhr.status >= 500 || d.xhr.status === 0)) {
        d.shouldSwap = false;
        d.isError = false;
        state.textContent = bar.dataset.msgLost;
        bar.classList.add("live-bar--lost");
      }
    });
    pause.addEventListener("click", function () {
      paused = !paused;
      pause.setAttribute("aria-pressed", paused ? "true" : "false");
      pause.textContent = paused ? bar.dataset.msgResume : bar.dataset.msgPause;
      bar.classList.toggle("live-bar--paused", paused);
      if (paused) return;
      var queue = held;
      held = [];
      queue.forEach(function (h) {
        if (h.counts !== undefined) return applyCounts(h.counts);
        if (h.dash !== undefined) return applyDash(h.dash);
        if (h.resync) return resync();
        if (h.map !== undefined) return applyMap(h.map);
        if (h.ips !== undefined) return applyIPs(h.ips);
        var target = h.id ? document.getElementById(h.id) : h.el;
        if (target && document.body.contains(target)) {
          htmx.swap(target, h.data, { swapStyle: h.style });
        }
      });
    });
  }

  // Keyboard focus survives htmx swaps: when a swap removes the focused
  // element (a pager link, a boosted form's button), the focus goes to the
  // same pager link in the new content (or another of its pager links),
  // else to the swapped region (for a whole page, to <main>), so Tab goes
  // on from where the reader was.
  function setupSwapFocus() {
    // Noted when the request starts: a button may lose the focus while it
    // is disabled during the request.
    var pending = new WeakMap();
    document.addEventListener("htmx:beforeRequest", function (ev) {
      var a = document.activeElement;
      var d = ev.detail;
      if (d.xhr && a && a !== document.body && d.target && d.target.contains(a)) {
        pending.set(d.xhr, { id: d.target.id, pager: a.getAttribute("data-pager"), whole: d.target === document.body });
      }
    });
    document.addEventListener("htmx:afterSettle", function (ev) {
      var l = ev.detail.xhr && pending.get(ev.detail.xhr);
      if (!l) return;
      pending.delete(ev.detail.xhr);
      var a = document.activeElement;
      if (a && a !== document.body && a.isConnected) return;
      var box = l.whole ? document.getElementById("main") : l.id && document.getElementById(l.id);
      if (!box) return;
      // The same pager link, else (Next on the last page but one) another.
      var next = l.pager && (box.querySelector('[data-pager="' + l.pager + '"]') || box.querySelector("[data-pager]"));
      if (!next) {
        next = box;
        if (!next.hasAttribute("tabindex")) next.setAttribute("tabindex", "-1");
      }
      next.focus({ preventScroll: true });
    });
  }

  // A boosted page replaces the body but keeps the old <html>: its lang
  // follows the page's Content-Language (a changed language setting).
  function setupLang() {
    document.body.addEventListener("htmx:afterSwap", function (ev) {
      var xhr = ev.detail.xhr;
      var code = ev.detail.boosted && xhr && xhr.getResponseHeader("Content-Language");
      if (code) document.documentElement.lang = code;
    });
  }

  function setup() {
    setupMenu();
    setupLang();
    setupAutosubmit();
    setupBulk();
    setupLive();
    setupSwapFocus();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setup);
  } else {
    setup();
  }
})();
