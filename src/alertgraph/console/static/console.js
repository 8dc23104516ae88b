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
  // Filters apply as soon as a choice changes.
  for (const select of document.querySelectorAll("form.filters select")) {
    select.addEventListener("change", () => select.form.requestSubmit());
  }
  // Ask before leaving a triage form with unsaved edits.
  for (const form of document.querySelectorAll("form.triage")) {
    let dirty = false;
    form.addEventListener("input", () => { dirty = true; });
    form.addEventListener("submit", () => { dirty = false; });
    window.addEventListener("beforeunload", (event) => { if (dirty) event.preventDefault(); });
  }
});
