/**
 * The clinical picture of a request (issue 14: what a UM file holds): the member (name, id, birth
 * date and age, address, line of business), the service, the diagnoses (ICD-10-CM), the requesting
 * and servicing providers with their NPI, and the attached documents (PAS or uploaded), downloadable.
 * Everything is set as text (`h`), never parsed as HTML.
 */
import {
  type AddressJson,
  ApiError,
  type Attachment,
  getAttachment,
  getRequest,
  type ProviderJson,
  postAttachment,
} from "../api.js";
import { h } from "../dom.js";
import { dateTime, day } from "../format.js";
import { isOpen, type ReviewPage } from "./review-state.js";

const LOB: Record<string, string> = {
  medicaid: "Medicaid",
  medicare: "Medicare Advantage",
  marketplace: "Marketplace",
  commercial: "Commercial",
};

/** Whole years from `birth` to `on` (both `YYYY-MM-DD`), as on a birthday. */
export function ageOn(birth: string, on: string): number | undefined {
  const b = /^(\d{4})-(\d{2})-(\d{2})$/.exec(birth);
  const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(on);
  if (!b || !d) return undefined;
  let age = Number(d[1]) - Number(b[1]);
  if (d[2]! < b[2]! || (d[2] === b[2] && d[3]! < b[3]!)) age--;
  return age;
}

function address(a: AddressJson | undefined): HTMLElement | string {
  if (!a) return "—";
  return h(
    "address",
    { class: "rv-address" },
    a.lines.map((l) => [l, h("br")]),
    `${a.city}, ${a.state} ${a.postalCode}`,
  );
}

function providerBlock(title: string, p: ProviderJson | undefined, id: string): HTMLElement {
  return h(
    "div",
    { class: "rv-provider", id },
    h("h4", null, title),
    p
      ? h(
          "dl",
          { class: "kv" },
          h("dt", null, "Name"),
          h("dd", null, p.name ?? "—"),
          h("dt", null, "NPI"),
          h("dd", { class: "mono", "data-npi": p.npi }, p.npi),
          h("dt", null, "Address"),
          h("dd", null, address(p.address)),
          p.phone
            ? [h("dt", null, "Phone"), h("dd", null, h("a", { href: `tel:${p.phone}` }, p.phone))]
            : null,
        )
      : h("p", { class: "empty" }, "Not given."),
  );
}

/** `12 KB`, `1.4 MB`. */
export function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** The file extension a download gets for its declared type (the title's own extension is not trusted). */
const EXTENSION: Record<string, string> = {
  "application/pdf": "pdf",
  "image/png": "png",
  "image/jpeg": "jpg",
  "image/tiff": "tif",
  "image/gif": "gif",
  "text/plain": "txt",
  "text/html": "html.txt",
  "application/xml": "xml",
  "text/xml": "xml",
  "application/json": "json",
  "application/dicom": "dcm",
};

/**
 * A download's file name from an uploader's title (issue 14 review): letters, digits, spaces, dots,
 * dashes and underscores only, at most 80 characters, and the extension of its declared type — so a
 * title cannot choose an executable or an HTML extension. HTML documents download as text.
 */
export function downloadName(title: string, contentType: string): string {
  const base =
    title
      .replace(/\.[A-Za-z0-9]{1,8}$/, "")
      .replace(/[^A-Za-z0-9 ._-]+/g, "_")
      .replace(/^[ ._-]+/, "")
      .slice(0, 80)
      .trim() || "attachment";
  return `${base}.${EXTENSION[contentType] ?? "bin"}`;
}

/** Downloads an attachment with the session's token (a plain link would carry none). */
async function download(p: ReviewPage, a: Attachment): Promise<void> {
  try {
    const blob = await getAttachment(a.url);
    // An HTML document is handed over as text: never rendered from the app's origin.
    const safe = a.contentType === "text/html" ? new Blob([blob], { type: "text/plain" }) : blob;
    const url = URL.createObjectURL(safe);
    const link = h("a", { href: url, download: downloadName(a.title, a.contentType) });
    document.body.appendChild(link);
    link.click();
    link.remove();
    window.setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } catch (err) {
    p.s.sideNotice = {
      where: "attach",
      kind: "error",
      text: err instanceof ApiError ? err.message : String(err),
    };
    p.draw();
  }
}

/** The data of a file as base64, in chunks (a 5 MB file would overflow `String.fromCharCode(...all)`). */
async function base64Of(file: File): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000)
    bin += String.fromCharCode(...bytes.subarray(i, Math.min(bytes.length, i + 0x8000)));
  return btoa(bin);
}

const MAX_UPLOAD = 5 * 1024 * 1024;

