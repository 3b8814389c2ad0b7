/**
 * Typed facts (SPEC 2.3; issue 14, issue 15 item 2 "Facts are data"): the facts of a request as a form
 * built from the facts its policy versions declare (`ui.facts` of `/api/ui/policy`), each with the
 * input its type calls for — Yes / No / Unknown, a number with its unit and range (whole numbers for
 * an integer), a date, a code checked against its system, a select of an enum's values, checkboxes
 * for a set of values (and "how many" where the policy accepts a count), comma-separated codes or
 * numbers. A change re-evaluates live like an answer; nothing is saved until the reviewer saves
 * (`POST …/answers {facts}`). A value is checked here as the server checks it (`valueCheck` of the
 * model): an invalid one stays on screen as typed, with its error beside it, and is never sent.
 */
import { CODE_SYSTEMS, describeType, valueCheck } from "../../../model/index.js";
import type { FactValue } from "../api.js";
import { h } from "../dom.js";
import { factsUsedBy, type LoadedPolicy } from "../engine.js";
import type { FactDecl } from "../types.js";
import { fieldWith, field as labelled } from "./fields.js";
import { draftCount, type FactError, isOpen, type ReviewPage } from "./review-state.js";

/** What reading one input gave: a value, nothing (left empty: unknown), or why it was refused. */
export interface ParsedFact {
  value?: FactValue;
  error?: string;
}

/** Code systems as people write them. */
const SYSTEM_LABEL: Record<string, string> = {
  "icd-10-cm": "ICD-10-CM",
  cpt: "CPT",
  hcpcs: "HCPCS",
  loinc: "LOINC",
  snomed: "SNOMED CT",
};

function systemLabel(system: string): string {
  return SYSTEM_LABEL[system] ?? system;
}

/** " from 0 to 100", " of at least 0", "" — the declared range in words. */
function rangeText(d: { min?: number; max?: number }): string {
  if (d.min !== undefined && d.max !== undefined) return ` from ${d.min} to ${d.max}`;
  if (d.min !== undefined) return ` of at least ${d.min}`;
  if (d.max !== undefined) return ` of at most ${d.max}`;
  return "";
}

/** " (%)" when the declaration has a unit. */
function unitText(d: { unit?: string }): string {
  return d.unit ? ` (${d.unit})` : "";
}

/**
 * A decimal number as typed (`12`, `-3.5`, `.5`, `1e3`), or NaN. Only digits, a sign, a point and
 * an exponent are accepted, so `Number`'s other readings (`0x1F`, `Infinity`, `0b1`) are refused.
 */
function readNumber(text: string): number {
  if (text === "") return Number.NaN;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (!((c >= "0" && c <= "9") || c === "." || c === "-" || c === "+" || c === "e" || c === "E"))
      return Number.NaN;
  }
  return Number(text);
}

/** The comma-separated parts of `text`, trimmed, empty ones left out. */
function parts(text: string): string[] {
  return text
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "");
}

/** One code of `system` as the form sends it: upper case, checked against the system's pattern. */
function readCode(system: string, raw: string): { code?: string; error?: string } {
  const code = raw.trim().toUpperCase();
  const sys = CODE_SYSTEMS[system];
  if (!sys || code.length > 20 || !sys.pattern.test(code))
    return {
      error: `“${raw.trim()}” is not a valid ${systemLabel(system)} code (e.g. ${sys?.example ?? "…"}).`,
    };
  return { code };
}

function numberOf(d: { type: "number" | "integer" | "numbers"; unit?: string; min?: number; max?: number }) {
  return d.type === "integer" ? "a whole number" : "a number";
}

/**
 * Reads the text (or, for a set of values, the ticked values) of a fact's input as its declaration
 * says (issue 15 item 2). Empty is "unknown" (no value). The value returned always passes the model's
 * `valueCheck(decl)`, the check the server applies to the case. Linear in the input.
 */
export function parseFact(decl: FactDecl, raw: string | readonly string[]): ParsedFact {
  if (typeof raw !== "string") return parseChoices(decl, raw);
  const text = raw.trim();
  if (text === "") return {};
  const r = parseText(decl, text);
  // The server's own check, so a value the form accepts is never refused on save.
  if (r.value !== undefined && !valueCheck(decl)(r.value)) return { error: `Enter ${describeType(decl)}.` };
  return r;
}

