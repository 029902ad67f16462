/* Drag-and-drop moves in the unit tree ask in a dialog, like every other change.
 *
 * django-mptt's draggable tree posts cmd=move_node with jQuery; this prefilter stops
 * that request and opens the page's <dialog id="move-dialog"> instead. It asks for
 * the reason, who may read it, the effective date and the nature of the reporting
 * line, and whether the move applies now (a one-operation reorganization) or is
 * added to one of the editor's drafts. Only then is the move posted; a refusal is
 * shown in the dialog, which stays open, and nothing has moved. Escape or Cancel
 * closes it and sends nothing. A script file, no inline handler (the page's
 * Content-Security-Policy allows none).
 */
/* global django */
"use strict";
{
  const $ = django.jQuery;
  // The script is loaded in the page's head, before the dialog: found once loaded.
  let dialog = null;
  const FOCUSABLE =
    "a[href], button:not([disabled]), input:not([disabled]), " +
    "select:not([disabled]), textarea:not([disabled])";
  let pending = null;

  function cancelDrag() {
    $("#drag-line").remove();
    $("#ghost").remove();
  }

  function titleOf(pk) {
    const node = document.querySelector(`.tree-node[data-pk="${pk}"]`);
    const row = node && node.closest("tr");
    const title = row && row.querySelector(".tree-title");
    return title ? title.textContent.trim() : "";
  }

  const PLACES = {
    "last-child": "under",
    left: "before",
    right: "after",
  };

  function field(name) {
    return dialog.querySelector(`[name="${name}"]`);
  }

  function showError(message) {
    const error = document.getElementById("move-dialog-error");
    error.textContent = message;
    error.hidden = false;
    error.focus();
  }

  function addsToDraft() {
    const chosen = dialog.querySelector('[name="mode"]:checked');
    return chosen !== null && chosen.value === "draft";
  }

  // Added to a draft, the move takes the draft's reason and time: those fields rest.
  function followMode() {
    const toDraft = addsToDraft();
    document.getElementById("move-dialog-record").disabled = toDraft;
    const draft = field("draft");
    if (draft) {
      draft.disabled = !toDraft;
    }
  }

  function open(data) {
    pending = data;
    const form = document.getElementById("move-dialog-form");
    form.reset();
    document.getElementById("move-dialog-error").hidden = true;
    const drafts = field("draft");
    const draftChoice = dialog.querySelector('[name="mode"][value="draft"]');
    if (draftChoice && !drafts) {
      draftChoice.disabled = true;
    }
    followMode();
    document.getElementById("move-dialog-what").textContent =
      `“${titleOf(data.cut_item)}” moves ${PLACES[data.position] || ""} ` +
      `“${titleOf(data.pasted_on)}”.`;
    dialog.showModal();
    field("reason").focus();
  }

  function send(event) {
    event.preventDefault();
    const toDraft = addsToDraft();
    if (!toDraft && !field("reason").value.trim()) {
      showError("Give the reason for this move: it is recorded in the history.");
      field("reason").focus();
      return;
    }
    if (toDraft && !(field("draft") && field("draft").value)) {
      showError("Choose the draft to add the move to.");
      return;
    }
    const body = new URLSearchParams({
      cmd: "move_node",
      position: pending.position,
      cut_item: pending.cut_item,
      pasted_on: pending.pasted_on,
    });
    for (const [name, value] of new FormData(event.target)) {
      body.append(name, value);
    }
    const submit = document.getElementById("move-dialog-submit");
    submit.disabled = true;
    fetch(window.location.href, {
      method: "POST",
      body,
      credentials: "same-origin",
      headers: {
        "X-CSRFToken": $("input[type=hidden][name=csrfmiddlewaretoken]").val(),
      },
    })
      .then((answer) =>
        answer.text().then((text) => {
          if (answer.ok) {
            pending = null;
            window.location.reload();
          } else {
            showError(text || `The move was refused (${answer.status}).`);
          }
        }),
      )
      .catch(() => showError("The registry could not be reached; nothing moved."))
      .finally(() => {
        submit.disabled = false;
      });
  }

  // Escape closes; Tab and Shift+Tab stay inside the dialog (showModal makes the page inert, but
  // the browser's own controls would still take focus).
  function trapFocus(event) {
    if (event.key === "Escape") {
      // Closed here: the tree's own Escape handler on <body> would otherwise
      // prevent the dialog's default cancel.
      event.preventDefault();
      event.stopPropagation();
      dialog.close();
      return;
    }
    if (event.key !== "Tab") {
      return;
    }
    const focusable = [...dialog.querySelectorAll(FOCUSABLE)].filter(
      (element) => element.offsetParent !== null,
    );
    if (focusable.length === 0) {
      return;
    }
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  }

  function setUp() {
    dialog = document.getElementById("move-dialog");
    if (!dialog) {
      return;
    }
    document.getElementById("move-dialog-form").addEventListener("submit", send);
    document
      .getElementById("move-dialog-cancel")
      .addEventListener("click", () => dialog.close());
    dialog.addEventListener("keydown", trapFocus);
    dialog.addEventListener("change", followMode);
    // Escape, Cancel or a move done: whatever was dragged goes back in its place.
    dialog.addEventListener("close", () => {
      pending = null;
      cancelDrag();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }

  $.ajaxPrefilter(function (options, originalOptions, jqXHR) {
    const data = originalOptions.data;
    if (!data || data.cmd !== "move_node") {
      return;
    }
    // Aborted before it is sent: no request, and the tree's reload never runs.
    jqXHR.abort();
    if (dialog) {
      open(data);
    } else {
      cancelDrag();
    }
  });
}
