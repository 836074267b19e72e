/* hpgeo viewer: layer tree by product and date, before/after swipe, click for values and unit statistics,
 * alerts. Served by hpgeo itself (no CDN); needs only Leaflet (django-js-lib-leaflet). */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("hp-config").textContent);
  var S = cfg.strings, lang = cfg.lang, base = cfg.base;

  // --- formatting: Vietnamese 1.234,5 and dd/mm/yyyy; English 1,234.5 and yyyy-mm-dd ---------------------
  var SEP = lang === "vi" ? {th: ".", dec: ","} : {th: ",", dec: "."};
  function fmtNum(x, digits) {
    if (x === null || x === undefined || !isFinite(x)) return "–";
    var d = digits === undefined ? (Number.isInteger(x) ? 0 : Math.abs(x) >= 100 ? 1 : 2) : digits;
    var parts = Math.abs(x).toFixed(d).split(".");
    var whole = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, SEP.th);
    return (x < 0 ? "−" : "") + whole + (parts[1] ? SEP.dec + parts[1] : "");
  }
  function fmtDate(iso) {
    if (!iso) return "";
    var d = String(iso).slice(0, 10).split("-");
    return lang === "vi" ? d[2] + "/" + d[1] + "/" + d[0] : d.join("-");
  }
  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }
  function el(tag, attrs, html) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (html !== undefined) e.innerHTML = html;
    return e;
  }
  function getJSON(url) {
    return fetch(url, {headers: {Accept: "application/json"}}).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (!r.ok) { var err = new Error(body.description || ("HTTP " + r.status)); err.status = r.status; throw err; }
        return body;
      });
    });
  }

  // --- map, base map, outlines and place labels -------------------------------------------------------------
  var map = L.map("hp-map", {zoomControl: true, minZoom: 3, maxZoom: 19});
  L.control.scale({imperial: false}).addTo(map);
  map.createPane("hp-scenes").style.zIndex = 250;
  map.createPane("hp-products").style.zIndex = 350;
  map.createPane("hp-compare").style.zIndex = 370;
  map.createPane("hp-outlines").style.zIndex = 420;
  map.createPane("hp-alert-areas").style.zIndex = 430;
  var basemap = L.tileLayer(cfg.basemap.url, {
    maxNativeZoom: cfg.basemap.maxNativeZoom, maxZoom: 19, attribution: esc(cfg.basemap.attribution), className: "hp-basemap"
  }).addTo(map);
  if (cfg.view) map.setView([cfg.view.lat, cfg.view.lon], cfg.view.zoom);
  else if (cfg.fit) map.fitBounds(cfg.fit);
  else map.setView(cfg.center, 10);

  var outlines = {}, labels = L.layerGroup().addTo(map), features = [];
  function ringArea(r) { var a = 0; for (var i = 0, j = r.length - 1; i < r.length; j = i++) a += (r[j][0] + r[i][0]) * (r[j][1] - r[i][1]); return Math.abs(a / 2); }
  function polygons(g) { return !g ? [] : g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : []; }
  function inRing(x, y, r) {
    var inside = false;
    for (var i = 0, j = r.length - 1; i < r.length; j = i++) {
      var xi = r[i][0], yi = r[i][1], xj = r[j][0], yj = r[j][1];
      if ((yi > y) !== (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  }
  function contains(g, lon, lat) {
    return polygons(g).some(function (p) { return inRing(lon, lat, p[0]) && !p.slice(1).some(function (h) { return inRing(lon, lat, h); }); });
  }
  function labelPoint(g) {  // centroid of the largest outer ring (islands, districts)
    var best = null, area = -1;
    polygons(g).forEach(function (p) { var a = ringArea(p[0]); if (a > area) { area = a; best = p[0]; } });
    if (!best) return null;
    var cx = 0, cy = 0, a2 = 0;
    for (var i = 0, j = best.length - 1; i < best.length; j = i++) {
      var f = best[j][0] * best[i][1] - best[i][0] * best[j][1];
      a2 += f; cx += (best[j][0] + best[i][0]) * f; cy += (best[j][1] + best[i][1]) * f;
    }
    if (!a2) return null;
    return [cy / (3 * a2), cx / (3 * a2)];
  }
  function aoiTip(p) {
    var s = "<b>" + esc(lang === "en" ? p.name_en : p.name_vi) + "</b>";
    if (p.area_km2 != null) s += "<br>" + esc(S.area) + ": " + fmtNum(p.area_km2, 1) + " km²";
    if (p.valid_from || p.valid_to) s += "<br>" + esc(S.valid) + ": " + fmtDate(p.valid_from) + " – " + (p.valid_to ? fmtDate(p.valid_to) : "…");
    return s;
  }
  var BIG_KINDS = {city: 1, province: 1, zone: 1, coastal: 1};
  cfg.vector.forEach(function (spec) {
    var group = L.layerGroup().addTo(map);
    outlines[spec.key] = {spec: spec, group: group};
    getJSON(spec.url).then(function (fc) {
      L.geoJSON(fc, {
        pane: "hp-outlines", interactive: false,
        style: function (f) { return {color: f.properties.kind === "island" ? "#b45309" : spec.color, weight: spec.weight, fill: false, dashArray: spec.dashArray}; }
      }).addTo(group);
      fc.features.forEach(function (f) {
        features.push({source: spec.key, feature: f});
        var p = f.properties || {};
        var pt = labelPoint(f.geometry);
        if (pt && !BIG_KINDS[p.kind]) {
          L.tooltip({permanent: true, direction: "center", className: "hp-place", interactive: false})
            .setLatLng(pt).setContent(esc(lang === "en" ? p.name_en : p.name_vi)).addTo(labels);
        }
      });
    }).catch(function (e) { console.error("hpgeo: cannot load " + spec.url + ": " + e.message); });
  });

  // --- layer state ------------------------------------------------------------------------------------------
  var entries = {}, order = [];
  cfg.groups.forEach(function (g) { g.layers.forEach(function (e) { entries[e.id] = e; order.push(e.id); }); });
  var state = {on: {}, focus: cfg.focus};  // on[collection] = {step, layer, opacity}

  function stepOf(e, itemId) { return e.steps.filter(function (s) { return s.item === itemId; })[0] || e.steps[e.steps.length - 1]; }
  function tileLayer(e, step, opacity, pane) {
    var opts = {opacity: opacity, maxZoom: 19, maxNativeZoom: 18, pane: pane || (e.kind === "scene" ? "hp-scenes" : "hp-products"), className: "hp-data"};
    if (step.bounds) opts.bounds = L.latLngBounds(step.bounds);  // no tile is asked for outside the data
    return L.tileLayer(step.tiles, opts);
  }
  function switchOn(cid, itemId) {
    var e = entries[cid]; if (!e) return;
    var cur = state.on[cid], opacity = cur ? cur.opacity : e.opacity;
    if (cur) map.removeLayer(cur.layer);
    var step = stepOf(e, itemId || (cur && cur.step.item));
    var layer = tileLayer(e, step, opacity).addTo(map);
    state.on[cid] = {step: step, layer: layer, opacity: opacity};
    if (e.kind === "product") state.focus = cid;
    refresh(cid);
  }
  function switchOff(cid) {
    var cur = state.on[cid]; if (!cur) return;
    map.removeLayer(cur.layer); delete state.on[cid];
    if (state.focus === cid) state.focus = Object.keys(state.on).filter(function (c) { return entries[c].kind === "product"; }).pop() || null;
    refresh(cid);
  }

  // --- the layer tree ---------------------------------------------------------------------------------------
  var tree = document.getElementById("hp-tree");
  var baseBox = el("details", {"class": "hp-group", open: ""}, "<summary>" + esc(S.basemap) + "</summary>");
  function baseToggle(label, layer, key) {
    var row = el("label", {"class": "hp-row"});
    var cb = el("input", {type: "checkbox", "data-base": key}); cb.checked = true;
    cb.addEventListener("change", function () { if (cb.checked) layer.addTo(map); else map.removeLayer(layer); });
    row.appendChild(cb); row.appendChild(document.createTextNode(" " + label)); baseBox.appendChild(row);
  }
  baseToggle(S.basemap, basemap, "basemap");
  cfg.vector.forEach(function (spec) { baseToggle(spec.title, outlines[spec.key].group, spec.key); });
  baseToggle(S.place_labels, labels, "labels");
  tree.appendChild(baseBox);

  var rows = {};
  cfg.groups.forEach(function (g) {
    var box = el("details", {"class": "hp-group", "data-group": g.key, open: ""}, "<summary>" + esc(g.title) + "</summary>");
    g.layers.forEach(function (e) {
      var row = el("div", {"class": "hp-layer", "data-layer": e.id});
      var head = el("label", {"class": "hp-row"});
      var cb = el("input", {type: "checkbox", "data-layer-toggle": e.id});
      head.appendChild(cb);
      head.appendChild(el("span", {"class": "hp-layer-title"}, " " + esc(e.title)));
      if (e.steps.some(function (s) { return s.simulated; })) head.appendChild(el("span", {"class": "hp-simtag"}, esc(S.sim_short)));
      row.appendChild(head);
      var ctl = el("div", {"class": "hp-controls"});
      var sel = el("select", {"data-layer-date": e.id, "aria-label": S.date});
      e.steps.forEach(function (s, i) { sel.appendChild(el("option", {value: s.item}, esc(fmtDate(s.date)) + (e.steps.filter(function (t) { return t.date === s.date; }).length > 1 ? " · " + (i + 1) : ""))); });
      var slider = el("input", {type: "range", min: "0", max: String(e.steps.length - 1), step: "1", "data-layer-slider": e.id, "aria-label": S.date});
      var op = el("input", {type: "range", min: "0", max: "100", step: "5", "data-layer-opacity": e.id, "aria-label": S.opacity});
      op.value = String(Math.round(e.opacity * 100));
      ctl.appendChild(el("div", {"class": "hp-ctl-row"}, "<span>" + esc(S.date) + "</span>")).appendChild(sel);
      if (e.steps.length > 1) ctl.appendChild(slider);
      ctl.appendChild(el("div", {"class": "hp-ctl-row"}, "<span>" + esc(S.opacity) + "</span>")).appendChild(op);
      row.appendChild(ctl);
      box.appendChild(row);
      rows[e.id] = {row: row, cb: cb, sel: sel, slider: slider, op: op};
      cb.addEventListener("change", function () { if (cb.checked) switchOn(e.id); else switchOff(e.id); });
      sel.addEventListener("change", function () { switchOn(e.id, sel.value); });
      slider.addEventListener("input", function () { switchOn(e.id, e.steps[Number(slider.value)].item); });
      op.addEventListener("input", function () {
        var cur = state.on[e.id]; if (!cur) return;
        cur.opacity = Number(op.value) / 100; cur.layer.setOpacity(cur.opacity);
      });
    });
    tree.appendChild(box);
  });
  var layersBox = document.getElementById("hp-layers");
  layersBox.open = window.innerWidth >= 900;  // collapsed on small screens: the map stays visible

  function refresh(changed) {
    order.forEach(function (cid) {
      var r = rows[cid], cur = state.on[cid];
      r.cb.checked = !!cur;
      r.row.classList.toggle("hp-on", !!cur);
      r.row.classList.toggle("hp-focus", cid === state.focus);
      if (cur) {
        r.sel.value = cur.step.item;
        r.slider.value = String(entries[cid].steps.indexOf(cur.step));
      }
    });
    var shown = {};
    Object.keys(state.on).forEach(function (c) { if (cfg.colormaps[c]) shown[cfg.colormaps[c]] = true; });
    document.querySelectorAll(".hp-legend-section").forEach(function (s) { s.style.display = shown[s.getAttribute("data-colormap")] ? "" : "none"; });
    var legend = document.getElementById("hp-legend");
    if (legend) legend.style.display = Object.keys(shown).length ? "" : "none";
    syncUrl();
  }

  // --- URL: the view, the layers on and the focused item; the language switch keeps all of it -------------
  function syncUrl() {
    var c = map.getCenter(), q = new URLSearchParams();
    q.set("lang", lang);
    if (state.focus && state.on[state.focus]) { q.set("collection", state.focus); q.set("item", state.on[state.focus].step.item); }
    var on = Object.keys(state.on).map(function (c) { return c + "/" + state.on[c].step.item; });
    if (on.length) q.set("layers", on.join(","));
    q.set("lat", c.lat.toFixed(5)); q.set("lon", c.lng.toFixed(5)); q.set("zoom", String(map.getZoom()));
    history.replaceState(null, "", "?" + q.toString());
    var other = new URLSearchParams(q); other.set("lang", lang === "vi" ? "en" : "vi");
    document.getElementById("hp-lang").setAttribute("href", "?" + other.toString());
  }
  map.on("moveend", syncUrl);

  // --- before/after swipe -----------------------------------------------------------------------------------
  var cmpBox = document.getElementById("hp-compare"), cmp = null;
  function options(selectEl) {
    order.forEach(function (cid) {
      var e = entries[cid];
      e.steps.forEach(function (s) { selectEl.appendChild(el("option", {value: cid + "|" + s.item}, esc(e.title) + " — " + esc(fmtDate(s.date)))); });
    });
  }
  var leftSel = el("select", {id: "hp-cmp-left", "aria-label": S.compare_left}), rightSel = el("select", {id: "hp-cmp-right", "aria-label": S.compare_right});
  options(leftSel); options(rightSel);
  cmpBox.appendChild(el("div", {"class": "hp-ctl-row"}, "<span>" + esc(S.compare_left) + "</span>")).appendChild(leftSel);
  cmpBox.appendChild(el("div", {"class": "hp-ctl-row"}, "<span>" + esc(S.compare_right) + "</span>")).appendChild(rightSel);
  var cmpBtn = el("button", {type: "button", id: "hp-cmp-toggle"}, esc(S.compare_on));
  cmpBox.appendChild(cmpBtn);
  function defaultPair() {
    var cid = state.focus || order.filter(function (c) { return entries[c].steps.length > 1; })[0] || order[0];
    if (!cid) return;
    var e = entries[cid], cur = state.on[cid] ? state.on[cid].step : e.steps[e.steps.length - 1];
    var i = e.steps.indexOf(cur), prev = e.steps[Math.max(0, i - 1)];
    leftSel.value = cid + "|" + prev.item; rightSel.value = cid + "|" + cur.item;
  }
  defaultPair();
  var divider = el("div", {"class": "hp-swipe-line", hidden: ""});
  var range = el("input", {type: "range", min: "0", max: "1000", value: "500", "class": "hp-swipe-range", "aria-label": S.compare, hidden: ""});
  document.getElementById("hp-map").appendChild(divider);
  document.getElementById("hp-map").appendChild(range);
  L.DomEvent.disableClickPropagation(range);
  ["mousedown", "touchstart", "pointerdown"].forEach(function (ev) { range.addEventListener(ev, function (e) { e.stopPropagation(); }); });
  function pick(v) { var p = v.split("|"); var e = entries[p[0]]; return {e: e, step: stepOf(e, p[1])}; }
  function clip() {
    if (!cmp) return;
    var nw = map.containerPointToLayerPoint([0, 0]), se = map.containerPointToLayerPoint(map.getSize());
    var ratio = Number(range.value) / 1000, x = nw.x + map.getSize().x * ratio;
    cmp.left.getContainer().style.clip = "rect(" + [nw.y, x, se.y, nw.x].join("px,") + "px)";
    cmp.right.getContainer().style.clip = "rect(" + [nw.y, se.x, se.y, x].join("px,") + "px)";
    divider.style.left = (ratio * 100) + "%";
  }
  function stopCompare() {
    if (!cmp) return;
    map.removeLayer(cmp.left); map.removeLayer(cmp.right); cmp = null;
    divider.hidden = true; range.hidden = true; cmpBtn.textContent = S.compare_on;
    document.body.classList.remove("hp-comparing");
  }
  function startCompare() {
    stopCompare();
    var a = pick(leftSel.value), b = pick(rightSel.value);
    cmp = {left: tileLayer(a.e, a.step, 1, "hp-compare").addTo(map), right: tileLayer(b.e, b.step, 1, "hp-compare").addTo(map)};
    divider.hidden = false; range.hidden = false; cmpBtn.textContent = S.compare_off;
    document.body.classList.add("hp-comparing");
    clip();
  }
  cmpBtn.addEventListener("click", function () { if (cmp) stopCompare(); else startCompare(); });
  [leftSel, rightSel].forEach(function (s) { s.addEventListener("change", function () { if (cmp) startCompare(); }); });
  range.addEventListener("input", clip);
  map.on("move zoomend viewreset resize", clip);

  // --- click for numbers: pixel values, the unit, its time series and downloads -----------------------------
  var info = document.getElementById("hp-info"), infoBody = document.getElementById("hp-info-body");
  document.getElementById("hp-info-close").addEventListener("click", function () { info.hidden = true; });
  function unitAt(lon, lat) {  // the smallest unit or area containing the point; imported units first
    var hits = features.filter(function (f) { return contains(f.feature.geometry, lon, lat); });
    hits.sort(function (a, b) {
      if (a.source !== b.source) return a.source === "units" ? -1 : 1;
      return (a.feature.properties.area_km2 || 0) - (b.feature.properties.area_km2 || 0);
    });
    return hits[0] || null;
  }
  function chart(rows, known) {  // hectares per date, one line per class (the legend's classes), inline SVG
    var byClass = {}, dates = [], names = {}, colourOf = {};
    known = known || {};
    var legendClasses = Object.keys(known).filter(function (v) { return known[v].color; });
    rows.forEach(function (r) {
      if (r.hectares == null || r.class_value == null) return;
      var k = String(r.class_value);
      if (legendClasses.length && legendClasses.indexOf(k) < 0) return;
      names[k] = known[k] ? known[k].name : (r.class_name || k);
      if (known[k] && known[k].color) colourOf[k] = known[k].color;
      (byClass[k] = byClass[k] || {}); byClass[k][r.datetime] = (byClass[k][r.datetime] || 0) + r.hectares;
      if (dates.indexOf(r.datetime) < 0) dates.push(r.datetime);
    });
    var classes = Object.keys(byClass);
    if (!classes.length || !dates.length) return null;
    dates.sort();
    classes.sort(function (a, b) { return Math.max.apply(null, Object.values(byClass[b])) - Math.max.apply(null, Object.values(byClass[a])); });
    classes = classes.slice(0, 6);
    var W = 300, H = 150, L0 = 52, R0 = 8, T0 = 8, B0 = 34;
    var ymax = 0; classes.forEach(function (k) { dates.forEach(function (d) { ymax = Math.max(ymax, byClass[k][d] || 0); }); });
    ymax = ymax > 0 ? ymax * 1.1 : 1;
    function X(i) { return L0 + (dates.length === 1 ? (W - L0 - R0) / 2 : i * (W - L0 - R0) / (dates.length - 1)); }
    function Y(v) { return T0 + (H - T0 - B0) * (1 - v / ymax); }
    var palette = ["#dc2626", "#2563eb", "#16a34a", "#9333ea", "#ea580c", "#0891b2"];
    var colours = classes.map(function (k, i) { return colourOf[k] || palette[i]; });
    var svg = "<svg class='hp-chart' xmlns='http://www.w3.org/2000/svg' viewBox='0 0 " + W + " " + H + "' width='" + W + "' height='" + H + "' role='img' aria-label='" + esc(S.stats) + "'>";
    svg += "<line x1='" + L0 + "' y1='" + Y(0) + "' x2='" + (W - R0) + "' y2='" + Y(0) + "' stroke='#555'/><line x1='" + L0 + "' y1='" + T0 + "' x2='" + L0 + "' y2='" + Y(0) + "' stroke='#555'/>";
    [0, ymax / 1.1 / 2, ymax / 1.1].forEach(function (v) { svg += "<text x='" + (L0 - 4) + "' y='" + (Y(v) + 4) + "' text-anchor='end' font-size='10'>" + esc(fmtNum(v, v >= 100 ? 0 : 1)) + "</text>"; });
    dates.forEach(function (d, i) {
      if (dates.length <= 4 || i === 0 || i === dates.length - 1) svg += "<text x='" + X(i) + "' y='" + (H - B0 + 14) + "' text-anchor='middle' font-size='10'>" + esc(fmtDate(d)) + "</text>";
    });
    classes.forEach(function (k, ci) {
      var pts = dates.map(function (d, i) { return X(i).toFixed(1) + "," + Y(byClass[k][d] || 0).toFixed(1); });
      svg += "<polyline fill='none' stroke='" + colours[ci] + "' stroke-width='2' points='" + pts.join(" ") + "'/>";
      dates.forEach(function (d, i) { svg += "<circle data-class='" + esc(k) + "' data-date='" + esc(d) + "' data-ha='" + (byClass[k][d] || 0) + "' cx='" + X(i).toFixed(1) + "' cy='" + Y(byClass[k][d] || 0).toFixed(1) + "' r='2.5' fill='" + colours[ci] + "'><title>" + esc(names[k]) + " " + esc(fmtDate(d)) + ": " + esc(fmtNum(byClass[k][d] || 0, 1)) + " ha</title></circle>"; });
    });
    svg += "</svg>";
    var key = "<div class='hp-chart-key'>" + classes.map(function (k, ci) { return "<span><i style='background:" + colours[ci] + "'></i>" + esc(names[k]) + "</span>"; }).join("") + "</div>";
    return svg + key;
  }
  map.on("click", function (ev) {
    var cid = state.focus && state.on[state.focus] ? state.focus : Object.keys(state.on).pop();
    var lon = ev.latlng.lng, lat = ev.latlng.lat;
    info.hidden = false;
    if (!cid) { infoBody.innerHTML = "<p>" + esc(S.click_hint) + "</p>"; return; }
    var e = entries[cid], step = state.on[cid].step;
    var head = "<h3>" + esc(e.title) + " — " + esc(fmtDate(step.date)) + (step.simulated ? " <span class='hp-simtag'>" + esc(S.sim_short) + "</span>" : "") + "</h3>" +
      "<p class='hp-coords'>" + fmtNum(lat, 5) + ", " + fmtNum(lon, 5) + "</p>";
    infoBody.innerHTML = head + "<div class='hp-values'>…</div><div class='hp-unit'></div>";
    var valuesEl = infoBody.querySelector(".hp-values"), unitEl = infoBody.querySelector(".hp-unit");
    var url = base + "/tiles/" + encodeURIComponent(cid) + "/" + encodeURIComponent(step.item) + "/point/" + lon.toFixed(6) + "," + lat.toFixed(6);
    state.lastPoint = url;
    getJSON(url).then(function (f) {
      var vals = (f.properties && f.properties.values) || [];
      var html = "<b>" + esc(S.value) + "</b><table class='hp-vtable'>";
      vals.forEach(function (v) {
        var shown = v.value === null ? esc(S.no_value) : esc(fmtNum(v.value)) + (v.unit && v.unit !== "class" ? " " + esc(v.unit) : "");
        var label = v.label ? " — <b class='hp-class'>" + esc(v.label[lang] || v.label.vi) + "</b>" : "";
        html += "<tr><td>" + esc(v.asset) + (v.band > 1 ? " b" + esc(v.band) : "") + "</td><td class='hp-value'>" + shown + label + "</td></tr>";
      });
      valuesEl.innerHTML = html + "</table>";
    }).catch(function (err) {
      valuesEl.innerHTML = "<p class='hp-err'>" + esc(err.status === 404 ? S.outside : S.error + ": " + err.message) + "</p>";
    });
    var u = unitAt(lon, lat);
    if (!u) { unitEl.innerHTML = "<p>" + esc(S.no_unit) + "</p>"; return; }
    var p = u.feature.properties, uid = u.feature.id || p.id;
    var name = lang === "en" ? p.name_en : p.name_vi;
    unitEl.innerHTML = "<b>" + esc(S.unit) + ":</b> <span class='hp-unit-name'>" + esc(name) + "</span><div class='hp-stats'>…</div>";
    var statsEl = unitEl.querySelector(".hp-stats");
    state.lastUnit = uid;
    getJSON(base + "/stats/timeseries?unit=" + encodeURIComponent(uid) + "&collection=" + encodeURIComponent(cid)).then(function (ts) {
      var svg = chart(ts.rows || [], e.classes);
      statsEl.innerHTML = svg ? "<div class='hp-stats-title'>" + esc(S.stats) + "</div>" + svg : "<p>" + esc(S.no_stats) + "</p>";
    }).catch(function (err) { statsEl.innerHTML = "<p class='hp-err'>" + esc(S.error + ": " + err.message) + "</p>"; });
    if (e.kind === "product") {
      var q = (u.source === "units" ? "unit=" : "aoi=") + encodeURIComponent(uid);
      unitEl.appendChild(el("div", {"class": "hp-downloads"}, "<b>" + esc(S.downloads) + ":</b> " + cfg.exports.map(function (fmt) {
        return "<a download href='" + esc(base + "/exports/" + encodeURIComponent(cid) + "/" + encodeURIComponent(step.item) + "." + fmt + "?" + q) + "'>" + fmt + "</a>";
      }).join(" · ")));
    }
  });

  // --- alerts: the active ones, listed and drawn, each linking its layer and CAP message --------------------
  var alertsBox = document.getElementById("hp-alerts"), alertList = document.getElementById("hp-alert-list");
  var alertAreas = L.layerGroup().addTo(map);
  function capPolygons(xml) {
    var doc = new DOMParser().parseFromString(xml, "application/xml"), out = [];
    Array.prototype.forEach.call(doc.getElementsByTagNameNS("*", "polygon"), function (p) {
      var pts = p.textContent.trim().split(/\s+/).map(function (pair) { var c = pair.split(","); return [Number(c[0]), Number(c[1])]; });
      if (pts.length >= 4 && pts.every(function (c) { return isFinite(c[0]) && isFinite(c[1]); })) out.push(pts);
    });
    return out;
  }
  getJSON(cfg.alerts).then(function (alerts) {
    document.getElementById("hp-alert-count").textContent = "(" + alerts.length + ")";
    if (!alerts.length) { alertList.innerHTML = "<p>" + esc(S.no_alerts) + "</p>"; return; }
    alertsBox.open = window.innerWidth >= 900;
    var ul = el("ul", {"class": "hp-alert-ul"});
    alerts.forEach(function (a) {
      var li = el("li", {"class": "hp-alert hp-sev-" + esc(String(a.severity).toLowerCase()), "data-alert": a.identifier});
      var headline = lang === "en" ? a.headline_en : a.headline_vi;
      li.innerHTML = "<b>" + esc(headline) + "</b><br><small>" + esc(S.severity) + ": " + esc(cfg.cap_terms[a.severity] || a.severity) + " · " + esc(cfg.cap_terms[a.status] || a.status) +
        " · " + esc(S.sent) + ": " + esc(fmtDate(a.sent)) + "</small><br>";
      if (a.collection && a.item && entries[a.collection]) {
        var show = el("a", {href: "#", "data-alert-layer": a.collection}, esc(S.show_layer));
        show.addEventListener("click", function (ev) {
          ev.preventDefault(); switchOn(a.collection, a.item);
          var b = state.on[a.collection].step.bounds; if (b) map.fitBounds(b);
        });
        li.appendChild(show); li.appendChild(document.createTextNode(" · "));
      }
      li.appendChild(el("a", {href: base + "/alerts/" + encodeURIComponent(a.identifier) + ".cap", "data-alert-cap": a.identifier}, esc(S.cap_message)));
      ul.appendChild(li);
      getJSON(base + "/alerts/" + encodeURIComponent(a.identifier)).then(function (full) {
        capPolygons(full.xml || "").forEach(function (poly) {
          L.polygon(poly, {pane: "hp-alert-areas", color: "#dc2626", weight: 2, dashArray: "6 4", fill: false, className: "hp-alert-area"})
            .bindTooltip(esc(headline)).addTo(alertAreas);
        });
      }).catch(function (err) { console.error("hpgeo: alert " + a.identifier + ": " + err.message); });
    });
    alertList.appendChild(ul);
  }).catch(function (err) {
    alertList.innerHTML = "<p class='hp-err'>" + esc(S.alerts_unavailable + ": " + err.message) + "</p>";
  });

  // --- start ------------------------------------------------------------------------------------------------
  Object.keys(cfg.on).forEach(function (cid) { switchOn(cid, cfg.on[cid]); });
  if (cfg.focus && state.on[cfg.focus]) state.focus = cfg.focus;
  refresh();
  defaultPair();
  window.hpViewer = {map: map, state: state, config: cfg, fmtNum: fmtNum, fmtDate: fmtDate};
})();
