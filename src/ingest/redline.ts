/**
 * Redlines (SPEC 1.4): a document with deletion marks (`~~…~~`, `<del>`, `<s>`, `<strike>`) holds two
 * versions. The prior one keeps deletions and drops insertions (`<u>`, `<ins>`); the proposed one drops
 * deletions and keeps insertions. Each line keeps its line number on both sides.
 */

export type Side = "prior" | "proposed";

const DELETION = /~~[^~\n]|<(?:del|s|strike)\b[^>]*>/i;

/** Whether the document carries redline marks. Underline alone is formatting, not a redline. */
export function hasRedline(text: string): boolean {
  return DELETION.test(text) || /<ins\b/i.test(text);
}

const TOKEN = /(~~|<del\b[^>]*>|<\/del>|<s>|<\/s>|<strike>|<\/strike>|<ins\b[^>]*>|<\/ins>|<u>|<\/u>)/gi;

const TOKEN_TEST = new RegExp(TOKEN.source, "i");

type Mark = "del" | "ins";

function tokenKind(tok: string): { mark: Mark; open?: boolean; toggle?: boolean } | undefined {
  const t = tok.toLowerCase();
  if (t === "~~") return { mark: "del", toggle: true };
  if (t.startsWith("</del") || t === "</s>" || t === "</strike>") return { mark: "del", open: false };
  if (t.startsWith("<del") || t === "<s>" || t === "<strike>") return { mark: "del", open: true };
  if (t.startsWith("</ins") || t === "</u>") return { mark: "ins", open: false };
  if (t.startsWith("<ins") || t === "<u>") return { mark: "ins", open: true };
  return undefined;
}

const LABEL_TOKEN = "(?:[A-Za-z]{1,4}|\\d{1,3})";
/** `~~g.f.~~ Further…`: the struck span holds the old label and the new one run together. */
const LABEL_PAIR = new RegExp(`^\\s*(${LABEL_TOKEN})[.)]\\s*(${LABEL_TOKEN})[.)]\\s*$`);

interface State {
  del: boolean;
  ins: boolean;
}

/** A table row whose first cell is wholly inserted (or deleted) belongs to that side as a whole row. */
function wholeRowMark(line: string): Mark | undefined {
  if (!line.includes("\t")) return undefined;
  const first = line.split("\t")[0]?.trim() ?? "";
  const m = /^(~~|<(?:del|ins|u|s|strike)\b[^>]*>)([\s\S]*?)(~~|<\/(?:del|ins|u|s|strike)>)$/i.exec(first);
  if (!m) return undefined;
  if (TOKEN_TEST.test(m[2] as string)) return undefined;
  return tokenKind(m[1] as string)?.mark;
}

function sideOfLine(line: string, side: Side, st: State): string {
  const whole = wholeRowMark(line);
  if (whole === "ins") return side === "prior" ? "" : line.replace(TOKEN, "");
  if (whole === "del") return side === "proposed" ? "" : line.replace(TOKEN, "");
  const parts = line.split(TOKEN);
  let out = "";
  let atItemStart = true;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    if (i % 2 === 1) {
      const k = tokenKind(part);
      if (!k) continue;
      if (k.mark === "del") st.del = k.toggle ? !st.del : (k.open ?? false);
      else st.ins = k.open ?? false;
      continue;
    }
    if (part === "") continue;
    if (st.del && atItemStart && !st.ins) {
      const pair = LABEL_PAIR.exec(part);
      if (pair) {
        out += `${side === "prior" ? pair[1] : pair[2]}. `;
        atItemStart = false;
        continue;
      }
    }
    const keep = st.del ? side === "prior" : st.ins ? side === "proposed" : true;
    if (keep) out += part;
    if (/\S/.test(part) && !/^\s*(?:[-*+•]\s*)?$/.test(part)) atItemStart = false;
  }
  return out;
}

/**
 * The text of one side of a redline document. Marks left open at the end of a paragraph are closed
 * there, so that one stray mark cannot strike the rest of the document.
 */
export function sideText(lines: readonly string[], side: Side): string[] {
  const st: State = { del: false, ins: false };
  return lines.map((line) => {
    if (line.trim() === "") {
      st.del = false;
      st.ins = false;
      return line;
    }
    return sideOfLine(line, side, st);
  });
}
