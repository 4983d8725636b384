// Panelbot's charts: the tables stay the source (for screen readers and without JavaScript);
// this draws a bar beside each figure that has a data-value from 0 to 100, and lets keyboard
// and pointer users read a row's figures aloud-style in a live region. Served by Panelbot itself.
"use strict";
(function () {
  function drawBars(figure) {
    var cells = figure.querySelectorAll("td[data-value]");
    cells.forEach(function (cell) {
      var value = Math.max(0, Math.min(100, parseFloat(cell.getAttribute("data-value")) || 0));
      var bar = document.createElement("span");
      bar.className = "bar" + (cell.cellIndex > 2 ? " census" : "");
      bar.style.width = (value * 1.2) + "px";
      bar.setAttribute("aria-hidden", "true");
      cell.insertBefore(bar, cell.firstChild);
    });
  }
  function describe(figure) {
    var live = document.createElement("p");
    live.className = "chart-readout";
    live.setAttribute("aria-live", "polite");
    figure.appendChild(live);
    var heads = Array.prototype.map.call(figure.querySelectorAll("thead th"), function (th) {
      return th.textContent.trim();
    });
    figure.querySelectorAll("tbody tr").forEach(function (row) {
      row.tabIndex = 0;
      function show() {
        var parts = Array.prototype.map.call(row.children, function (cell, i) {
          return (i ? heads[i] + ": " : "") + cell.textContent.trim();
        });
        live.textContent = parts.join(", ");
      }
      row.addEventListener("focus", show);
      row.addEventListener("mouseenter", show);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("figure.chart").forEach(function (figure) {
      drawBars(figure);
      describe(figure);
    });
  });
})();
