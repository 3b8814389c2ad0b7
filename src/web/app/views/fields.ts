/**
 * Form fields as the app's screens lay them out (issue 6, accessible forms): a `div.field` whose
 * label names its control by id, so a click on the label focuses the control and a screen reader
 * reads the label with it.
 */
import { type Attrs, type Child, h } from "../dom.js";

/** A labelled field: `label` for the control `id`, then the control and whatever follows it (hints, errors). */
export function field(id: string, label: Child, ...controls: Child[]): HTMLDivElement {
  return fieldWith("", id, label, ...controls);
}

/** {@link field} with further classes on the `div` (`field-grow`, `au-fact-name`…). */
export function fieldWith(classes: string, id: string, label: Child, ...controls: Child[]): HTMLDivElement {
  return h(
    "div",
    { class: classes ? `field ${classes}` : "field" },
    h("label", { for: id }, label),
    ...controls,
  );
}

/** A labelled date input showing `value`; `set` receives the new value on change. */
export function dateField(
  id: string,
  label: string,
  value: string,
  set: (value: string) => void,
): HTMLDivElement {
  return field(
    id,
    label,
    h("input", {
      type: "date",
      id,
      value,
      onchange: (ev: Event) => set((ev.target as HTMLInputElement).value),
    }),
  );
}

/** An `<option>`, selected when its value is `current`. */
export function option(value: string, current: string | undefined, label: Child): HTMLOptionElement {
  return h("option", { value, ...(value === current && { selected: true }) }, label);
}

/** A small `type="button"` button (table rows' Edit and Remove…): `attrs` add its id, label and handler. */
export function smallButton(attrs: Attrs, label: Child): HTMLButtonElement {
  return h("button", { type: "button", class: "btn btn-small", ...attrs }, label);
}
