/* Progressive enhancement of the public pages: everything works without this file. */
(function () {
  "use strict";

  // The page's language: Django's JavaScript catalog (loaded before this file) defines
  // these; without it the English texts stand.
  var gettext = window.gettext || function (text) { return text; };
  var ngettext = window.ngettext || function (one, many, count) {
    return count === 1 ? one : many;
  };
  function fill(format, values) {
    return format.replace(/%\((\w+)\)s/g, function (match, name) {
      return String(values[name]);
    });
  }

  // Tree: a branch below the levels on the page loads its sub-units when it first
  // opens. Its placeholder link (to the unit's page) is what readers without script use.
  var treeStatus = document.querySelector("[data-tree-status]");

  function announce(text) {
    if (!treeStatus) return;
    // Clear first so that the same words are announced again.
    treeStatus.textContent = "";
    window.setTimeout(function () { treeStatus.textContent = text; }, 50);
  }

  function branchName(details) {
    var link = details.parentElement.querySelector(":scope > .entry .unit-link");
    return link ? link.textContent : gettext("this unit");
  }

  function isUnloaded(details) {
    return details.hasAttribute("data-children-url") && details.dataset.state !== "loaded";
  }

  function showFailure(details, list, reason) {
    var fallback = details.dataset.fallbackUrl;
    var item = document.createElement("li");
    item.className = "tree-error";
    // The alert is inside the item: a list may only hold list items.
    var message = document.createElement("span");
    message.setAttribute("role", "alert");
    message.textContent = fill(
      gettext("The sub-units of %(name)s could not be loaded: %(reason)s"),
      { name: branchName(details), reason: reason });
    item.appendChild(message);
    item.appendChild(document.createTextNode(" "));
    var retry = document.createElement("button");
    retry.type = "button";
    retry.textContent = gettext("Try again");
    retry.addEventListener("click", function () { loadChildren(details); });
    item.appendChild(retry);
    if (fallback) {
      item.appendChild(document.createTextNode(" " + gettext("or") + " "));
      var link = document.createElement("a");
      link.href = fallback;
      link.textContent = gettext("see them on the unit's page");
      item.appendChild(link);
    }
    list.replaceChildren(item);
  }

  function loadChildren(details) {
    var list = details.querySelector(":scope > ul");
    if (!list || details.dataset.state === "loading") return;
    if (!details.dataset.fallbackUrl) {
      var placeholder = list.querySelector("a");
      if (placeholder) details.dataset.fallbackUrl = placeholder.getAttribute("href");
    }
    if (list.contains(document.activeElement)) {
      // "Try again" is about to go: keep the keyboard on the branch's toggle.
      details.querySelector(":scope > summary").focus();
    }
    details.dataset.state = "loading";
    list.setAttribute("aria-busy", "true");
    var loading = document.createElement("li");
    loading.className = "tree-note tree-loading";
    loading.textContent = gettext("Loading the sub-units…");
    list.replaceChildren(loading);
    announce(fill(gettext("Loading the sub-units of %(name)s."), { name: branchName(details) }));
    fetch(details.dataset.childrenUrl, {
      headers: { Accept: "text/html" },
      credentials: "same-origin",
    }).then(function (response) {
      return response.text().then(function (text) {
        if (!response.ok) {
          var message = response.headers.get("Content-Type") || "";
          throw new Error(message.indexOf("text/plain") === 0 && text.length < 500
            ? text : fill(gettext("the server answered %(status)s."), { status: response.status }));
        }
        return text;
      });
    }).then(function (html) {
      var template = document.createElement("template");
      template.innerHTML = html.trim();
      var loaded = template.content.querySelector("ul");
      if (!loaded) throw new Error(gettext("the answer held no list of units."));
      list.replaceChildren.apply(list, Array.prototype.slice.call(loaded.children));
      list.removeAttribute("aria-busy");
      details.dataset.state = "loaded";
      var count = list.children.length;
      announce(fill(ngettext("Loaded %(count)s sub-unit of %(name)s.",
        "Loaded %(count)s sub-units of %(name)s.", count),
        { count: count, name: branchName(details) }));
    }).catch(function (error) {
      list.removeAttribute("aria-busy");
      details.dataset.state = "failed";
      var reason = error && error.message ? error.message : gettext("the network failed.");
      if (error instanceof TypeError) reason = gettext("the network failed.");
      showFailure(details, list, reason);
      announce(fill(gettext("The sub-units of %(name)s could not be loaded."),
        { name: branchName(details) }));
    });
  }

  document.querySelectorAll("[data-tree]").forEach(function (tree) {
    // "toggle" does not bubble; listening while it is captured covers loaded branches.
    tree.addEventListener("toggle", function (event) {
      var details = event.target;
      if (details.open && details.hasAttribute("data-children-url") &&
          (!details.dataset.state || details.dataset.state === "failed")) {
        loadChildren(details);
      }
    }, true);
  });

  // Tree: expand or collapse every <details> at once. "Expand" opens what is on the
  // page: opening every unloaded branch would fetch the whole organization.
  document.querySelectorAll("[data-tree-tools]").forEach(function (tools) {
    tools.hidden = false;
    tools.addEventListener("click", function (event) {
      var button = event.target.closest("[data-tree-action]");
      if (!button) return;
      var open = button.dataset.treeAction === "expand";
      document.querySelectorAll("[data-tree] details").forEach(function (item) {
        if (open && isUnloaded(item)) return;
        item.open = open;
      });
    });
  });

  // Print the tree as loaded, then restore what the reader had folded.
  var foldedBeforePrint = [];
  window.addEventListener("beforeprint", function () {
    foldedBeforePrint = Array.prototype.filter.call(
      document.querySelectorAll("[data-tree] details"),
      function (item) { return !item.open && !isUnloaded(item); }
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
  // Text is never shown smaller than this many screen pixels by "Fit": the chart's
  // smallest text (its data-smallest-text, in its own units) sets the least zoom.
  var READABLE_TEXT_PX = 10;
  var smallestText = parseFloat(svg.getAttribute("data-smallest-text")) || 12;

  // The whole width when the text stays readable; otherwise as much as it allows.
  function fitScale() {
    var readable = READABLE_TEXT_PX / smallestText;
    return Math.max(readable, Math.min(1, frame.clientWidth / baseWidth));
  }

  // Keep the chart's heading (at its left) in view unless that hides the top unit.
  function showTop() {
    var top = svg.querySelector("g.unit rect");
    if (!top) return;
    var left = parseFloat(top.getAttribute("x"));
    var width = parseFloat(top.getAttribute("width"));
    if ((left + width) * scale <= frame.clientWidth) {
      frame.scrollLeft = 0;
      return;
    }
    frame.scrollLeft = Math.max(0, (left + width / 2) * scale - frame.clientWidth / 2);
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
      else {
        zoomTo(fitScale(), 0, 0);
        showTop();
      }
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
  // Start fitted: the whole width if the text stays readable, else the top of the
  // hierarchy in view at a readable size.
  if (baseWidth > frame.clientWidth) {
    zoomTo(fitScale(), 0, 0);
    showTop();
  }
})();
