// kiln's few lines of browser code: run picking for compare, and metric charts.
(function () {
  var button = document.getElementById("compare-btn");
  if (button) {
    var picks = function () {
      return Array.prototype.map.call(document.querySelectorAll("input.pick:checked"),
        function (el) { return el.value; });
    };
    document.addEventListener("change", function () {
      var n = picks().length;
      button.disabled = n < 2 || n > 20;
      button.textContent = "Compare selected (" + n + ")";
    });
    button.addEventListener("click", function () {
      window.location = "/compare?ids=" + picks().join(",");
    });
  }
  var data = document.getElementById("chart-data");
  if (data && window.Plotly) {
    var charts = JSON.parse(data.textContent);
    document.querySelectorAll(".chart").forEach(function (el) {
      var series = charts[el.dataset.metric] || [];
      var traces = series.map(function (s) {
        return { x: s.x, y: s.y, name: s.name, mode: s.x.length > 1 ? "lines" : "markers" };
      });
      Plotly.newPlot(el.querySelector(".plot"), traces, {
        margin: { t: 10, r: 10, b: 40, l: 50 }, xaxis: { title: { text: "step" } },
        showlegend: series.length > 1, legend: { orientation: "h" }
      }, { displaylogo: false, responsive: true });
    });
  }
})();