function parseText(decl: FactDecl, text: string): ParsedFact {
  switch (decl.type) {
    case "boolean": {
      const t = text.toLowerCase();
      if (t === "yes" || t === "true") return { value: true };
      if (t === "no" || t === "false") return { value: false };
      return { error: "Answer Yes, No or Unknown." };
    }
    case "number":
    case "integer": {
      const n = readNumber(text);
      if (!Number.isFinite(n)) return { error: `Enter ${numberOf(decl)}${unitText(decl)}.` };
      if (decl.type === "integer" && !Number.isInteger(n))
        return { error: `Enter a whole number${rangeText(decl)}${unitText(decl)}.` };
      if ((decl.min !== undefined && n < decl.min) || (decl.max !== undefined && n > decl.max))
        return { error: `Enter ${numberOf(decl)}${rangeText(decl)}${unitText(decl)}.` };
      return { value: n };
    }
    case "date":
      // <input type=date> gives YYYY-MM-DD; a typed-in value is checked the same way (valueCheck).
      return valueCheck(decl)(text) ? { value: text } : { error: "Enter a date (YYYY-MM-DD)." };
    case "code": {
      const r = readCode(decl.system, text);
      return r.error ? { error: r.error } : { value: r.code! };
    }
    case "enum":
      return decl.values.includes(text)
        ? { value: text }
        : { error: `Choose one of: ${decl.values.join(", ")}.` };
    case "set": {
      if (decl.system) {
        const out: string[] = [];
        for (const p of parts(text)) {
          const r = readCode(decl.system, p);
          if (r.error) return { error: r.error };
          if (!out.includes(r.code!)) out.push(r.code!);
        }
        return out.length ? { value: out } : {};
      }
      const chosen: string[] = [];
      for (const p of parts(text)) {
        if (!decl.values!.includes(p)) return { error: `“${p}” is not one of: ${decl.values!.join(", ")}.` };
        chosen.push(p);
      }
      return parseChoices(decl, chosen);
    }
    case "numbers": {
      const out: number[] = [];
      for (const p of parts(text)) {
        const n = readNumber(p);
        const bad =
          !Number.isFinite(n) ||
          (decl.min !== undefined && n < decl.min) ||
          (decl.max !== undefined && n > decl.max);
        if (bad)
          return { error: `Each value must be a number${rangeText(decl)}${unitText(decl)}: “${p}” is not.` };
        out.push(n);
      }
      return out.length ? { value: out } : {};
    }
  }
}

/** The ticked values of a set of values, in the declared order, each once. */
function parseChoices(decl: FactDecl, chosen: readonly string[]): ParsedFact {
  if (decl.type !== "set" || !decl.values) return { error: `Enter ${describeType(decl)}.` };
  for (const c of chosen)
    if (!decl.values.includes(c)) return { error: `“${c}” is not one of: ${decl.values.join(", ")}.` };
  const value = decl.values.filter((v) => chosen.includes(v));
  return value.length ? { value } : {};
}

/**
 * Reads the "how many" input of a set that also takes a count (`orCount`): a whole number from 0
 * (to the number of values, when the set lists them), as the model's check accepts it.
 */
export function parseFactCount(decl: FactDecl, raw: string): ParsedFact {
  if (decl.type !== "set" || !decl.orCount) return { error: "This fact takes no count." };
  const text = raw.trim();
  if (text === "") return {};
  const n = readNumber(text);
  const max = decl.values?.length;
  const range = max === undefined ? " of at least 0" : ` from 0 to ${max}`;
  if (!Number.isInteger(n) || n < 0 || (max !== undefined && n > max))
    return { error: `Enter how many, as a whole number${range}.` };
  return { value: n };
}

/** A stored value as its text input shows it (`80, 75` for a list). */
export function factText(decl: FactDecl, value: FactValue | undefined): string {
  if (value === undefined) return "";
  if (Array.isArray(value)) return value.join(", ");
  if (decl.type === "set") return ""; // a count: shown in the "how many" input
  return String(value);
}

/** What a fact's input takes, in a few words (the hint under it, which also carries the unit). */
function typeHint(d: FactDecl): string {
  const unit = (x: { unit?: string }) => (x.unit ? `, in ${x.unit}` : "");
  switch (d.type) {
    case "boolean":
      return "yes or no";
    case "number":
    case "integer":
      return `${numberOf(d)}${rangeText(d)}${unit(d)}`;
    case "date":
      return "a date (YYYY-MM-DD)";
    case "enum":
      return `one of ${d.values.length} values`;
    case "set":
      return d.values
        ? `tick all that apply${d.orCount ? ", or give how many" : ""}`
        : `${systemLabel(d.system!)} codes, comma-separated (e.g. ${CODE_SYSTEMS[d.system!]?.example})${
            d.orCount ? ", or how many" : ""
          }`;
    case "code":
      return `${systemLabel(d.system)} code (e.g. ${CODE_SYSTEMS[d.system]?.example})`;
    case "numbers":
      return `numbers, comma-separated${rangeText(d) ? `, each${rangeText(d)}` : ""}${unit(d)}`;
  }
}

