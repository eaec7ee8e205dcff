// Enhancements only: every page works without this file.
// A booking's status follows itself: the block marked data-follow is fetched again every
// few seconds (its own URL, ?fragment=status) until it says it is settled.
(function () {
  function follow(box) {
    var url = box.getAttribute("data-follow");
    var tries = 0;
    function again() {
      if (box.getAttribute("data-settled") === "true" || tries++ > 150) return;
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (answer) { return answer.ok ? answer.text() : null; })
        .then(function (html) {
          if (html !== null) {
            var next = document.createElement("div");
            next.innerHTML = html;
            var fresh = next.firstElementChild;
            if (fresh) { box.replaceWith(fresh); box = fresh; }
          }
          setTimeout(again, 2000);
        })
        .catch(function () { setTimeout(again, 4000); });
    }
    setTimeout(again, 1500);
  }
  // (This script ends the page: everything it looks for is already there.)
  document.querySelectorAll("[data-follow]").forEach(follow);
})();
