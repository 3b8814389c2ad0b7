/**
 * Typed facts (SPEC 2.3, issue 14): the facts of a request as a form built from the fact vocabulary
 * (`GET /api/facts`) — number inputs with their range, date inputs, Yes / No / Unknown for booleans,
 * lists — instead of raw JSON. A change re-evaluates live like an answer; nothing is saved until the
 * reviewer saves (`POST …/answers {facts}`). Values are checked here against the vocabulary's range
 * and the server checks them again (zod).
 */
import type { FactSpec, FactValue } from "../api.js";
import { h } from "../dom.js";
import { factsUsedBy } from "../engine.js";
import { draftCount, isOpen, type ReviewPage } from "./review-state.js";

/** Parses one input of `spec` (linear; no regular expression on the value). */
export function parseFact(spec: FactSpec, raw: string): { value?: FactValue; error?: string } {
  const inRange = (n: number) =>
    (spec.min === undefined || n >= spec.min) && (spec.max === undefined || n <= spec.max);
  const range =
    spec.min !== undefined && spec.max !== undefined
      ? ` from ${spec.min} to ${spec.max}`
      : spec.min !== undefined
        ? ` of at least ${spec.min}`
        : spec.max !== undefined
          ? ` of at most ${spec.max}`
          : "";
  const text = raw.trim();
  if (text === "") return {};
  switch (spec.type) {
    case "number":
    case "count-or-list": {
      const n = Number(text);
      if (!Number.isFinite(n)) return { error: "Enter a number." };
      if (spec.type === "count-or-list" && !Number.isInteger(n)) return { error: "Enter a whole number." };
      if (!inRange(n)) return { error: `Enter a number${range}.` };
      return { value: n };
    }
    case "date": {
      // <input type=date> gives YYYY-MM-DD; a typed-in value is checked the same way.
      const t = Date.parse(`${text}T00:00:00Z`);
      if (text.length !== 10 || Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== text)
        return { error: "Enter a date (YYYY-MM-DD)." };
      return { value: text };
    }
    case "number[]": {
      const out: number[] = [];
      for (const part of text.split(",")) {
        const p = part.trim();
        if (p === "") continue;
        const n = Number(p);
        if (!Number.isFinite(n) || !inRange(n)) return { error: `Each value must be a number${range}.` };
        out.push(n);
      }
      return out.length ? { value: out } : {};
    }
    default:
      return { error: "Unsupported fact type." };
  }
}

