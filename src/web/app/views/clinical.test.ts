/** Issue 14 review: a download's name comes from the declared type, never from the uploader's title. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { downloadName } from "./clinical.js";

test("download names: sanitized titles, the extension of the declared type", () => {
  assert.equal(downloadName("wean-log.txt", "text/plain"), "wean-log.txt");
  assert.equal(downloadName("../../run me.exe", "application/pdf"), "run me.pdf");
  assert.equal(downloadName("chart.html", "text/html"), "chart.html.txt");
  assert.equal(downloadName("<script>.svg", "image/png"), "script_.png");
  assert.equal(downloadName("...", "application/x-unknown"), "attachment.bin");
  assert.ok(downloadName("x".repeat(500), "application/pdf").length <= 84);
});
