/**
 * PAS 2.2.1 Claim Update (review of issue 16): supporting information flagged
 * `modifierextension-infoCancelled` is no longer used — its document is not stored with the request.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Bundle, Claim } from "@medplum/fhirtypes";
import { ResourceIndex } from "./common.js";
import { claimAttachments, infoCancelled, PAS_EXT } from "./pas.js";

const attachment = (title: string) => ({
  contentType: "text/plain",
  title,
  data: Buffer.from(`${title} text`).toString("base64"),
});

describe("cancelled supporting information", () => {
  test("a flagged supportingInfo entry is not stored; the others are", () => {
    const claim = {
      resourceType: "Claim",
      supportingInfo: [
        { sequence: 1, category: { text: "a" }, valueAttachment: attachment("kept note") },
        {
          sequence: 2,
          category: { text: "b" },
          modifierExtension: [{ url: PAS_EXT.infoCancelled, valueBoolean: true }],
          valueAttachment: attachment("withdrawn note"),
        },
      ],
    } as unknown as Claim;
    const bundle: Bundle = { resourceType: "Bundle", type: "collection", entry: [{ resource: claim }] };
    const { attachments } = claimAttachments(
      claim,
      bundle,
      "Bundle.entry[0].resource",
      new ResourceIndex(),
      [],
    );
    assert.deepEqual(
      attachments.map((a) => a.title),
      ["kept note"],
    );
    assert.equal(infoCancelled(claim.supportingInfo?.[1]), true);
    assert.equal(
      infoCancelled({ modifierExtension: [{ url: PAS_EXT.infoCancelled, valueBoolean: false }] }),
      false,
    );
    assert.equal(infoCancelled(null), false);
  });
});
