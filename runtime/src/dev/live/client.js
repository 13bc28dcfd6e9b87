// Shipwright's dev client, injected by the dev layer (shipwright_runtime::dev::live).
// One WebSocket to the server that served the page; on a template change the page fetches
// its own URL and morphs its DOM in place (or, when the app re-renders its views itself,
// only checks that the page still renders); stylesheets are swapped; an overlay says when
// `cargo build` is needed or the page does not render.
(() => {
  "use strict";
  if (window.__shipwright && window.__shipwright.client) return; // injected twice
  const script = document.currentScript;
  const pageBuild = script ? script.dataset.build : "";
  let pageSeq = script ? Number(script.dataset.seq || 0) : 0;
  const channel = `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/__shipwright/live`;

  // Read by tests and benchmarks: the channel's state, how many refreshes were applied and
  // when the last one's steps were (epoch milliseconds): the update received, the page
  // fetched, parsed, applied.
  const live = (window.__shipwright = Object.assign(window.__shipwright || {}, {
    client: true,
    connected: false,
    build: pageBuild,
    refresh: "morph",
    updates: 0,
    receivedAt: 0,
    fetchedAt: 0,
    parsedAt: 0,
    appliedAt: 0,
    status: { rebuild: [], errors: [] },
    failure: readFailure(document),
  }));
  // A page that was served as a failure has nothing to keep: it loads the real one whole.
  const loadedAsFailure = live.failure !== null;

  function readFailure(doc) {
    const element = doc.getElementById("shipwright-failure");
    if (!element) return null;
    try {
      return JSON.parse(element.textContent);
    } catch (e) {
      return { status: 500, message: "the page did not render" };
    }
  }

  function now() {
    return performance.timeOrigin + performance.now();
  }

  // ---- the channel ------------------------------------------------------------------------

  let wasConnected = false;
  let retry = 100; // the server keeps its socket across a restart: connections wait, none is refused

  function connect() {
    const socket = new WebSocket(channel);
    socket.onopen = () => {
      live.connected = true;
      retry = 100;
    };
    socket.onmessage = (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch (e) {
        return;
      }
      receive(message);
    };
    socket.onclose = () => {
      live.connected = false;
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 2000);
    };
  }

  function receive(message) {
    switch (message.type) {
      case "hello": {
        live.refresh = message.refresh;
        if (pageBuild && message.build !== pageBuild) {
          // A new build: reload once (the reloaded page carries the new build; the mark
          // stops a loop should it not).
          const mark = `shipwright-reloaded:${message.build}`;
          if (sessionStorage.getItem(mark) !== location.href) {
            sessionStorage.setItem(mark, location.href);
            location.reload();
            return;
          }
        }
        // Templates changed between the render and now, or while the server was away.
        if (message.seq !== pageSeq || wasConnected) refresh();
        wasConnected = true;
        break;
      }
      case "status":
        live.status = { rebuild: message.rebuild || [], errors: message.errors || [] };
        overlay();
        break;
      case "update":
        live.receivedAt = now();
        pageSeq = message.seq;
        refresh();
        break;
      case "css":
        swapStylesheet(message.path);
        break;
      case "reload":
        location.reload();
        break;
    }
  }

  // ---- refresh: fetch the page again, morph it in ----------------------------------------

  let refreshing = false;
  let again = false;

  async function refresh() {
    if (refreshing) {
      again = true;
      return;
    }
    refreshing = true;
    try {
      do {
        again = false;
        await refreshOnce();
      } while (again);
    } finally {
      refreshing = false;
    }
  }

  async function refreshOnce() {
    let response, text;
    try {
      response = await fetch(location.href, {
        headers: { Accept: "text/html", "X-Shipwright": "refresh" },
        cache: "no-store",
        credentials: "same-origin",
        redirect: "follow",
      });
      text = await response.text();
      live.fetchedAt = now();
    } catch (e) {
      return; // the server went away; the channel reconnects and refreshes
    }
    const type = response.headers.get("content-type") || "";
    if (!type.includes("text/html")) {
      live.failure = response.ok ? null : { status: response.status, message: `the page answered ${response.status}` };
      overlay();
      return;
    }
    const next = new DOMParser().parseFromString(text, "text/html");
    live.parsedAt = now();
    const failure = readFailure(next);
    live.failure = failure || (response.ok ? null : { status: response.status, message: `the page answered ${response.status}` });
    if (live.failure) {
      overlay(); // keep what is on screen, say why it is not updated
      return;
    }
    if (loadedAsFailure) {
      location.reload();
      return;
    }
    if (live.refresh === "morph") morphDocument(next);
    live.updates += 1;
    live.appliedAt = now();
    overlay();
  }

  function morphDocument(next) {
    const x = window.scrollX;
    const y = window.scrollY;
    const active = document.activeElement;
    if (next.title !== document.title) document.title = next.title;
    morphHead(document.head, next.head);
    morphNode(document.body, next.body);
    if (active && active !== document.body && !active.isConnected && active.id) {
      const again = document.getElementById(active.id);
      if (again) again.focus();
    }
    window.scrollTo(x, y);
  }

  // The head, by identity of its elements (a stylesheet swapped in place keeps its
  // cache-busting query): elements that are gone are removed, new ones appended. Scripts
  // added this way do not run.
  function headKey(element) {
    const tag = element.tagName;
    if (tag === "LINK") {
      return `LINK ${element.getAttribute("rel")} ${withoutBust(element.getAttribute("href"))}`;
    }
    if (tag === "TITLE") return "TITLE";
    return element.outerHTML;
  }

  function withoutBust(href) {
    if (!href) return "";
    try {
      const url = new URL(href, location.href);
      url.searchParams.delete("shipwright");
      return url.href;
    } catch (e) {
      return href;
    }
  }

  function morphHead(head, nextHead) {
    const wanted = new Map();
    for (const element of Array.from(nextHead.children)) wanted.set(headKey(element), element);
    for (const element of Array.from(head.children)) {
      const key = headKey(element);
      if (wanted.has(key)) wanted.delete(key);
      else if (!keep(element)) element.remove();
    }
    for (const element of wanted.values()) head.appendChild(document.importNode(element, true));
  }

  // Nodes the morph leaves alone: the overlay, and anything marked to be kept.
  function keep(node) {
    return node.nodeType === 1 && (node.id === "shipwright-overlay" || node.hasAttribute("data-shipwright-keep"));
  }

  // An element's identity among its siblings: its id, or a form control's name.
  function key(node) {
    if (node.nodeType !== 1) return null;
    if (node.id) return `#${node.id}`;
    const name = node.getAttribute("name");
    if (name && /^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(node.tagName)) {
      return `${node.tagName} ${node.getAttribute("type") || ""} ${name}`;
    }
    return null;
  }

  function sameKind(a, b) {
    return a.nodeType === b.nodeType && a.nodeName === b.nodeName;
  }

  function morphNode(node, next) {
    if (node.nodeType === 1) {
      morphAttributes(node, next);
      if (node.tagName === "TEXTAREA") {
        // Its text is the default value; what was typed stays (the browser keeps a changed
        // value when the default changes).
        if (node.textContent !== next.textContent) node.textContent = next.textContent;
      } else {
        morphChildren(node, next);
      }
    } else if (node.nodeValue !== next.nodeValue) {
      node.nodeValue = next.nodeValue;
    }
  }

  function morphAttributes(node, next) {
    // The open state of <details> and <dialog> is the reader's.
    const own = (name) => name === "open" && (node.tagName === "DETAILS" || node.tagName === "DIALOG");
    for (const { name, value } of Array.from(next.attributes)) {
      if (!own(name) && node.getAttribute(name) !== value) node.setAttribute(name, value);
    }
    for (const { name } of Array.from(node.attributes)) {
      if (!own(name) && !next.hasAttribute(name)) node.removeAttribute(name);
    }
  }

  function morphChildren(parent, nextParent) {
    let cursor = parent.firstChild;
    for (const next of Array.from(nextParent.childNodes)) {
      while (cursor && keep(cursor)) cursor = cursor.nextSibling;
      const nextKey = key(next);
      let match = null;
      if (nextKey) {
        // The same element further on (moved), by its key.
        for (let node = cursor; node; node = node.nextSibling) {
          if (key(node) === nextKey && sameKind(node, next)) {
            match = node;
            break;
          }
        }
      }
      if (!match && cursor && sameKind(cursor, next) && (key(cursor) === null || key(cursor) === nextKey)) {
        match = cursor;
      }
      if (match) {
        if (match === cursor) cursor = cursor.nextSibling;
        else parent.insertBefore(match, cursor);
        morphNode(match, next);
      } else {
        parent.insertBefore(document.importNode(next, true), cursor);
      }
    }
    while (cursor) {
      const following = cursor.nextSibling;
      if (!keep(cursor)) parent.removeChild(cursor);
      cursor = following;
    }
  }

  // ---- stylesheets -------------------------------------------------------------------------

  function swapStylesheet(path) {
    for (const link of Array.from(document.querySelectorAll('link[rel~="stylesheet"]'))) {
      const url = new URL(link.href, location.href);
      if (url.origin !== location.origin || url.pathname !== path) continue;
      url.searchParams.set("shipwright", String(Date.now()));
      // The new sheet next to the old one, which goes once the new one is in: no flash.
      const next = link.cloneNode();
      next.href = url.href;
      const done = () => {
        link.remove();
        live.updates += 1;
        live.appliedAt = now();
      };
      next.addEventListener("load", done, { once: true });
      next.addEventListener("error", done, { once: true });
      link.after(next);
    }
  }

  // ---- the overlay -------------------------------------------------------------------------

  // Hangs off <html>, not <body>, so that a morph of the body leaves it be.
  function overlay() {
    const { rebuild, errors } = live.status;
    const failure = live.failure;
    let box = document.getElementById("shipwright-overlay");
    if (rebuild.length === 0 && errors.length === 0 && !failure) {
      if (box) box.remove();
      return;
    }
    if (!box) {
      box = document.createElement("div");
      box.id = "shipwright-overlay";
      box.setAttribute("role", "alert");
      box.style.cssText =
        "position:fixed;left:1rem;right:1rem;bottom:1rem;z-index:2147483647;max-height:60vh;overflow:auto;" +
        "background:#1e1e24;color:#f4f4f6;border-left:6px solid #e5534b;border-radius:6px;padding:0.75rem 1rem;" +
        "font:14px/1.45 ui-monospace,SFMono-Regular,Menlo,monospace;box-shadow:0 4px 24px rgba(0,0,0,.35)";
      document.documentElement.appendChild(box);
    }
    box.replaceChildren();
    const section = (title, items) => {
      const heading = document.createElement("h2");
      heading.textContent = title;
      heading.style.cssText = "margin:0.25rem 0;font-size:15px;color:#ff938a";
      const list = document.createElement("ul");
      list.style.cssText = "margin:0 0 0.5rem;padding-left:1.2rem";
      for (const [file, line, text, excerpt] of items) {
        const item = document.createElement("li");
        const where = document.createElement("span");
        where.className = "file";
        where.style.color = "#9cdcfe";
        where.textContent = file ? (line ? `${file}:${line}` : file) : "";
        item.append(where, where.textContent ? ": " : "", text);
        if (excerpt && excerpt.length) {
          const pre = document.createElement("pre");
          pre.style.cssText = "margin:0.25rem 0;color:#c8c8d0";
          pre.textContent = excerpt.map(([n, t]) => `${n === line ? ">" : " "} ${String(n).padStart(4)} | ${t}`).join("\n");
          item.appendChild(pre);
        }
        list.appendChild(item);
      }
      box.append(heading, list);
    };
    if (rebuild.length) {
      section("cargo build needed", rebuild.map((r) => [r.file, r.line, `${r.template}: ${r.reason}`]));
    }
    if (failure) {
      section("the page did not render", [[failure.file, failure.line, failure.message, failure.excerpt]]);
    }
    if (errors.length) {
      section("template errors", errors.map((e) => [e.file, e.line, e.message]));
    }
  }

  if (live.failure) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", overlay);
    else overlay();
  }
  connect();
})();
