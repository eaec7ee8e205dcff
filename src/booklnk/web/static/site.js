// Enhancements only: every page works without this file.
// A booking's status follows itself: the block marked data-follow is fetched again every
// few seconds (its own URL, ?fragment=status) until it says it is settled.
(function () {
  function follow(box) {
    var url = box.getAttribute("data-follow");
    var tries = 0;
    function again() {
      if (box.getAttribute("data-settled") === "true" || tries++ > 150) return;
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html", "X-Booklnk-Background": "1" } })
        .then(function (answer) {
          // Sent elsewhere (the session ended): the whole page again, which says what to do.
          if (answer.redirected) { location.reload(); return null; }
          return answer.ok ? answer.text() : null;
        })
        .then(function (html) {
          if (html === null) { setTimeout(again, 4000); return; }
          var next = document.createElement("div");
          next.innerHTML = html;
          var fresh = next.querySelector("[data-settled]");
          if (fresh) {
            // The live region stays; its content changes, so screen readers announce it.
            box.innerHTML = fresh.innerHTML;
            box.setAttribute("data-settled", fresh.getAttribute("data-settled"));
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
