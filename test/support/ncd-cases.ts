/**
 * The member, date of service and answers the issue 15 acceptance tests decide the CMS NCDs with
 * (test/fixtures/ncd-authoring/): one place, so the CLI and the API tests send the same cases.
 */

/** A Medicare member in Texas. */
export const member = { state: "TX", birthDate: "1955-04-02", lineOfBusiness: "medicare" };
/** The date of service of every case. */
export const dos = "2026-03-02";
/** NCD 30.3.3 (acupuncture): every criterion of section B but those facts decide (B.1.a, B.1.d). */
export const ACUPUNCTURE_ANSWERS = {
  "B.1.b": true,
  "B.1.c": true,
  "B.2": true,
  "B.3": true,
  "B.4": true,
  "B-p1": true,
  "B-p2": true,
};
