/* Drag-and-drop moves in the unit tree need a reason, like every other change.
 *
 * django-mptt's draggable tree posts cmd=move_node with jQuery; this prefilter asks
 * for the reason before the request leaves and adds it to the posted data. Without a
 * reason the move is cancelled and nothing is sent. Then it asks who may read the
 * reason: OK publishes it, Cancel keeps it internal (editors and auditors only), the
 * safe answer for a dialog closed without thought.
 */
/* global django */
"use strict";
{
  const $ = django.jQuery;
  const PROMPT = "Why does this unit move? The reason is recorded in its history.";
  const PUBLISH =
    "May everyone read this reason?\n\nOK: public, anyone reading the registry sees " +
    "it.\nCancel: internal, only signed-in editors and auditors see it.";

  function cancelDrag() {
    $("#drag-line").remove();
    $("#ghost").remove();
  }

  $.ajaxPrefilter(function (options, originalOptions, jqXHR) {
    const data = originalOptions.data;
    if (!data || data.cmd !== "move_node") {
      return;
    }
    const reason = (window.prompt(PROMPT) || "").trim();
    if (!reason) {
      cancelDrag();
      jqXHR.abort();
      return;
    }
    const visibility = window.confirm(PUBLISH) ? "public" : "internal";
    options.data +=
      "&reason=" + encodeURIComponent(reason) + "&reason_visibility=" + visibility;
  });
}
