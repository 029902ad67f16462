/* The API token page: create, replace or revoke your token through /api/v1/token/. */
(function () {
  "use strict";

  // The page's language (Django's JavaScript catalog, loaded before); else English.
  var gettext = window.gettext || function (text) { return text; };
  function refused(status) {
    return gettext("The registry refused (%(status)s).").replace("%(status)s", status);
  }

  var manager = document.querySelector(".token-manager");
  if (!manager) return;
  var url = manager.dataset.tokenUrl;
  var csrf = manager.querySelector("input[name=csrfmiddlewaretoken]").value;
  var state = document.getElementById("token-state");
  var create = document.getElementById("token-create");
  var revoke = document.getElementById("token-revoke");
  var fresh = document.getElementById("token-new");
  var key = document.getElementById("token-key");
  var error = document.getElementById("token-error");

  function send(method) {
    error.hidden = true;
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, "Accept": "application/json" }
    }).then(function (response) {
      if (!response.ok) {
        return response.json().then(function (body) {
          throw new Error(body.detail || refused(response.status));
        }, function () {
          throw new Error(refused(response.status));
        });
      }
      return response.status === 204 ? null : response.json();
    });
  }

  function fail(problem) {
    error.textContent = problem.message;
    error.hidden = false;
  }

  create.addEventListener("click", function () {
    send("POST").then(function (token) {
      key.textContent = token.key;
      fresh.hidden = false;
      state.textContent = gettext("You have a token, created just now.");
      create.textContent = gettext("Replace my token");
      revoke.hidden = false;
    }, fail);
  });

  revoke.addEventListener("click", function () {
    send("DELETE").then(function () {
      key.textContent = "";
      fresh.hidden = true;
      state.textContent = gettext("You have no token: scripts using the old one are refused.");
      create.textContent = gettext("Create a token");
      revoke.hidden = true;
    }, fail);
  });
})();