/**
 * The facts declared by the loaded policy versions, by name, first declaration first (versions of one
 * request declare a shared fact alike: the library inherits declarations).
 */
export function declaredFacts(policies: ReadonlyMap<string, LoadedPolicy>): FactDecl[] {
  const out = new Map<string, FactDecl>();
  for (const p of policies.values())
    for (const d of p.ui.facts ?? []) if (!out.has(d.name)) out.set(d.name, d);
  return [...out.values()];
}

function same(a: FactValue | undefined, b: FactValue | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The facts form (`#facts`). */
export function factsPanel(p: ReviewPage): HTMLElement | null {
  const s = p.s;
  const decls = declaredFacts(s.policies);
  const saved = s.view.review!.case.facts ?? {};
  const declared = new Set(decls.map((d) => d.name));
  // Facts of the case no loaded version declares (its policy did not load): shown, not editable.
  const undeclared = Object.keys(saved).filter((n) => !declared.has(n));
  if (decls.length === 0 && undeclared.length === 0) return null;
  const editable = isOpen(s.view);
  const used = factsUsedBy(s.policies);
  // Drafts and errors stay where they were typed: a field never moves while the reviewer works on it.
  const shown = decls.filter((d) => used.has(d.name) || d.name in saved);
  const others = decls.filter((d) => !shown.includes(d));

  /**
   * Records what an input gave. A value becomes a draft (none when it equals the saved one); an error
   * is kept with the text as typed, and the fact's draft is dropped so the invalid value is neither
   * evaluated nor sent.
   */
  const record = (decl: FactDecl, r: ParsedFact, typed: Omit<FactError, "message">) => {
    const name = decl.name;
    delete s.factErrors[name];
    if (r.error) {
      s.factErrors[name] = { ...typed, message: r.error };
      delete s.factDraft[name];
      // Said once here: the error text itself is re-rendered with every change.
      p.app.announce(`${decl.description}: ${r.error}`);
    } else if (r.value === undefined) {
      // The API merges facts into the case: a saved fact can be changed, not withdrawn.
      if (name in saved)
        s.factErrors[name] = { ...typed, message: "A saved fact can be changed, not removed." };
      delete s.factDraft[name];
    } else if (same(r.value, saved[name])) delete s.factDraft[name];
    else s.factDraft[name] = r.value;
    // After the event: a change made by leaving the field (Tab) lets the focus move first, and the
    // re-render then keeps it on the next control.
    window.setTimeout(() => p.update(), 0);
  };

  /**
   * The change handler of a text-like input. A number or date input the browser could not read
   * (`badInput`: "1e", a half-typed date) reports an empty value: the element itself is kept and
   * moved into the next render, so what was typed stays on screen.
   */
  const onInput =
    (decl: FactDecl, part: "value" | "count") =>
    (ev: Event): void => {
      const el = ev.target as HTMLInputElement;
      if (el.validity?.badInput) {
        unreadable(decl, part, el);
        return;
      }
      const text = el.value;
      record(decl, part === "count" ? parseFactCount(decl, text) : parseFact(decl, text), { text, part });
    };
  /**
   * Leaving an input whose text the browser could not read: no change event comes when its value was
   * already empty ("" before, "" after), so the error is recorded here (once per element).
   */
  const onLeave =
    (decl: FactDecl, part: "value" | "count") =>
    (ev: Event): void => {
      const el = ev.target as HTMLInputElement;
      if (el.validity?.badInput && s.factErrors[decl.name]?.keep !== el) unreadable(decl, part, el);
    };
  const unreadable = (decl: FactDecl, part: "value" | "count", el: HTMLInputElement) => {
    const message =
      decl.type === "date"
        ? "Enter a date (YYYY-MM-DD)."
        : part === "count"
          ? "Enter how many."
          : "Enter a number.";
    record(decl, { error: message }, { text: "", part, keep: el });
  };

  const field = (decl: FactDecl): HTMLElement => {
    const name = decl.name;
    const id = `fact-${name}`;
    const value = name in s.factDraft ? s.factDraft[name] : saved[name];
    const isDraft = name in s.factDraft;
    const error = s.factErrors[name];
    const desc = h(
      "span",
      { class: "hint", id: `${id}-desc` },
      h("span", { class: "mono" }, name),
      ` · ${typeHint(decl)}`,
      isDraft ? " · unsaved" : name in saved ? " · saved" : "",
    );
    const err = error ? h("span", { class: "form-error", id: `${id}-error` }, error.message) : null;
    const described = `${id}-desc${error ? ` ${id}-error` : ""}`;
    const cls = `rv-fact rv-fact-${decl.type}${isDraft ? " is-draft" : ""}${error ? " has-error" : ""}`;
    const invalid = (part: "value" | "count") => error !== undefined && error.part === part;
    /** The attributes every text-like input shares; `part` says which of the fact's inputs it is. */
    const common = (part: "value" | "count", inputId: string) => ({
      id: inputId,
      name: inputId,
      "aria-describedby": described,
      ...(invalid(part) && { "aria-invalid": "true" }),
      ...(!editable && { disabled: true }),
      onchange: onInput(decl, part),
      onblur: onLeave(decl, part),
    });
    /** A code's text input: upper case as typed, never corrected or completed. */
    const codeInput = (inputId: string) => ({
      ...common("value", inputId),
      type: "text",
      class: "mono rv-code",
      autocapitalize: "characters",
      autocomplete: "off",
      spellcheck: "false",
    });
    /** The text an input shows: what was typed while it is in error, else the value. */
    const shownText = (part: "value" | "count", fromValue: string) =>
      invalid(part) ? error!.text : fromValue;
    /** An input kept from the last render (see `onInput`), refreshed; else `make()`. */
    const input = (part: "value" | "count", make: () => HTMLInputElement): HTMLInputElement => {
      const kept = invalid(part) ? error!.keep : undefined;
      if (!kept) return make();
      kept.setAttribute("aria-invalid", "true");
      kept.setAttribute("aria-describedby", described);
      return kept;
    };
    const range = (d: { min?: number; max?: number }) => ({
      ...(d.min !== undefined && { min: d.min }),
      ...(d.max !== undefined && { max: d.max }),
    });
    const unit = (d: { unit?: string }) =>
      d.unit ? h("span", { class: "rv-unit", "aria-hidden": "true" }, d.unit) : null;
    const withUnit = (control: HTMLElement, d: { unit?: string }) =>
      h("span", { class: "rv-input" }, control, unit(d));
    const box = (label: HTMLElement, ...controls: (HTMLElement | null)[]) =>
      h("div", { class: `field ${cls}`, "data-fact": name }, label, ...controls, desc, err);
    const group = (...controls: (HTMLElement | null)[]) =>
      h(
        "fieldset",
        { class: cls, "data-fact": name, "aria-describedby": described },
        h("legend", null, decl.description),
        ...controls,
        desc,
        err,
      );

    switch (decl.type) {
      case "boolean": {
        const opt = (v: "yes" | "no" | "unknown", text: string) =>
          h(
            "label",
            { class: `seg seg-${v}${v === "unknown" && name in saved ? " is-disabled" : ""}` },
            h("input", {
              type: "radio",
              name: id,
              id: `${id}-${v}`,
              value: v,
              checked: v === "unknown" ? value === undefined : value === (v === "yes"),
              // A saved fact can be changed but not withdrawn (the API merges facts into the case).
              disabled: !editable || (v === "unknown" && name in saved),
              onchange: () =>
                record(decl, v === "unknown" ? {} : { value: v === "yes" }, { text: v, part: "value" }),
            }),
            h("span", null, text),
          );
        return group(
          h("div", { class: "answer" }, opt("yes", "Yes"), opt("no", "No"), opt("unknown", "Unknown")),
        );
      }
      case "number":
      case "integer":
        return box(
          h("label", { for: id }, decl.description),
          withUnit(
            input("value", () =>
              h("input", {
                ...common("value", id),
                type: "number",
                step: decl.type === "integer" ? 1 : "any",
                inputmode: decl.type === "integer" ? "numeric" : "decimal",
                ...range(decl),
                value: shownText("value", typeof value === "number" ? String(value) : ""),
              }),
            ),
            decl,
          ),
        );
      case "date":
        return box(
          h("label", { for: id }, decl.description),
          input("value", () =>
            h("input", {
              ...common("value", id),
              type: "date",
              value: shownText("value", typeof value === "string" ? value : ""),
            }),
          ),
        );
      case "code":
        return box(
          h("label", { for: id }, `${decl.description} (${systemLabel(decl.system)})`),
          h("input", {
            ...codeInput(id),
            maxlength: 20,
            placeholder: CODE_SYSTEMS[decl.system]?.example,
            value: shownText("value", factText(decl, value)),
          }),
        );
      case "enum":
        return box(
          h("label", { for: id }, decl.description),
          h(
            "select",
            {
              id,
              name: id,
              "aria-describedby": described,
              ...(invalid("value") && { "aria-invalid": "true" }),
              ...(!editable && { disabled: true }),
              onchange: (ev: Event) => {
                const text = (ev.target as HTMLSelectElement).value;
                record(decl, parseFact(decl, text), { text, part: "value" });
              },
            },
            // "Unknown" cannot withdraw a saved value (the API merges facts into the case).
            h("option", { value: "", selected: value === undefined, disabled: name in saved }, "Unknown"),
            decl.values.map((v) => h("option", { value: v, selected: value === v }, v)),
          ),
        );
      case "numbers":
        return box(
          h("label", { for: id }, decl.description),
          withUnit(
            h("input", {
              ...common("value", id),
              type: "text",
              inputmode: "decimal",
              autocomplete: "off",
              placeholder: "e.g. 80, 75",
              value: shownText("value", factText(decl, value)),
            }),
            decl,
          ),
        );
      case "set": {
        const count = decl.orCount
          ? fieldWith(
              "rv-count",
              `${id}-count`,
              decl.values ? "How many (or tick which)" : "How many (or list which)",
              input("count", () =>
                h("input", {
                  ...common("count", `${id}-count`),
                  type: "number",
                  step: 1,
                  min: 0,
                  ...(decl.values && { max: decl.values.length }),
                  inputmode: "numeric",
                  value: shownText("count", typeof value === "number" ? String(value) : ""),
                }),
              ),
            )
          : null;
        if (decl.system) {
          return group(
            labelled(
              id,
              `${systemLabel(decl.system)} codes, comma-separated`,
              h("input", {
                ...codeInput(id),
                placeholder: `e.g. ${CODE_SYSTEMS[decl.system]?.example}`,
                value: shownText("value", factText(decl, value)),
              }),
            ),
            count,
          );
        }
        const values = decl.values!;
        const list = Array.isArray(value) ? value.map(String) : [];
        return group(
          count,
          h(
            "div",
            { class: "rv-options" },
            values.map((o, i) =>
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
                    const next = values.filter((x) => (x === o ? on : list.includes(x)));
                    // Nothing ticked: unknown, or (for a saved fact) "none of these" — a saved
                    // fact cannot be withdrawn.
                    const r = parseFact(decl, next);
                    record(decl, r.value === undefined && name in saved ? { value: [] } : r, {
                      text: "",
                      part: "value",
                    });
                  },
                }),
                ` ${o}`,
              ),
            ),
          ),
        );
      }
    }
  };

  const drafts = Object.keys(s.factDraft).length;
  const errors = Object.keys(s.factErrors).length;
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
      "Typed data that decides criteria (an answer always wins over a fact), as this request's policy declares them. Changes re-evaluate at once; save them to keep them.",
    ),
    shown.length
      ? h("div", { class: "rv-fact-grid" }, shown.map(field))
      : decls.length
        ? h("p", { class: "empty" }, "No fact decides a criterion of this request's policy.")
        : null,
    others.length ? othersBox : null,
    undeclared.length
      ? h(
          "div",
          { class: "rv-undeclared" },
          h(
            "p",
            { class: "muted small" },
            "Facts of the case that no loaded policy version declares (read only):",
          ),
          h(
            "ul",
            { class: "small" },
            undeclared.map((n) =>
              h("li", null, h("span", { class: "mono" }, n), ` = ${JSON.stringify(saved[n])}`),
            ),
          ),
        )
      : null,
    editable && (drafts > 0 || errors > 0)
      ? h(
          "div",
          { class: "actions" },
          errors > 0
            ? h(
                "p",
                { class: "form-error small", id: "facts-blocked" },
                `Correct ${errors === 1 ? "the fact" : `the ${errors} facts`} marked in red before saving.`,
              )
            : null,
          drafts > 0
            ? h(
                "button",
                {
                  type: "button",
                  class: "btn btn-primary",
                  id: "save-facts",
                  ...(errors > 0 && { disabled: true, "aria-describedby": "facts-blocked" }),
                  onclick: () => void p.save(),
                },
                `Save ${total} change${total === 1 ? "" : "s"}`,
              )
            : null,
        )
      : null,
  );
}
