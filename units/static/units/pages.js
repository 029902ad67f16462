/* Progressive enhancement of the public pages: everything works without this file. */
(function () {
  "use strict";

  // Tree: expand or collapse every <details> at once.
  document.querySelectorAll("[data-tree-tools]").forEach(function (tools) {
    tools.hidden = false;
    tools.addEventListener("click", function (event) {
      var button = event.target.closest("[data-tree-action]");
      if (!button) return;
      var open = button.dataset.treeAction === "expand";
      document.querySelectorAll("[data-tree] details").forEach(function (item) {
        item.open = open;
      });
    });
  });

  // Print the whole tree, then restore what the reader had folded.
  var foldedBeforePrint = [];
  window.addEventListener("beforeprint", function () {
    foldedBeforePrint = Array.prototype.filter.call(
      document.querySelectorAll("[data-tree] details"),
      function (item) { return !item.open; }
    );
    foldedBeforePrint.forEach(function (item) { item.open = true; });
  });
  window.addEventListener("afterprint", function () {
    foldedBeforePrint.forEach(function (item) { item.open = false; });
    foldedBeforePrint = [];
  });

  // Chart: zoom by resizing the SVG (its viewBox keeps the drawing sharp), pan by
  // dragging the frame's scroll position. Links keep working: a drag is not a click.
  var frame = document.querySelector("[data-chart]");
  var svg = frame && frame.querySelector("svg");
  if (!svg) return;
  var tools = document.querySelector("[data-chart-tools]");
  var baseWidth = parseFloat(svg.getAttribute("width"));
  var baseHeight = parseFloat(svg.getAttribute("height"));
  var scale = 1;

  function fitScale() {
    return Math.min(1, frame.clientWidth / baseWidth);
  }

  function zoomTo(next, anchorX, anchorY) {
    next = Math.max(0.1, Math.min(4, next));
    var ratio = next / scale;
    var x = anchorX === undefined ? frame.clientWidth / 2 : anchorX;
    var y = anchorY === undefined ? frame.clientHeight / 2 : anchorY;
    var left = (frame.scrollLeft + x) * ratio - x;
    var top = (frame.scrollTop + y) * ratio - y;
    scale = next;
    svg.setAttribute("width", String(Math.round(baseWidth * scale)));
    svg.setAttribute("height", String(Math.round(baseHeight * scale)));
    frame.scrollLeft = left;
    frame.scrollTop = top;
  }

  if (tools) {
    tools.hidden = false;
    tools.addEventListener("click", function (event) {
      var button = event.target.closest("[data-zoom]");
      if (!button) return;
      var action = button.dataset.zoom;
      if (action === "in") zoomTo(scale * 1.25);
      else if (action === "out") zoomTo(scale / 1.25);
      else zoomTo(fitScale(), 0, 0);
    });
  }

  frame.addEventListener("wheel", function (event) {
    if (!event.ctrlKey) return;  // a plain wheel keeps scrolling the page
    event.preventDefault();
    var box = frame.getBoundingClientRect();
    zoomTo(scale * (event.deltaY < 0 ? 1.15 : 1 / 1.15),
      event.clientX - box.left, event.clientY - box.top);
  }, { passive: false });

  var drag = null;
  frame.addEventListener("pointerdown", function (event) {
    if (event.button !== 0) return;
    drag = { x: event.clientX, y: event.clientY, left: frame.scrollLeft,
      top: frame.scrollTop, moved: false };
  });
  frame.addEventListener("pointermove", function (event) {
    if (!drag) return;
    var dx = event.clientX - drag.x;
    var dy = event.clientY - drag.y;
    if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 5) return;
    if (!drag.moved) {
      drag.moved = true;
      frame.setPointerCapture(event.pointerId);
      frame.classList.add("is-panning");
    }
    frame.scrollLeft = drag.left - dx;
    frame.scrollTop = drag.top - dy;
  });
  function endDrag(event) {
    if (drag && drag.moved) {
      frame.classList.remove("is-panning");
      if (frame.hasPointerCapture(event.pointerId)) {
        frame.releasePointerCapture(event.pointerId);
      }
      // Swallow the click that ends a drag so that panning never opens a unit.
      frame.addEventListener("click", function (click) {
        click.preventDefault();
        click.stopPropagation();
      }, { capture: true, once: true });
    }
    drag = null;
  }
  frame.addEventListener("pointerup", endDrag);
  frame.addEventListener("pointercancel", endDrag);
  // Start with the whole picture in view when that keeps the text readable;
  // otherwise bring the top of the hierarchy into view.
  if (baseWidth > frame.clientWidth && fitScale() >= 0.5) {
    zoomTo(fitScale(), 0, 0);
  } else {
    var top = svg.querySelector("g.unit rect");
    if (top) {
      var centre = parseFloat(top.getAttribute("x")) + parseFloat(top.getAttribute("width")) / 2;
      frame.scrollLeft = Math.max(0, centre * scale - frame.clientWidth / 2);
    }
  }
})();
