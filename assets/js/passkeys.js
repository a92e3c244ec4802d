// Passkeys (WebAuthn) for BanGUI: the browser's part of adding a passkey
// and of logging in with one. No build step, no inline script.
//
// A form with data-passkey="register" | "login" | "second-factor" and
// data-begin="<url>" is the whole contract: on submit this script POSTs
// JSON to data-begin (with the form's CSRF token; register sends the
// form's name), passes the options it gets to navigator.credentials.create
// or .get, puts the browser's answer as JSON into the form's hidden
// "credential" field and submits the form to its action (the finish URL),
// whose answer is an ordinary page or redirect.
(function () {
  "use strict";
  if (window.banguiPasskeys) return; // loaded once per document
  window.banguiPasskeys = true;

  // The panel sends binary values as base64url without padding.
  function fromB64url(s) {
    var b64 = s.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    var bin = atob(b64);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }

  function toB64url(buf) {
    var bytes = new Uint8Array(buf);
    var bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function decodeDescriptors(list) {
    return (list || []).map(function (d) {
      return Object.assign({}, d, { id: fromB64url(d.id) });
    });
  }

  // creationOptions turns the panel's JSON into options for create().
  function creationOptions(o) {
    var pk = Object.assign({}, o.publicKey);
    pk.challenge = fromB64url(pk.challenge);
    pk.user = Object.assign({}, pk.user, { id: fromB64url(pk.user.id) });
    pk.excludeCredentials = decodeDescriptors(pk.excludeCredentials);
    return { publicKey: pk };
  }

  // requestOptions turns the panel's JSON into options for get().
  function requestOptions(o) {
    var pk = Object.assign({}, o.publicKey);
    pk.challenge = fromB64url(pk.challenge);
    pk.allowCredentials = decodeDescriptors(pk.allowCredentials);
    return { publicKey: pk };
  }

  // answer is the credential as the panel reads it (WebAuthn's JSON form).
  function answer(cred) {
    var r = cred.response;
    var response = { clientDataJSON: toB64url(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toB64url(r.attestationObject);
      if (typeof r.getTransports === "function") response.transports = r.getTransports();
    } else {
      response.authenticatorData = toB64url(r.authenticatorData);
      response.signature = toB64url(r.signature);
      if (r.userHandle) response.userHandle = toB64url(r.userHandle);
    }
    return {
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults(),
      response: response
    };
  }

  // text is a message of the page's language, from the status element's
  // data-msg-* attributes (the panel renders them in the user's language).
  function text(form, name, arg) {
    var el = form.querySelector("[data-passkey-status]");
    var msg = (el && el.dataset[name]) || name;
    return msg.replace("%s", arg === undefined ? "" : arg);
  }

  function say(form, msg, isError) {
    var el = form.querySelector("[data-passkey-status]");
    if (!el) return;
    el.textContent = msg;
    el.classList.toggle("flash", !!isError);
    el.classList.toggle("flash--error", !!isError);
  }

  // begin asks the panel for a ceremony's options.
  function begin(form) {
    var body = {};
    var name = form.querySelector("input[name=name]");
    if (name) body.name = name.value;
    var token = form.querySelector("input[name=_csrf]");
    return fetch(form.dataset.begin, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRF-Token": token ? token.value : ""
      },
      body: JSON.stringify(body)
    }).then(function (resp) {
      // The panel sent the browser elsewhere (a login that took too long):
      // go there.
      if (resp.redirected) {
        window.location.assign(resp.url);
        return new Promise(function () {});
      }
      return resp.json().catch(function () {
        return { error: text(form, "msgAnswered", resp.status) };
      }).then(function (data) {
        if (!resp.ok || data.error) throw new Error(data.error || text(form, "msgAnswered", resp.status));
        return data;
      });
    });
  }

  // explain turns the browser's refusal into a sentence.
  function explain(form, err) {
    switch (err && err.name) {
      case "NotAllowedError":
        return text(form, "msgCancelled");
      case "InvalidStateError":
        return text(form, "msgExists");
      case "SecurityError":
        return text(form, "msgRefused");
      case "NotSupportedError":
        return text(form, "msgUnsupported");
    }
    return (err && err.message) || text(form, "msgFailed");
  }

  function run(form) {
    var kind = form.dataset.passkey;
    var button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    say(form, text(form, kind === "register" ? "msgCreate" : "msgUse"), false);
    begin(form).then(function (options) {
      if (kind === "register") return navigator.credentials.create(creationOptions(options));
      return navigator.credentials.get(requestOptions(options));
    }).then(function (cred) {
      if (!cred) throw new Error(text(form, "msgNone"));
      form.querySelector("input[name=credential]").value = JSON.stringify(answer(cred));
      say(form, text(form, "msgChecking"), false);
      form.submit();
    }).catch(function (err) {
      say(form, explain(form, err), true);
      if (button) button.disabled = false;
    });
  }

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.passkey) return;
    ev.preventDefault();
    if (!window.PublicKeyCredential || !navigator.credentials) {
      say(form, text(form, "msgNoBrowser"), true);
      return;
    }
    run(form);
  });
})();
