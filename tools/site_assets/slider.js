// Sliders without a kernel. Each .static-slider holds, in data-states, every state its figure was drawn
// in when the site was built: for each state the frame to show, which option each control is at, and
// (next[i][j]) the state that setting control i to option j leads to. Moving a control follows that.
"use strict";

function staticSlider(box) {
  const table = JSON.parse(box.dataset.states);
  const controls = Array.from(box.querySelectorAll("[data-control]"));
  const frame = box.querySelector(".static-frame");
  const lists = controls.map((control, i) => table.states[0].at[i][0]);
  let current = 0;

  function showOptions(control, i, list) {
    // a control whose options another control changes (a select, or a range and its readouts)
    if (lists[i] === list) return;
    lists[i] = list;
    if (control.tagName === "SELECT") {
      control.replaceChildren(...table.lists[list].map((text) => new Option(text)));
    } else {
      control.max = table.lists[list].length - 1;
    }
  }

  function show(k) {
    const state = table.states[k];
    current = k;
    controls.forEach((control, i) => {
      const [list, index] = state.at[i];
      showOptions(control, i, list);
      if (control.tagName === "SELECT") {
        control.selectedIndex = index;
      } else {
        control.value = index;
        control.nextElementSibling.textContent = table.lists[list][index];
      }
    });
    const picture = table.frames[state.frame];
    if (picture.src) {
      let img = frame.querySelector("img");
      if (!img) {
        frame.replaceChildren((img = document.createElement("img")));
      }
      img.src = picture.src;
      img.width = picture.width;
      img.height = picture.height;
      img.alt = "Figure for " + controls.map((control, i) =>
        control.closest("label").querySelector(".static-description").textContent + " = " +
        table.lists[state.at[i][0]][state.at[i][1]]).join(", ");
    } else {
      frame.innerHTML = picture.html;
    }
  }

  controls.forEach((control, i) => {
    control.addEventListener("input", () => {
      const option = control.tagName === "SELECT" ? control.selectedIndex : Number(control.value);
      show(table.states[current].next[i][option]);
    });
  });
}

document.querySelectorAll(".static-slider").forEach(staticSlider);