function same(a: FactValue | undefined, b: FactValue | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The facts form (`#facts`). */
export function factsPanel(p: ReviewPage): HTMLElement | null {
  const s = p.s;
  const specs = s.factSpecs;
  if (!specs) return null;
  const saved = s.view.review!.case.facts ?? {};
  const editable = isOpen(s.view);
  const used = factsUsedBy(s.policies);
  const shown = specs.filter(
    (f) => used.has(f.name) || f.name in saved || f.name in s.factDraft || s.policies.size === 0,
  );
  const others = specs.filter((f) => !shown.includes(f));

  /** Records a parsed value as a draft (or drops the draft when it equals the saved value). */
  const set = (spec: FactSpec, value: FactValue | undefined, error?: string) => {
    delete s.factErrors[spec.name];
    if (error) s.factErrors[spec.name] = error;
    else if (value === undefined) {
      if (spec.name in saved) s.factErrors[spec.name] = "A saved fact can be changed, not removed.";
      delete s.factDraft[spec.name];
    } else if (same(value, saved[spec.name])) delete s.factDraft[spec.name];
    else s.factDraft[spec.name] = value;
    // After the event: a change made by leaving the field (Tab) lets the focus move first, and the
    // re-render then keeps it on the next control.
    window.setTimeout(() => p.update(), 0);
  };

  const field = (spec: FactSpec): HTMLElement => {
    const id = `fact-${spec.name}`;
    const value = spec.name in s.factDraft ? s.factDraft[spec.name] : saved[spec.name];
    const isDraft = spec.name in s.factDraft;
    const error = s.factErrors[spec.name];
    const desc = h(
      "span",
      { class: "hint", id: `${id}-desc` },
      h("span", { class: "mono" }, spec.name),
      isDraft ? " · unsaved" : spec.name in saved ? " · saved" : "",
    );
    const err = error ? h("span", { class: "form-error", id: `${id}-error` }, error) : null;
    const described = `${id}-desc${error ? ` ${id}-error` : ""}`;
    const common = {
      id,
      name: id,
      "aria-describedby": described,
      ...(error && { "aria-invalid": "true" }),
      ...(!editable && { disabled: true }),
    };
    const range = {
      ...(spec.min !== undefined && { min: spec.min }),
      ...(spec.max !== undefined && { max: spec.max }),
    };
    const wrap = (control: HTMLElement, label: HTMLElement) =>
      h(
        "div",
        { class: `field rv-fact${isDraft ? " is-draft" : ""}`, "data-fact": spec.name },
        label,
        control,
        desc,
        err,
      );
    switch (spec.type) {
      case "boolean": {
        const opt = (v: "yes" | "no" | "unknown", text: string) =>
          h(
            "label",
            { class: `seg seg-${v}${v === "unknown" && spec.name in saved ? " is-disabled" : ""}` },
            h("input", {
              type: "radio",
              name: id,
              id: `${id}-${v}`,
              value: v,
              checked: v === "unknown" ? value === undefined : value === (v === "yes"),
              // A saved fact can be changed but not withdrawn (the API merges facts into the case).
              disabled: !editable || (v === "unknown" && spec.name in saved),
              onchange: () => set(spec, v === "unknown" ? undefined : v === "yes"),
            }),
            h("span", null, text),
          );
        return h(
          "fieldset",
          {
            class: `rv-fact rv-fact-bool${isDraft ? " is-draft" : ""}`,
            "data-fact": spec.name,
            "aria-describedby": described,
          },
          h("legend", null, spec.description),
          h("div", { class: "answer" }, opt("yes", "Yes"), opt("no", "No"), opt("unknown", "Unknown")),
          desc,
          err,
        );
      }
      case "count-or-list": {
        const list = Array.isArray(value) ? value.map(String) : [];
        const options = spec.options ?? [];
        return h(
          "fieldset",
          {
            class: `rv-fact rv-fact-list${isDraft ? " is-draft" : ""}`,
            "data-fact": spec.name,
            "aria-describedby": described,
          },
          h("legend", null, spec.description),
          h(
            "div",
            { class: "field" },
            h("label", { for: `${id}-count` }, "How many (or tick which below)"),
            h("input", {
              ...common,
              id: `${id}-count`,
              type: "number",
              step: 1,
              inputmode: "numeric",
              ...range,
              value: typeof value === "number" ? String(value) : "",
              onchange: (ev: Event) => {
                const r = parseFact(spec, (ev.target as HTMLInputElement).value);
                set(spec, r.value ?? (list.length ? list : undefined), r.error);
              },
            }),
          ),
          h(
            "div",
            { class: "rv-options" },
            options.map((o, i) =>
              h(
                "label",
                { class: "choice" },
                h("input", {
                  type: "checkbox",
                  id: `${id}-opt-${i}`,
                  value: o,
                  checked: list.includes(o),
                  ...(!editable && { disabled: true }),
                  onchange: (ev: Event) => {
                    const on = (ev.target as HTMLInputElement).checked;
                    const next = options.filter((x) => (x === o ? on : list.includes(x)));
                    set(spec, next.length ? next : undefined);
                  },
                }),
                ` ${o}`,
              ),
            ),
          ),
          desc,
          err,
        );
      }
      case "date":
        return wrap(
          h("input", {
            ...common,
            type: "date",
            value: typeof value === "string" ? value : "",
            onchange: (ev: Event) => {
              const r = parseFact(spec, (ev.target as HTMLInputElement).value);
              set(spec, r.value, r.error);
            },
          }),
          h("label", { for: id }, spec.description),
        );
      case "number[]":
        return wrap(
          h("input", {
            ...common,
            type: "text",
            inputmode: "decimal",
            placeholder: "e.g. 80, 75",
            value: Array.isArray(value) ? value.join(", ") : "",
            onchange: (ev: Event) => {
              const r = parseFact(spec, (ev.target as HTMLInputElement).value);
              set(spec, r.value, r.error);
            },
          }),
          h("label", { for: id }, `${spec.description} (comma-separated)`),
        );
      default:
        return wrap(
          h("input", {
            ...common,
            type: "number",
            step: "any",
            inputmode: "decimal",
            ...range,
            value: typeof value === "number" ? String(value) : "",
            onchange: (ev: Event) => {
              const r = parseFact(spec, (ev.target as HTMLInputElement).value);
              set(spec, r.value, r.error);
            },
          }),
          h("label", { for: id }, spec.description),
        );
    }
  };

  const drafts = Object.keys(s.factDraft).length;
  const total = draftCount(s);
  const othersBox = h(
    "details",
    {
      class: "rv-other-facts",
      ...(s.otherFactsOpen && { open: true }),
      ontoggle: (ev: Event) => {
        s.otherFactsOpen = (ev.target as HTMLDetailsElement).open;
      },
    },
    h("summary", null, `Other facts (${others.length})`),
    h("div", { class: "rv-fact-grid" }, others.map(field)),
  );
  return h(
    "section",
    { class: "panel rv-facts", id: "facts", "aria-labelledby": "facts-h" },
    h("h2", { id: "facts-h" }, "Facts"),
    h(
      "p",
      { class: "muted small" },
      "Typed data that decides criteria (an answer always wins over a fact). Changes re-evaluate at once; save them to keep them.",
    ),
    shown.length
      ? h("div", { class: "rv-fact-grid" }, shown.map(field))
      : h("p", { class: "empty" }, "No fact decides a criterion of this request's policy."),
    others.length ? othersBox : null,
    editable && drafts > 0
      ? h(
          "div",
          { class: "actions" },
          h(
            "button",
            { type: "button", class: "btn btn-primary", id: "save-facts", onclick: () => void p.save() },
            `Save ${total} change${total === 1 ? "" : "s"}`,
          ),
        )
      : null,
  );
}
