/*
 * fleetlink live client: the browser end of the hub's websocket protocol (v1).
 *
 * Two sockets, each with its own subscription: "fleet" asks for the few
 * signals the map needs from every truck, "detail" asks for every panel
 * signal of the one selected truck. Both keep the latest value per
 * (truck, signal) in memory; the Dash clientside callbacks in ui.js read
 * them on a timer. A socket that closes reconnects after an exponential,
 * jittered backoff and subscribes again once the hub has said hello.
 *
 * Public surface: window.fleetlink.live (a LiveClient), with
 * ensureStarted(config), select(truckId), status(), hubNow(), and the
 * stores fleet (Map id -> {key: [t, v]}), detail, signals, version.
 */
(function () {
  "use strict";

  const MIN_BACKOFF_MS = 500;
  const MAX_BACKOFF_MS = 10000;
  const PING_EVERY_MS = 15000;

  /* A relative URL is resolved against the page; http(s) becomes ws(s). */
  function resolveHubUrl(url) {
    const resolved = new URL(url, window.location.href);
    if (resolved.protocol === "http:") {
      resolved.protocol = "ws:";
    } else if (resolved.protocol === "https:") {
      resolved.protocol = "wss:";
    }
    return resolved.toString();
  }

  /* One websocket to the hub, its subscription, and its reconnection state. */
  class HubSocket {
    constructor(url, name, onMessage) {
      this.url = url;
      this.name = name;
      this.onMessage = onMessage;
      this.request = null;
      this.ws = null;
      this.state = "idle";
      this.attempt = 0;
      this.retryAt = 0;
      this.timer = null;
      this.pinger = null;
      this.pingSentAt = 0;
      this.lastError = "";
    }

    /* Replace the subscription; sent now if the hub has said hello. */
    subscribe(request) {
      this.request = request;
      if (this.state === "connected") {
        this.send(request);
      } else if (this.state === "idle") {
        this.open();
      }
    }

    stop() {
      this.request = null;
      this.state = "idle";
      clearTimeout(this.timer);
      clearInterval(this.pinger);
      this.timer = null;
      if (this.ws) {
        const ws = this.ws;
        this.ws = null;
        ws.close(1000, "no longer needed");
      }
    }

    send(message) {
      if (this.ws && this.ws.readyState === WebSocket.OPEN) {
        this.ws.send(JSON.stringify(message));
      }
    }

    ping() {
      this.pingSentAt = Date.now();
      this.send({ op: "ping" });
    }

    open() {
      this.state = this.attempt === 0 ? "connecting" : "reconnecting";
      let ws;
      try {
        ws = new WebSocket(this.url);
      } catch (err) {
        this.retry("cannot open " + this.url + ": " + err.message);
        return;
      }
      this.ws = ws;
      ws.onmessage = (event) => {
        if (this.ws === ws) {
          this.receive(event.data);
        }
      };
      ws.onclose = (event) => {
        if (this.ws === ws) {
          this.ws = null;
          this.retry("closed with code " + event.code + (event.reason ? ": " + event.reason : ""));
        }
      };
    }

    receive(text) {
      let message;
      try {
        message = JSON.parse(text);
      } catch (err) {
        this.lastError = "hub sent a message that is not JSON";
        return;
      }
      if (message.type === "hello") {
        this.state = "connected";
        this.attempt = 0;
        this.lastError = "";
        clearInterval(this.pinger);
        this.pinger = setInterval(() => this.ping(), PING_EVERY_MS);
        this.ping();
      } else if (message.type === "error") {
        this.lastError = message.error;
        console.warn("fleetlink hub refused the " + this.name + " socket:", message.error);
      }
      this.onMessage(this, message);
    }

    retry(reason) {
      clearInterval(this.pinger);
      if (this.request === null) {
        this.state = "idle";
        return;
      }
      const base = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** this.attempt);
      const delay = base * (0.75 + Math.random() * 0.5);
      this.attempt += 1;
      this.state = "reconnecting";
      this.lastError = this.lastError || reason;
      this.retryAt = Date.now() + delay;
      this.timer = setTimeout(() => {
        this.timer = null;
        this.lastError = "";
        this.open();
      }, delay);
    }
  }

  /* The latest values from the hub, and the two sockets that bring them. */
  class LiveClient {
    constructor() {
      this.config = null;
      this.signals = {};
      this.fleet = new Map();
      this.detail = { truck: null, values: {} };
      this.version = 0;
      this.clockOffset = 0;
      this.fleetSocket = null;
      this.detailSocket = null;
    }

    ensureStarted(config) {
      if (this.config !== null || !config) {
        return;
      }
      this.config = config;
      const url = resolveHubUrl(config.hubUrl);
      const handler = (socket, message) => this.handle(socket, message);
      this.fleetSocket = new HubSocket(url, "fleet", handler);
      this.detailSocket = new HubSocket(url, "detail", handler);
      this.fleetSocket.subscribe({
        op: "subscribe",
        trucks: "*",
        signals: config.fleetSignals,
        rate_hz: config.fleetRateHz,
      });
      this.seedFromApi(config.apiPrefix);
    }

    /*
     * Draw the fleet at once from the latest state the HTTP API keeps (in
     * memcached in production), before or without the hub; a value already
     * held, from the hub's snapshot, is kept when it is newer.
     */
    seedFromApi(prefix) {
      if (!prefix) {
        return;
      }
      fetch(prefix.replace(/\/$/, "") + "/trucks", { headers: { Accept: "application/json" } })
        .then((response) => (response.ok ? response.json() : null))
        .then((body) => {
          if (!body || !Array.isArray(body.trucks)) {
            return;
          }
          for (const truck of body.trucks) {
            const id = String(truck.id);
            const held = this.fleet.get(id) || {};
            for (const [key, point] of Object.entries(truck.latest || {})) {
              if (point[1] !== null && (!(key in held) || held[key][0] < point[0])) {
                held[key] = point;
              }
            }
            this.fleet.set(id, held);
          }
          this.version += 1;
        })
        .catch((err) => console.info("fleetlink: no latest state from the API:", err.message));
    }

    /* Show another truck in the panel (null for none). */
    select(truck) {
      const id = truck === null || truck === undefined ? null : String(truck);
      if (this.detailSocket === null || id === this.detail.truck) {
        return;
      }
      this.detail = { truck: id, values: {} };
      this.version += 1;
      if (id === null) {
        this.detailSocket.stop();
        return;
      }
      this.detailSocket.subscribe({
        op: "subscribe",
        trucks: [Number(id)],
        signals: this.config.detailSignals,
        rate_hz: this.config.detailRateHz,
      });
    }

    handle(socket, message) {
      switch (message.type) {
        case "hello":
          this.signals = message.signals || {};
          socket.send(this.known(socket.request));
          break;
        case "snapshot":
        case "update":
          this.merge(socket, message.trucks || {});
          break;
        case "pong": {
          // The hub read its clock about halfway through the round trip.
          const midway = (socket.pingSentAt + Date.now()) / 2000;
          this.clockOffset = message.t - midway;
          break;
        }
        default:
          break;
      }
    }

    /* The subscription without keys the hub does not store (it would refuse them). */
    known(request) {
      const missing = request.signals.filter((key) => !(key in this.signals));
      if (missing.length > 0) {
        console.warn("fleetlink hub does not store", missing.join(", "));
      }
      return Object.assign({}, request, {
        signals: request.signals.filter((key) => key in this.signals),
      });
    }

    merge(socket, trucks) {
      for (const [id, values] of Object.entries(trucks)) {
        if (socket === this.fleetSocket) {
          const known = this.fleet.get(id);
          this.fleet.set(id, known ? Object.assign(known, values) : Object.assign({}, values));
        } else if (id === this.detail.truck) {
          Object.assign(this.detail.values, values);
        }
      }
      this.version += 1;
    }

    /* The hub's clock, as far as the last pong tells. */
    hubNow() {
      return Date.now() / 1000 + this.clockOffset;
    }

    /* "connected", "connecting" or "reconnecting", with what went wrong. */
    status() {
      const sockets = [this.fleetSocket, this.detailSocket].filter(
        (s) => s !== null && s.state !== "idle",
      );
      if (sockets.length === 0) {
        return { state: "connecting", retryInS: 0, error: "" };
      }
      const down = sockets.find((s) => s.state === "reconnecting");
      if (down) {
        return {
          state: "reconnecting",
          retryInS: Math.max(0, (down.retryAt - Date.now()) / 1000),
          error: down.lastError,
        };
      }
      const opening = sockets.find((s) => s.state === "connecting");
      return { state: opening ? "connecting" : "connected", retryInS: 0, error: "" };
    }
  }

  window.fleetlink = window.fleetlink || {};
  window.fleetlink.live = new LiveClient();
  window.fleetlink.resolveHubUrl = resolveHubUrl;
})();
