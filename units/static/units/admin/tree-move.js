/* Drag-and-drop moves in the unit tree need a reason, like every other change.
 *
 * django-mptt's draggable tree posts cmd=move_node with jQuery; this prefilter asks
 * for the reason before the request leaves and adds it to the posted data. Without a
 * reason the move is cancelled and nothing is sent.
 */
/* global django */
"use strict";
{
  const $ = django.jQuery;
  const PROMPT = "Why does this unit move? The reason is recorded in its history.";

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
    options.data += "&reason=" + encodeURIComponent(reason);
  });
}
