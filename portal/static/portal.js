/* Terril portal: draws the charts (uPlot) from the JSON next to each one, and follows a report's progress.
   Every chart also has a table of its values (the text alternative), so nothing depends on this script. */
(function () {
  "use strict";
  var lang = document.documentElement.lang || "fr";
  var palette = ["#2a6cb0", "#1d6f42", "#c05621", "#6b46c1", "#b83280", "#2c7a7b"];

  function fmt(v, d) {
    if (v === null || v === undefined || isNaN(v)) return "—";
    return new Intl.NumberFormat(lang === "fr" ? "fr-FR" : "en-GB", {maximumFractionDigits: d === undefined ? 0 : d}).format(v);
  }

  function xValues(spec) {
    if (spec.xkind === "month") {
      return spec.x.map(function (m) { return Date.UTC(+m.slice(0, 4), +m.slice(5, 7) - 1, 1) / 1000; });
    }
    return spec.x.slice();
  }

  function bandsPlugin(spec) {
    return {hooks: {drawClear: [function (u) {
      (spec.bands || []).forEach(function (b) {
        var x0 = u.valToPos(b.from, "x", true), x1 = u.valToPos(b.to, "x", true);
        u.ctx.save();
        u.ctx.fillStyle = "rgba(192, 86, 33, 0.12)";
        u.ctx.fillRect(Math.min(x0, x1), u.bbox.top, Math.abs(x1 - x0), u.bbox.height);
        u.ctx.restore();
      });
    }]}};
  }

  function draw(el) {
    var spec = JSON.parse(document.getElementById(el.dataset.chart).textContent);
    var width = Math.max(el.clientWidth, 260);
    var bars = spec.kind === "bars";
    var data = [xValues(spec)];
    var series = [{label: spec.xkind === "year" ? (lang === "fr" ? "Année" : "Year") : (lang === "fr" ? "Date" : "Date"), value: function (u, v) {
      if (v === null) return "—";
      if (spec.xkind === "year") return String(v);
      var d = new Date(v * 1000);
      return spec.xkind === "month" ? d.toISOString().slice(0, 7) : d.toLocaleDateString(lang === "fr" ? "fr-FR" : "en-GB");
    }}];
    spec.series.forEach(function (s, i) {
      data.push(s.values.map(function (v) { return v === null ? null : v; }));
      var color = s.color || palette[i % palette.length];
      var opt = {label: s.label, stroke: color, width: 2, value: function (u, v) { return fmt(v, 1); }};
      if (bars && s.type !== "line") {
        opt.fill = color; opt.paths = uPlot.paths.bars({size: [0.8 / spec.series.length, 60], align: 0});
        opt.width = 0;
      }
      if (s.dash) opt.dash = [6, 4];
      if (s.points) opt.points = {show: true, size: 8};
      if (s.spanGaps) opt.spanGaps = true;
      series.push(opt);
    });
    var opts = {
      width: width, height: el.clientWidth < 500 ? 200 : 260, series: series,
      scales: {x: {time: spec.xkind !== "year"}},
      axes: [{}, {values: function (u, vals) { return vals.map(function (v) { return fmt(v); }); }, size: 60}],
      plugins: spec.bands ? [bandsPlugin(spec)] : [],
      legend: {live: false},
      cursor: {drag: {x: false, y: false}}
    };
    if (spec.xkind === "year") {
      opts.axes[0] = {values: function (u, vals) { return vals.map(function (v) { return Number.isInteger(v) ? String(v) : ""; }); }};
    } else {
      var loc = lang === "fr" ? "fr-FR" : "en-GB";
      var f = spec.xkind === "month" ? {month: "short", year: "2-digit", timeZone: "UTC"} : {day: "2-digit", month: "2-digit", timeZone: "Europe/Paris"};
      opts.axes[0] = {values: function (u, vals) { return vals.map(function (v) { return v === null ? "" : new Date(v * 1000).toLocaleDateString(loc, f); }); }};
    }
    el.innerHTML = "";
    el._plot = new uPlot(opts, data, el);
  }

  function drawAll() {
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      try { draw(el); } catch (e) { el.textContent = ""; throw e; }
    });
  }

  function followJob() {
    var job = document.getElementById("job");
    if (job && job.dataset.state === "running") {
      setTimeout(function () { window.location.reload(); }, 1000);
    }
  }

  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      document.querySelectorAll("[data-chart]").forEach(function (el) {
        if (el._plot) el._plot.setSize({width: Math.max(el.clientWidth, 260), height: el.clientWidth < 500 ? 200 : 260});
      });
    }, 150);
  });
  document.addEventListener("DOMContentLoaded", function () { drawAll(); followJob(); });
})();
