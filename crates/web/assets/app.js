// Steward's little script, loaded from /assets (the Content-Security-Policy
// allows no inline script). Every page works without it; it only adds
// conveniences.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Destructive buttons ask first: <button data-confirm="Really?">.
  document.querySelectorAll("[data-confirm]").forEach((el) => {
    el.addEventListener("click", (ev) => {
      if (!window.confirm(el.getAttribute("data-confirm"))) {
        ev.preventDefault();
      }
    });
  });
  // A freshly created API token is selected when focused, ready to copy.
  document.querySelectorAll("[data-select-on-focus]").forEach((el) => {
    el.addEventListener("focus", () => el.select());
  });
});

// @-mention completion in comment boxes: <textarea data-mention-source=URL>.
// Typing "@al" asks URL?q=al for people (JSON [{login, name}]) and offers
// them in a list below; arrows move, Enter or Tab picks, Escape closes.
// The list is a listbox tied to the textarea, so screen readers follow it.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("textarea[data-mention-source]").forEach((box) => {
    const source = box.getAttribute("data-mention-source");
    const list = document.createElement("ul");
    list.id = box.id + "-mentions";
    list.className = "mentions";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    box.insertAdjacentElement("afterend", list);
    box.setAttribute("aria-autocomplete", "list");
    box.setAttribute("aria-controls", list.id);
    box.setAttribute("aria-expanded", "false");
    let people = [];
    let active = 0;
    let asked = 0;

    const word = () => {
      const before = box.value.slice(0, box.selectionStart);
      const m = /(^|\s)@([\w.-]{0,50})$/.exec(before);
      return m ? m[2] : null;
    };
    const close = () => {
      list.hidden = true;
      people = [];
      box.setAttribute("aria-expanded", "false");
      box.removeAttribute("aria-activedescendant");
    };
    const show = () => {
      list.replaceChildren();
      people.forEach((p, i) => {
        const li = document.createElement("li");
        li.id = list.id + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", i === active ? "true" : "false");
        li.textContent = p.name + " (@" + p.login + ")";
        li.addEventListener("mousedown", (ev) => {
          ev.preventDefault();
          pick(i);
        });
        list.appendChild(li);
      });
      list.hidden = people.length === 0;
      box.setAttribute("aria-expanded", people.length ? "true" : "false");
      if (people.length) {
        box.setAttribute("aria-activedescendant", list.id + "-" + active);
      }
    };
    const pick = (i) => {
      const w = word();
      if (w === null || !people[i]) return close();
      const at = box.selectionStart;
      const start = at - w.length;
      const insert = people[i].login + " ";
      box.value = box.value.slice(0, start) + insert + box.value.slice(at);
      box.selectionStart = box.selectionEnd = start + insert.length;
      close();
      box.focus();
    };

    box.addEventListener("input", async () => {
      const w = word();
      if (w === null) return close();
      const ticket = ++asked;
      try {
        const res = await fetch(source + "?q=" + encodeURIComponent(w), {
          headers: { Accept: "application/json" },
          credentials: "same-origin",
        });
        if (!res.ok || ticket !== asked) return;
        people = await res.json();
        active = 0;
        show();
      } catch (_) {
        close();
      }
    });
    box.addEventListener("keydown", (ev) => {
      if (list.hidden) return;
      if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
        const step = ev.key === "ArrowDown" ? 1 : people.length - 1;
        active = (active + step) % people.length;
        show();
        ev.preventDefault();
      } else if (ev.key === "Enter" || ev.key === "Tab") {
        pick(active);
        ev.preventDefault();
      } else if (ev.key === "Escape") {
        close();
        ev.preventDefault();
      }
    });
    box.addEventListener("blur", () => setTimeout(close, 150));
  });
});

// The new-role form: only the permission groups that fit the chosen kind
// (<fieldset data-role-kind>) are shown; the others are hidden and their
// boxes disabled so that they are not sent. Without the script every group
// shows, with its kind in the legend, and the server refuses a mismatch.
document.addEventListener("DOMContentLoaded", () => {
  const kinds = document.querySelectorAll("input[type=radio][name=kind]");
  if (!kinds.length) return;
  const groups = document.querySelectorAll("fieldset[data-role-kind]");
  const apply = () => {
    const chosen = document.querySelector("input[type=radio][name=kind]:checked");
    groups.forEach((g) => {
      const fits = !chosen || g.getAttribute("data-role-kind") === chosen.value;
      g.hidden = !fits;
      g.disabled = !fits;
    });
  };
  kinds.forEach((k) => k.addEventListener("change", apply));
  apply();
});
