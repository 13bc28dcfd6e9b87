// The browser side of the app's live socket: sends `data-event` clicks and swaps in the HTML
// the server sends (parts, or the whole body). In dev, the overlay, stylesheets and reloads
// after a rebuild are the dev layer's client (`/__shipwright/live.js`).
(() => {
  "use strict";
  const meta = document.querySelector('meta[name="shipwright-generation"]');
  const url = `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/live` +
    `?page=${encodeURIComponent(location.pathname)}&generation=${meta ? meta.content : 0}`;
  // Read by the end-to-end test and the benchmark: whether the socket is open, how many
  // messages were applied, and when the last one was (epoch milliseconds).
  const live = (window.__liveview = { connected: false, applied: 0, appliedAt: 0, socket: null });

  function connect() {
    const socket = new WebSocket(url);
    live.socket = socket;
    socket.onopen = () => {
      live.connected = true;
    };
    socket.onmessage = (message) => apply(JSON.parse(message.data));
    socket.onclose = () => {
      live.connected = false;
      setTimeout(connect, 500);
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
        // The dev layer's script stays where it is (it is not in the app's render).
        const keep = document.querySelector('script[src="/__shipwright/live.js"]');
        document.body.replaceWith(document.adoptNode(next.body));
        if (keep) document.body.appendChild(keep);
        break;
      }
      case "error":
        console.warn("liveview:", message.message);
        break;
    }
    live.applied += 1;
    live.appliedAt = performance.timeOrigin + performance.now();
  }

  connect();
})();
