// Progressive enhancement only: every flow works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Copy buttons for curl lines (the read-only text field stays for keyboard users).
  for (const button of document.querySelectorAll("button.copy")) {
    if (!navigator.clipboard) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(button.dataset.copy || "");
        button.textContent = "Copied";
      } catch (_) {
        button.textContent = "Select and copy the line";
      }
    });
  }
  // Counts and the chart load after the queue (the queue itself is one keyset read).
  const summary = document.getElementById("summary");
  if (summary && summary.dataset.src) {
    fetch(summary.dataset.src, { credentials: "same-origin" })
      .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
      .then((text) => {
        const body = new DOMParser().parseFromString(text, "text/html").getElementById("summary-body");
        if (body) summary.replaceChildren(...Array.from(body.childNodes, (node) => document.importNode(node, true)));
      })
      .catch(() => { /* the link to the counts page stays */ });
  }
  // Filters apply as soon as a choice is picked with the pointer. Keyboard users move through
  // the options without reloading the page, and apply with the "Apply filters" button.
  for (const select of document.querySelectorAll("form.filters select")) {
    let keyed = false;
    select.addEventListener("keydown", () => { keyed = true; });
    select.addEventListener("pointerdown", () => { keyed = false; });
    select.addEventListener("change", () => { if (!keyed) select.form.requestSubmit(); });
  }
  // Ask before leaving a triage form with unsaved edits.
  for (const form of document.querySelectorAll("form.triage")) {
    let dirty = false;
    form.addEventListener("input", () => { dirty = true; });
    form.addEventListener("submit", () => { dirty = false; });
    window.addEventListener("beforeunload", (event) => { if (dirty) event.preventDefault(); });
  }
});
// The Emulator page's request journal: reloads itself while "Auto-refresh" is ticked (the
// Refresh link does the same without JavaScript).
document.addEventListener("DOMContentLoaded", () => {
  const section = document.getElementById("journal");
  const box = document.getElementById("journal-auto");
  if (!section || !box || !section.dataset.src) return;
  box.closest("label").hidden = false;
  let timer = null;
  const load = () => {
    fetch(section.dataset.src, { credentials: "same-origin" })
      .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
      .then((text) => {
        const fresh = new DOMParser().parseFromString(text, "text/html").getElementById("journal-body");
        const shown = document.getElementById("journal-body");
        if (fresh && shown) shown.replaceWith(document.importNode(fresh, true));
      })
      .catch(() => { /* the Refresh link stays */ });
  };
  box.addEventListener("change", () => {
    if (timer) clearInterval(timer);
    timer = box.checked ? setInterval(load, 3000) : null;
  });
});
