/* hpgeo registry pages: filters apply on change; the task page's small map of its product layers. */
(function () {
  "use strict";
  var form = document.querySelector("form.filters");
  if (form) {
    form.querySelectorAll("select").forEach(function (sel) {
      sel.addEventListener("change", function () { form.submit(); });
    });
  }
  var el = document.getElementById("task-map");
  if (!el || typeof L === "undefined") return;
  var layers = JSON.parse(el.getAttribute("data-layers") || "[]");
  var map = L.map(el, {attributionControl: true, scrollWheelZoom: false});
  window.hpgeoTaskMap = map;
  var all = null, control = L.control.layers(null, null, {collapsed: false});
  layers.forEach(function (spec, i) {
    var b = L.latLngBounds([spec.bounds[0], spec.bounds[1]]);
    var layer = L.tileLayer(spec.tiles, {bounds: b, maxZoom: 20, maxNativeZoom: 18, opacity: 0.85, attribution: "hpgeo"});
    if (i === 0) layer.addTo(map);
    control.addOverlay(layer, spec.label);
    all = all ? all.extend(b) : L.latLngBounds(b.getSouthWest(), b.getNorthEast());  // a copy: extend() mutates
  });
  if (all) { map.fitBounds(all); } else { map.setView([20.8, 106.7], 9); }
  if (layers.length) control.addTo(map);
  L.control.scale({imperial: false}).addTo(map);
}());
