/* Portico: copy buttons, tabs and confirmations, as progressive enhancement.
   Every page works without this file. No framework, no inline handlers
   (the CSP forbids them): everything hangs off data attributes.

   Copy:     <button type="button" class="btn btn-small btn-copy" data-copy="ID">Copy</button>
             copies the text (or .value of an input/textarea) of the element #ID.
   Tabs:     <div class="tabs" data-tabs>
               <div class="tab-list" role="tablist" aria-label="Language">
                 <button type="button" role="tab" data-tab="PANEL_ID">Node.js</button> …
               </div>
               <div class="tab-panel" id="PANEL_ID" role="tabpanel">
                 <h3 class="tab-panel-title">Node.js</h3> …
               </div> …
             </div>
   Confirm:  <button type="submit" data-confirm="Delete the project Website?">Delete project</button>
             (or data-confirm on the <form>) asks before the form is sent.
   Address:  <div data-replace-url="/settings/sso"> on a page answered to a POST
             (the rotation, which shows the new secret once) makes the address
             bar say that URL, so a reload is a plain GET that shows nothing
             secret, never a resubmitted form. */
(function () {
  "use strict";

  var root = document.documentElement;
  root.classList.add("js");

  /* ------------------------------------------------------------ live region */
  var live = null;
  function announce(text) {
    if (!live) {
      live = document.createElement("div");
      live.className = "sr-only";
      live.setAttribute("role", "status");
      live.setAttribute("aria-live", "polite");
      document.body.appendChild(live);
    }
    live.textContent = "";
    window.setTimeout(function () { live.textContent = text; }, 50);
  }

  /* ------------------------------------------------------------------- copy */
  function textOf(el) {
    var tag = el.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") return el.value;
    return (el.textContent || "").trim();
  }

  function selectContents(el) {
    var tag = el.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA") {
      el.focus();
      el.select();
      return;
    }
    var range = document.createRange();
    range.selectNodeContents(el);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }

  function legacyCopy(el) {
    selectContents(el);
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    return ok;
  }

  function flashButton(btn, label, cls) {
    if (!btn.hasAttribute("data-label")) btn.setAttribute("data-label", btn.textContent);
    window.clearTimeout(btn._porticoTimer);
    btn.textContent = label;
    if (cls) btn.classList.add(cls);
    btn._porticoTimer = window.setTimeout(function () {
      btn.textContent = btn.getAttribute("data-label");
      btn.classList.remove("is-copied");
    }, 1500);
  }

  function copied(btn) {
    flashButton(btn, "Copied", "is-copied");
    announce("Copied to the clipboard");
  }

  function notCopied(btn, el) {
    // The text stays selected: the person can copy it by hand.
    selectContents(el);
    var mac = /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);
    flashButton(btn, mac ? "Press ⌘C" : "Press Ctrl+C", null);
    announce("The text is selected; copy it with your keyboard");
  }

  document.addEventListener("click", function (event) {
    var btn = event.target.closest ? event.target.closest("[data-copy]") : null;
    if (!btn) return;
    var el = document.getElementById(btn.getAttribute("data-copy"));
    if (!el) return;
    event.preventDefault();
    var text = textOf(el);
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () { copied(btn); },
        function () { if (legacyCopy(el)) copied(btn); else notCopied(btn, el); }
      );
    } else if (legacyCopy(el)) {
      copied(btn);
    } else {
      notCopied(btn, el);
    }
  });

  /* ------------------------------------------------------------------- tabs */
  var uid = 0;

  function setupTabs(container) {
    var list = container.querySelector('[role="tablist"]');
    if (!list) return;
    var tabs = Array.prototype.slice.call(list.querySelectorAll('[role="tab"][data-tab]'));
    var pairs = [];
    tabs.forEach(function (tab) {
      var panel = document.getElementById(tab.getAttribute("data-tab"));
      if (!panel) return;
      if (!tab.id) tab.id = "tab-" + panel.id + "-" + (++uid);
      tab.setAttribute("aria-controls", panel.id);
      panel.setAttribute("aria-labelledby", tab.id);
      if (!panel.hasAttribute("tabindex")) panel.setAttribute("tabindex", "0");
      pairs.push({ tab: tab, panel: panel });
    });
    if (!pairs.length) return;

    function select(index, focus) {
      pairs.forEach(function (p, i) {
        var on = i === index;
        p.tab.setAttribute("aria-selected", on ? "true" : "false");
        p.tab.setAttribute("tabindex", on ? "0" : "-1");
        p.panel.hidden = !on;
      });
      if (focus) pairs[index].tab.focus();
    }

    var start = 0;
    pairs.forEach(function (p, i) {
      if (p.tab.getAttribute("aria-selected") === "true") start = i;
    });
    // A link to a panel (#panel-id) opens that tab.
    if (location.hash) {
      pairs.forEach(function (p, i) {
        if ("#" + p.panel.id === location.hash) start = i;
      });
    }
    select(start, false);

    list.addEventListener("click", function (event) {
      var tab = event.target.closest('[role="tab"]');
      if (!tab) return;
      for (var i = 0; i < pairs.length; i++) {
        if (pairs[i].tab === tab) { select(i, false); return; }
      }
    });

    list.addEventListener("keydown", function (event) {
      var current = -1;
      for (var i = 0; i < pairs.length; i++) {
        if (pairs[i].tab === document.activeElement) current = i;
      }
      if (current < 0) return;
      var next = null;
      switch (event.key) {
        case "ArrowRight": case "ArrowDown": next = (current + 1) % pairs.length; break;
        case "ArrowLeft": case "ArrowUp": next = (current - 1 + pairs.length) % pairs.length; break;
        case "Home": next = 0; break;
        case "End": next = pairs.length - 1; break;
        default: return;
      }
      event.preventDefault();
      select(next, true);
    });
  }

  /* ---------------------------------------------------------------- confirm */
  // Remember the last submit button clicked, for browsers without
  // SubmitEvent.submitter.
  var lastSubmitter = null;
  document.addEventListener("click", function (event) {
    var b = event.target.closest ? event.target.closest("button, input[type=submit]") : null;
    if (b && b.form && (b.type === "submit" || b.type === "image")) lastSubmitter = b;
  }, true);

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter || (lastSubmitter && lastSubmitter.form === form ? lastSubmitter : null);
    lastSubmitter = null;
    var message = (submitter && submitter.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  });

  /* ------------------------------------------------------------------ start */
  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-tabs]"), setupTabs);
    var replace = document.querySelector("[data-replace-url]");
    if (replace && window.history && window.history.replaceState) {
      window.history.replaceState(null, "", replace.getAttribute("data-replace-url"));
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
