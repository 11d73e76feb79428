/*
 * fleetlink clientside callbacks: draw what live.js holds into the page.
 *
 * tick    every 500 ms: restyle the truck trace of the map (only that trace,
 *         only when values changed), the fleet summary, the connection
 *         state and the truck list.
 * pick    a click on a truck marker selects it in the truck list.
 * select  the truck list's value opens that truck's detail subscription.
 * detail  every 500 ms: values, ages and limit colours of the panel rows.
 */
(function () {
  "use strict";

  const UNITS = { degC: "°C", kOhm: "kΩ", deg: "°" };
  const CONNECTION_TEXT = {
    connected: "Connected",
    connecting: "Connecting",
    reconnecting: "Reconnecting",
  };
  const LEVEL_RANK = { warn: 1, bad: 2 };

  let drawn = { version: -1, selected: null, count: -1 };
  let truckIds = "";

  function live() {
    return window.fleetlink.live;
  }

  function nameOf(key, value, fallback) {
    const info = live().signals[key];
    const choices = (info && info.choices) || fallback || {};
    const name = choices[String(Math.round(value))];
    return name === undefined ? null : name;
  }

  function unitOf(key) {
    const info = live().signals[key];
    const unit = (info && info.unit) || "";
    return UNITS[unit] || unit;
  }

  function formatAge(seconds) {
    if (seconds < 1) {
      return "now";
    }
    if (seconds < 90) {
      return Math.floor(seconds) + " s ago";
    }
    if (seconds < 5400) {
      return Math.round(seconds / 60) + " min ago";
    }
    return Math.round(seconds / 3600) + " h ago";
  }

  function byNumber(a, b) {
    return Number(a) - Number(b);
  }

  function findTrace(gd, uid) {
    return gd.data.findIndex((trace) => trace.uid === uid);
  }

  function plotDiv() {
    const host = document.getElementById("fleet-map");
    if (!host || !window.Plotly) {
      return null;
    }
    const gd = host.classList.contains("js-plotly-plot")
      ? host
      : host.querySelector(".js-plotly-plot");
    return gd && gd.data ? gd : null;
  }

  /* The truck trace's arrays, one entry per truck with a known position. */
  function truckArrays(config) {
    const client = live();
    const now = client.hubNow();
    const styles = config.modeStyle;
    const out = {
      x: [], y: [], customdata: [], text: [], color: [], symbol: [], angle: [],
      size: [], lineColor: [], lineWidth: [], opacity: [],
    };
    const ids = Array.from(client.fleet.keys()).sort(byNumber);
    for (const id of ids) {
      const v = client.fleet.get(id);
      if (!v.Longitude || !v.Latitude) {
        continue;
      }
      const soc = v.SOC ? v.SOC[1] : null;
      const mode = v.VehicleMode ? nameOf("VehicleMode", v.VehicleMode[1]) : null;
      const style = styles[mode] || styles.Unknown;
      const speed = v.WheelBasedVehicleSpeed ? v.WheelBasedVehicleSpeed[1] : null;
      const charge = v.ChargeState ? nameOf("ChargeState", v.ChargeState[1]) : null;
      const seen = Math.max(v.Longitude[0], v.Latitude[0]);
      out.x.push(v.Longitude[1]);
      out.y.push(v.Latitude[1]);
      out.customdata.push(id);
      out.color.push(soc === null ? NaN : soc);
      out.symbol.push(style.symbol);
      out.angle.push(mode === "Driving" && v.CompassBearing ? v.CompassBearing[1] : 0);
      out.size.push(style.size);
      out.lineColor.push(style.line);
      out.lineWidth.push(style.width);
      out.opacity.push(now - seen > config.offlineAfterS ? 0.35 : 1);
      out.text.push(
        "<b>Truck " + id + "</b> · " + (mode || "mode unknown") +
        "<br>SOC " + (soc === null ? "—" : soc.toFixed(1) + " %") +
        "<br>Speed " + (speed === null ? "—" : speed.toFixed(0) + " km/h") +
        (charge && charge !== "Disconnected" ? "<br>Charger " + charge : ""),
      );
    }
    return out;
  }

  function drawTrucks(gd, config) {
    const client = live();
    const index = findTrace(gd, "trucks");
    if (index < 0) {
      return;
    }
    const same =
      drawn.version === client.version &&
      drawn.selected === client.detail.truck &&
      gd.data[index].x.length === drawn.count;
    if (same) {
      return;
    }
    // One restyle for both traces: each restyle redraws the plot once.
    const a = truckArrays(config);
    const ring = findTrace(gd, "selected-truck");
    const at = a.customdata.indexOf(client.detail.truck);
    const ringX = at < 0 ? [] : [a.x[at]];
    const ringY = at < 0 ? [] : [a.y[at]];
    // Restyle cycles a value list over the traces: give the ring its own.
    const r = config.ringStyle;
    const update = {
      x: [a.x, ringX], y: [a.y, ringY], customdata: [a.customdata, []], text: [a.text, []],
      "marker.color": [a.color, r.line], "marker.symbol": [a.symbol, r.symbol],
      "marker.angle": [a.angle, 0], "marker.size": [a.size, r.size],
      "marker.line.color": [a.lineColor, r.line], "marker.line.width": [a.lineWidth, r.width],
      "marker.opacity": [a.opacity, 1],
    };
    window.Plotly.restyle(gd, update, ring < 0 ? [index] : [index, ring]);
    drawn = { version: client.version, selected: client.detail.truck, count: a.x.length };
  }

  function summary(config) {
    const client = live();
    const now = client.hubNow();
    const counts = { Driving: 0, Charging: 0, Parked: 0, Fault: 0 };
    let online = 0;
    let socSum = 0;
    let socCount = 0;
    for (const v of client.fleet.values()) {
      const times = Object.values(v).map((point) => point[0]);
      if (times.length === 0 || now - Math.max(...times) > config.offlineAfterS) {
        continue;
      }
      online += 1;
      const mode = v.VehicleMode ? nameOf("VehicleMode", v.VehicleMode[1]) : null;
      if (mode in counts) {
        counts[mode] += 1;
      }
      if (v.SOC) {
        socSum += v.SOC[1];
        socCount += 1;
      }
    }
    if (client.fleet.size === 0) {
      return "Waiting for the hub…";
    }
    const mean = socCount ? (socSum / socCount).toFixed(0) + " %" : "—";
    return (
      online + " online · " + counts.Driving + " driving · " + counts.Charging +
      " charging · " + counts.Parked + " parked" +
      (counts.Fault ? " · " + counts.Fault + " fault" : "") + " · mean SOC " + mean
    );
  }

  function connection() {
    const s = live().status();
    let text = CONNECTION_TEXT[s.state];
    if (s.state === "reconnecting" && s.retryInS > 0.5) {
      text += " in " + Math.ceil(s.retryInS) + " s";
    }
    return ["fl-conn is-" + s.state, text, s.error];
  }

  function truckOptions() {
    const ids = Array.from(live().fleet.keys()).sort(byNumber);
    const joined = ids.join(",");
    if (joined === truckIds) {
      return window.dash_clientside.no_update;
    }
    truckIds = joined;
    return ids.map((id) => ({ label: "Truck " + id, value: id }));
  }

  /* Display value, worst limit level and age of one panel field. */
  function fieldState(field, values, now) {
    let value = null;
    let t = null;
    if (field.key === "spread") {
      const lo = values.CellVoltageMin;
      const hi = values.CellVoltageMax;
      if (lo && hi) {
        value = (hi[1] - lo[1]) * 1000;
        t = Math.min(lo[0], hi[0]);
      }
    } else if (values[field.key]) {
      [t, value] = values[field.key];
    }
    if (value === null) {
      return { text: "—", age: null, level: null };
    }
    let level = null;
    for (const limit of field.limits) {
      const hit =
        (limit.low !== null && value < limit.low) ||
        (limit.high !== null && value > limit.high) ||
        (limit.equals !== null && value === limit.equals);
      if (hit && (level === null || LEVEL_RANK[limit.level] > LEVEL_RANK[level])) {
        level = limit.level;
      }
    }
    const name = nameOf(field.key, value, field.choices);
    const unit = field.key === "spread" ? "mV" : unitOf(field.key);
    const text = name !== null ? name : value.toFixed(field.digits) + (unit ? " " + unit : "");
    return { text: text, age: now - t, level: level };
  }

  function detailRows(config) {
    const client = live();
    const values = client.detail.values;
    const now = client.hubNow();
    const faulted = values.ActiveFaultCount && values.ActiveFaultCount[1] > 0;
    const rows = {};
    for (const section of config.sections) {
      for (const field of section.fields) {
        const state = fieldState(field, values, now);
        const classes = ["fl-row"];
        if (field.only_if_faulted && !faulted) {
          classes.push("is-hidden");
        }
        if (state.age === null) {
          classes.push("is-missing");
        } else if (state.age > config.staleAfterS) {
          classes.push("is-stale");
        }
        if (state.level) {
          classes.push("is-" + state.level);
        }
        rows[field.key] = {
          text: state.text,
          age: state.age === null ? "" : formatAge(state.age),
          className: classes.join(" "),
        };
      }
    }
    return rows;
  }

  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.fleetlink = {
    tick: function (n, config) {
      live().ensureStarted(config);
      const gd = plotDiv();
      if (gd) {
        drawTrucks(gd, config);
      }
      const [className, text, error] = connection();
      const conn = document.getElementById("connection");
      if (conn) {
        conn.title = error || "";
      }
      return [summary(config), className, text, truckOptions()];
    },

    pick: function (clickData) {
      const point = clickData && clickData.points && clickData.points[0];
      if (!point || point.customdata === undefined) {
        return window.dash_clientside.no_update;
      }
      return String(point.customdata);
    },

    select: function (truck, config) {
      live().ensureStarted(config);
      live().select(truck);
      if (truck === null || truck === undefined) {
        return ["No truck selected", "fl-detail-body is-hidden", "fl-empty"];
      }
      return ["Truck " + truck, "fl-detail-body", "fl-empty is-hidden"];
    },

    detail: function (n, config) {
      const outputs = window.dash_clientside.callback_context.outputs_list;
      if (live().detail.truck === null) {
        return outputs.map(() => window.dash_clientside.no_update);
      }
      const rows = detailRows(config);
      return [
        outputs[0].map((o) => rows[o.id.key].text),
        outputs[1].map((o) => rows[o.id.key].age),
        outputs[2].map((o) => rows[o.id.key].className),
      ];
    },
  };
})();
