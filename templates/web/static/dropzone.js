/* grantflow console: drag and drop onto a file picker (progressive enhancement).
 *
 * Every <input type="file" data-drop> is wrapped in a zone that takes files dropped on it: they
 * become the picker's own files (the form posts them as if picked), and the zone lists their names.
 * Without this script the picker works as it always does. No inline script: the CSP forbids it.
 * Our own file (not vendored); licence: the project's.
 */
(function () {
  "use strict";

  function accepts(input, file) {
    var accept = (input.getAttribute("accept") || "").toLowerCase();
    if (!accept) return true;
    var name = file.name.toLowerCase();
    return accept.split(",").some(function (kind) {
      kind = kind.trim();
      return kind && (kind.charAt(0) === "." ? name.slice(-kind.length) === kind : file.type === kind);
    });
  }

  function names(input, list) {
    list.textContent = "";
    Array.prototype.forEach.call(input.files || [], function (file) {
      var item = document.createElement("li");
      item.textContent = file.name;
      list.appendChild(item);
    });
  }

  function enhance(input) {
    var zone = document.createElement("div");
    zone.className = "dropzone";
    zone.setAttribute("data-drop-for", input.id || input.name);
    var hint = document.createElement("p");
    hint.className = "drop-hint";
    hint.textContent = input.getAttribute("data-drop") || "拖放文件到此处 / drop files here";
    var list = document.createElement("ul");
    list.className = "drop-names";
    var refused = document.createElement("p");
    refused.className = "drop-refused";
    refused.setAttribute("role", "alert");
    input.parentNode.insertBefore(zone, input);
    zone.appendChild(hint);
    zone.appendChild(input);
    zone.appendChild(list);
    zone.appendChild(refused);

    function over(event) {
      event.preventDefault();
      zone.classList.add("over");
    }
    zone.addEventListener("dragenter", over);
    zone.addEventListener("dragover", over);
    zone.addEventListener("dragleave", function (event) {
      if (!zone.contains(event.relatedTarget)) zone.classList.remove("over");
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      zone.classList.remove("over");
      var dropped = Array.prototype.slice.call(event.dataTransfer.files || []);
      if (!input.multiple) dropped = dropped.slice(0, 1);
      var kept = dropped.filter(function (file) { return accepts(input, file); });
      var skipped = dropped.filter(function (file) { return !accepts(input, file); });
      refused.textContent = skipped.length
        ? "未接受 / not accepted: " + skipped.map(function (f) { return f.name; }).join("、")
        : "";
      if (!kept.length) return;
      var transfer = new DataTransfer();
      kept.forEach(function (file) { transfer.items.add(file); });
      input.files = transfer.files;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    });
    input.addEventListener("change", function () { names(input, list); });
  }

  function start() {
    if (typeof DataTransfer !== "function") return; // an old browser: the picker alone
    Array.prototype.forEach.call(document.querySelectorAll("input[type=file][data-drop]"), enhance);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