function uploadForm(p: ReviewPage): HTMLElement {
  const file = h("input", { type: "file", id: "attach-file", name: "file", required: true });
  const title = h("input", { type: "text", id: "attach-title", name: "title", maxlength: 200 });
  const form: HTMLFormElement = h(
    "form",
    {
      class: "rv-upload",
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        const f = file.files?.[0];
        const say = (kind: "ok" | "error", text: string) => {
          p.s.sideNotice = { where: "attach", kind, text };
        };
        const refuse = (text: string) => {
          say("error", text);
          p.draw();
          document.getElementById("attach-file")?.focus();
        };
        if (!f) return refuse("Choose a file to attach.");
        if (f.size > MAX_UPLOAD) return refuse("The file is larger than 5 MB.");
        const button = form.querySelector("button");
        if (button) button.disabled = true;
        try {
          await postAttachment(p.s.view.id, {
            title: title.value.trim() || f.name,
            contentType: f.type || "application/octet-stream",
            data: await base64Of(f),
          });
          say("ok", `Attached “${title.value.trim() || f.name}”.`);
          await p.reload(await getRequest(p.s.view.id), { keepDrafts: true });
        } catch (err) {
          say("error", err instanceof ApiError ? err.message : String(err));
          p.draw();
        }
      },
    },
    h("div", { class: "field" }, h("label", { for: "attach-file" }, "Document (at most 5 MB)"), file),
    h("div", { class: "field" }, h("label", { for: "attach-title" }, "Title (optional)"), title),
    h("button", { type: "submit", class: "btn" }, "Attach"),
  );
  return form;
}

function attachments(p: ReviewPage): HTMLElement {
  const list = p.s.view.review!.attachments ?? [];
  const n = p.s.sideNotice?.where === "attach" ? p.s.sideNotice : undefined;
  return h(
    "div",
    { class: "rv-attachments", id: "attachments" },
    h("h3", null, "Attachments"),
    list.length === 0
      ? h("p", { class: "empty" }, "No documents attached.")
      : h(
          "ul",
          { class: "rv-files" },
          list.map((a) =>
            h(
              "li",
              { "data-id": a.id },
              h(
                "a",
                {
                  href: a.url,
                  download: a.title,
                  onclick: (ev: Event) => {
                    ev.preventDefault();
                    void download(p, a);
                  },
                },
                a.title,
              ),
              h(
                "span",
                { class: "muted small" },
                ` ${a.contentType} · ${size(a.size)} · ${a.source === "pas" ? "from PAS" : "uploaded"} ${dateTime(a.addedAt)}`,
              ),
            ),
          ),
        ),
    n
      ? h("p", { class: `notice notice-${n.kind}`, role: n.kind === "error" ? "alert" : "status" }, n.text)
      : null,
    isOpen(p.s.view)
      ? h("details", { class: "rv-attach-more" }, h("summary", null, "Attach a document"), uploadForm(p))
      : null,
  );
}

/** The clinical picture panel (replaces the bare case summary). */
export function clinicalPanel(p: ReviewPage): HTMLElement {
  const v = p.s.view;
  const c = v.review!.case;
  const m = c.member;
  const age = m.birthDate ? ageOn(m.birthDate, c.service.dateOfService) : m.age;
  const rows: [string, Node | string][] = [
    ["Name", m.name ?? "—"],
    ["Member id", m.id ? h("span", { class: "mono" }, m.id) : "—"],
    [
      "Birth date",
      m.birthDate
        ? `${day(m.birthDate)}${age !== undefined ? ` (age ${age} on the date of service)` : ""}`
        : age !== undefined
          ? `age ${age}`
          : "—",
    ],
    ["Address", address(m.address)],
    ["State", m.state],
    ["Line of business", m.lineOfBusiness ? (LOB[m.lineOfBusiness] ?? m.lineOfBusiness) : "—"],
  ];
  const service: [string, Node | string][] = [
    ["Codes", h("span", { class: "mono" }, c.service.codes.join(", "))],
    ["Date of service", day(c.service.dateOfService)],
    ...(c.service.drug ? ([["Drug", c.service.drug]] as [string, string][]) : []),
    ["Organization", v.review!.org],
  ];
  const kv = (rs: [string, Node | string][], id: string) =>
    h(
      "dl",
      { class: "kv", id },
      rs.map(([k, val]) => [h("dt", null, k), h("dd", null, val)]),
    );
  const dx = c.diagnoses ?? [];
  return h(
    "section",
    { class: "panel case rv-clinical", "aria-labelledby": "case-h" },
    h("h2", { id: "case-h" }, "Clinical picture"),
    h("h3", null, "Member"),
    kv(rows, "member"),
    h("h3", null, "Service"),
    kv(service, "service"),
    h("h3", null, "Diagnoses"),
    dx.length === 0
      ? h("p", { class: "empty" }, "No diagnosis given.")
      : h(
          "ol",
          { class: "rv-dx", id: "diagnoses" },
          dx.map((d, i) =>
            h(
              "li",
              { "data-code": d.code },
              h("span", { class: "mono" }, d.code),
              " ",
              d.display ?? "",
              i === 0 ? h("span", { class: "chip rv-primary" }, "primary") : null,
            ),
          ),
        ),
    h("h3", null, "Providers"),
    h(
      "div",
      { class: "rv-providers" },
      providerBlock("Requesting", c.providers?.requesting, "provider-requesting"),
      providerBlock("Servicing", c.providers?.servicing, "provider-servicing"),
    ),
    attachments(p),
  );
}
