// The browser side of the live socket: sends `data-event` clicks, swaps in the HTML the
// server sends (parts, or the whole body), and shows the dev overlay.
(() => {
  "use strict";
  const meta = document.querySelector('meta[name="shipwright-generation"]');
  const url = `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/live` +
    `?page=${encodeURIComponent(location.pathname)}&generation=${meta ? meta.content : 0}`;
  // Read by the end-to-end test and the benchmark: how many messages were applied, and when
  // the last one was (epoch milliseconds).
  const live = (window.__shipwright = { connected: false, applied: 0, appliedAt: 0, socket: null });

  function connect(reloadOnOpen) {
    const socket = new WebSocket(url);
    live.socket = socket;
    socket.onopen = () => {
      if (reloadOnOpen) return location.reload(); // the server restarted (after a cargo build)
      live.connected = true;
    };
    socket.onmessage = (message) => apply(JSON.parse(message.data));
    socket.onclose = () => {
      const wasConnected = live.connected;
      live.connected = false;
      setTimeout(() => connect(reloadOnOpen || wasConnected), 500);
    };
  }

  document.addEventListener("click", (click) => {
    const target = click.target.closest("[data-event]");
    if (target && live.socket && live.socket.readyState === WebSocket.OPEN) {
      live.socket.send(JSON.stringify({ event: target.dataset.event }));
    }
  });

  function apply(message) {
    switch (message.type) {
      case "parts":
        for (const [id, html] of Object.entries(message.parts)) {
          if (id === "title") {
            const text = document.createElement("textarea");
            text.innerHTML = html;
            document.title = text.value;
            continue;
          }
          const element = document.querySelector(`[data-part="${id}"]`);
          if (element) element.innerHTML = html;
        }
        break;
      case "page": {
        const next = new DOMParser().parseFromString(message.html, "text/html");
        document.title = next.title;
        document.body.replaceWith(document.adoptNode(next.body));
        break;
      }
      case "status":
        overlay(message);
        break;
      case "error":
        console.warn("shipwright:", message.message);
        break;
    }
    live.applied += 1;
    live.appliedAt = performance.timeOrigin + performance.now();
  }

  // The overlay hangs off <html>, not <body>, so that a whole-body swap keeps it.
  function overlay(status) {
    let box = document.getElementById("shipwright-overlay");
    if (status.rebuild.length === 0 && status.errors.length === 0) {
      if (box) box.remove();
      return;
    }
    if (!box) {
      box = document.createElement("div");
      box.id = "shipwright-overlay";
      box.setAttribute("role", "alert");
      document.documentElement.appendChild(box);
    }
    box.replaceChildren();
    const title = document.createElement("h2");
    title.textContent = status.rebuild.length ? "cargo build needed" : "template error";
    const list = document.createElement("ul");
    const item = (file, line, text) => {
      const li = document.createElement("li");
      const where = document.createElement("span");
      where.className = "file";
      where.textContent = line ? `${file}:${line}` : file || "";
      li.append(where, where.textContent ? ": " : "", text);
      list.appendChild(li);
    };
    for (const r of status.rebuild) item(r.file, r.line, `${r.template}: ${r.reason}`);
    for (const e of status.errors) item(e.file, e.line, e.message);
    box.append(title, list);
  }

  connect(false);
})();
