/* The review sheet's live total: Σ points × weight of the boxes filled in, as the expert types.
   The page works without it (the stored total is shown after each save). Exact in tenths of a
   thousandth: points and weights are short decimals, summed as integers. */
(function () {
  "use strict";
  var form = document.getElementById("sheet-form");
  var total = document.getElementById("total");
  if (!form || !total) { return; }
  var boxes = form.querySelectorAll("input[type=number][data-weight]");
  var SCALE = 10000;

  function scaled(text) {
    var match = /^\s*(\d+)(?:\.(\d{1,4}))?\s*$/.exec(text);
    if (!match) { return null; }
    var fraction = (match[2] || "").padEnd(4, "0");
    return parseInt(match[1], 10) * SCALE + parseInt(fraction, 10);
  }

  function show(value) {
    var whole = Math.floor(value / (SCALE * SCALE));
    var rest = String(value % (SCALE * SCALE)).padStart(8, "0").replace(/0+$/, "");
    return rest ? whole + "." + rest : String(whole);
  }

  function update() {
    var sum = 0, any = false, valid = true;
    boxes.forEach(function (box) {
      if (box.value.trim() === "") { return; }
      var points = scaled(box.value), weight = scaled(box.dataset.weight || "1");
      var top = scaled(box.dataset.max || "0");
      if (points === null || weight === null || points > top) { valid = false; return; }
      sum += points * weight;
      any = true;
    });
    total.textContent = !valid ? "?" : (any ? show(sum) : "—");
    total.dataset.live = "true";
  }

  boxes.forEach(function (box) { box.addEventListener("input", update); });
  update();
}());
