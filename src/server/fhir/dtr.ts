/**
 * Da Vinci Documentation Templates and Rules (DTR) on the same engine (SPEC 4): the Questionnaire of
 * each policy section (`src/explain/questionnaire.ts`), `Questionnaire/$questionnaire-package`, and an
 * adaptive `Questionnaire/$next-question` (SDC adaptive forms) that asks only what the engine's
 * `needed` says can still change the outcome, most decisive first (SPEC 2.2).
 *
 * `$questionnaire-package` (DTR 2.0.1) takes Parameters with `coverage`, `order` (the orders CRD was
 * asked about) and/or `questionnaire` (the canonical CRD returned), and — a medpolicy addition —
 * `patient` and `patientData` (resources or Bundles of the patient's record) for pre-population. It
 * returns Parameters with one `PackageBundle` per Questionnaire: the standard Questionnaire, and a
 * pre-populated QuestionnaireResponse for its adaptive form (contained adaptive Questionnaire,
 * `derivedFrom` the standard one) to pass to `$next-question`.
 *
 * The response carries what the adaptive session needs between calls as extensions: the date of
 * service and the pre-populated facts (SPEC 2.3). Answers are `valueBoolean` at linkId = criterion id.
 *
 * Issue 16 (DTR 2.0.1 to the letter): canonicals are `<publicBaseUrl>/fhir/Questionnaire/<id>` and
 * resolve here (read, and search by `url`); every Questionnaire handed out carries SDC population logic
 * in FHIRPath generated from the version's declared facts (`dtr-population.ts`) and a narrative; the
 * `referenced` input is read; an empty package still answers a PackageBundle; `ValueSet/$expand`
 * (`dtr-valueset.ts`) and `Questionnaire/$log-questionnaire-errors` are served.
 */
import { randomUUID } from "node:crypto";
import type {
  Bundle,
  Coverage,
  Extension,
  OperationOutcome,
  Parameters,
  ParametersParameter,
  Patient,
  Questionnaire,
  QuestionnaireItem,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
  Reference,
  Resource,
} from "@medplum/fhirtypes";
import type { FastifyInstance } from "fastify";
import { evaluateSection } from "../../evaluate/index.js";
import {
  answersFromResponse,
  FACT_LINK_PREFIX,
  FACTS_GROUP_LINK_ID,
  parseQuestionnaireRef,
  questionnaireBase,
  questionnaireNarrative,
  type RenderedQuestionnaire,
  renderQuestionnaire,
} from "../../explain/questionnaire.js";
import { type Library, type LibraryEntry, uncheckedLists } from "../../library/index.js";
import { type Facts, factsSchema, InputError, NotFoundError } from "../../model/index.js";
import type { ServerContext } from "../index.js";
import {
  FhirError,
  invalid,
  isObject,
  isResource,
  MEDPOLICY_FHIR,
  memberFromPatient,
  type Operations,
  operationOutcome,
  publicBaseUrl,
  ResourceIndex,
  sendFhir,
  typeIdOf,
} from "./common.js";
import { assessCodes, ordersOfResources } from "./crd.js";
import { factsFromResponse, factsOf, populationExtensions, withPopulation } from "./dtr-population.js";
import { registerValueSets } from "./dtr-valueset.js";
import { prepopulate } from "./prepopulate.js";
import { validateResource } from "./validate.js";

export const FACTS_EXTENSION = `${MEDPOLICY_FHIR}/StructureDefinition/facts`;
export const DATE_OF_SERVICE_EXTENSION = `${MEDPOLICY_FHIR}/StructureDefinition/date-of-service`;
export const OUTCOME_EXTENSION = `${MEDPOLICY_FHIR}/StructureDefinition/documentation-outcome`;
const INFORMATION_ORIGIN = "http://hl7.org/fhir/us/davinci-dtr/StructureDefinition/information-origin";
const ADAPTIVE = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-questionnaireAdaptive";
const ADAPTIVE_ID = "adaptive";
/** DTR 2.0.1 profiles the service's answers claim (issue 16: validated against the IG package). */
export const DTR_STD_QUESTIONNAIRE =
  "http://hl7.org/fhir/us/davinci-dtr/StructureDefinition/dtr-std-questionnaire";
export const DTR_ADAPTIVE_QUESTIONNAIRE =
  "http://hl7.org/fhir/us/davinci-dtr/StructureDefinition/dtr-questionnaire-adapt";
export const DTR_PACKAGE_OUTPUT =
  "http://hl7.org/fhir/us/davinci-dtr/StructureDefinition/dtr-qpackage-output-parameters";
const DTR_PACKAGE_BUNDLE = "http://hl7.org/fhir/us/davinci-dtr/StructureDefinition/DTR-QPackageBundle";
/**
 * The name of `$questionnaire-package`'s OperationOutcome output: the DTR 2.0.1 OperationDefinition's
 * (`outcome`, 0..1). The output Parameters profile's slice says `operationOutcome`; its slicing is open,
 * so `outcome` validates against it too.
 */
export const PACKAGE_OUTCOME_PARAMETER = "outcome";
/**
 * The Questionnaire of an empty package (issue 16): the output profile requires a PackageBundle (1..*)
 * whose first entry is a Questionnaire (dtrb-1), so "nothing to document" is itself a form — one
 * display item — served at `<base>/fhir/Questionnaire/no-documentation-required`.
 */
export const NO_DOCUMENTATION_ID = "no-documentation-required";

/** Where the service's canonicals live (DTR options shared by the operations). */
export interface DtrOptions {
  /** The public base URL of this server (`publicBaseUrl`), without `/fhir`. */
  baseUrl?: string;
}

/**
 * The Questionnaire as the service hands it out (issue 16, DTR 2.0.1 Standard Questionnaire): the
 * rendered criteria with its canonical on this server, the population logic generated from the
 * version's declared facts (launchContext, variables, one `fact:` item per fact with its
 * initialExpression) and the narrative of the whole.
 */
export function servedQuestionnaire(
  entry: LibraryEntry,
  section: string | undefined,
  o: DtrOptions = {},
): RenderedQuestionnaire {
  const baseUrl = o.baseUrl ?? publicBaseUrl({});
  const rendered = renderQuestionnaire(entry, section, { baseUrl });
  const id = entry.policy.identity;
  const q = withPopulation(rendered.questionnaire, factsOf(entry.vocabulary), {
    baseUrl,
    policyId: id.id,
    version: id.version,
  });
  q.meta = { profile: [DTR_STD_QUESTIONNAIRE] };
  q.text = questionnaireNarrative(q);
  return { ...rendered, questionnaire: q };
}

/** The form of an empty package: nothing to document for the orders given. */
export function noDocumentationQuestionnaire(o: DtrOptions = {}): Questionnaire {
  const q: Questionnaire = {
    resourceType: "Questionnaire",
    id: NO_DOCUMENTATION_ID,
    meta: { profile: [DTR_STD_QUESTIONNAIRE] },
    url: questionnaireBase(o.baseUrl ?? publicBaseUrl({})) + NO_DOCUMENTATION_ID,
    version: "1",
    name: "NoDocumentationRequired",
    title: "No documentation required",
    status: "active",
    subjectType: ["Patient"],
    publisher: "medpolicy",
    description:
      "No policy of this payer's library requires documentation for the orders or questionnaires given; the package's outcome says why for each.",
    item: [
      {
        linkId: "none",
        type: "display",
        text: "No documentation is required by this payer for these orders.",
      },
    ],
  };
  q.text = questionnaireNarrative(q);
  return q;
}

/**
 * The canonical of the standard Questionnaire a response answers: its `questionnaire`, or for an
 * adaptive response (`#id` of a contained Questionnaire) that one's `derivedFrom`/`url`.
 */
export function adaptiveSource(qr: QuestionnaireResponse): string | undefined {
  const q = qr.questionnaire;
  if (typeof q !== "string") return undefined;
  if (!q.startsWith("#")) return q;
  const contained = (qr.contained ?? []).find(
    (r) => isResource<Questionnaire>(r, "Questionnaire") && r.id === q.slice(1),
  ) as Questionnaire | undefined;
  return contained?.derivedFrom?.[0] ?? contained?.url;
}

/** Loads the library entry and section a Questionnaire canonical names; 404 when unknown. */
export function entryForCanonical(
  lib: Library,
  canonical: string,
): { entry: LibraryEntry; section?: string } {
  const ref = parseQuestionnaireRef(canonical);
  if (!ref) throw new FhirError(404, "not-found", `${canonical} is not a Questionnaire of this service`);
  // An unpublished draft has no questionnaire for EHRs (issue 15 review): 404 as for an unknown one.
  const entry = lib.get(`${ref.policy}@${ref.version}`, undefined, { approvedOnly: true });
  return { entry, ...(ref.section !== undefined && { section: ref.section }) };
}

function originAuto(): Extension {
  return { url: INFORMATION_ORIGIN, extension: [{ url: "source", valueCode: "auto" }] };
}

/**
 * The contained adaptive Questionnaire (DTR 2.0.1 Adaptive Questionnaire profile): what has been asked
 * so far, `derivedFrom` the standard form, with its narrative and the same launch contexts and
 * variables as the standard form (issue 16). Its items are the engine's yes/no questions; the facts
 * the record gives travel in the response's facts extension, pre-populated by the service.
 */
/**
 * The items with every linkId once across all levels (R4 que-2), the first kept: a response that
 * answers a question twice must not make the adaptive form repeat it (found by the fuzz suite's IG
 * check, issue 16).
 */
function uniqueLinkIds(items: readonly QuestionnaireItem[], seen = new Set<string>()): QuestionnaireItem[] {
  const out: QuestionnaireItem[] = [];
  for (const it of items) {
    if (seen.has(it.linkId)) continue;
    seen.add(it.linkId);
    out.push(it.item ? { ...it, item: uniqueLinkIds(it.item, seen) } : it);
  }
  return out;
}

function adaptiveQuestionnaire(
  std: Questionnaire,
  asked: QuestionnaireItem[],
  entry: LibraryEntry,
): Questionnaire {
  const items = uniqueLinkIds(asked);
  const q: Questionnaire = {
    resourceType: "Questionnaire",
    id: ADAPTIVE_ID,
    meta: { profile: [DTR_ADAPTIVE_QUESTIONNAIRE] },
    extension: [{ url: ADAPTIVE, valueBoolean: true }, ...populationExtensions(factsOf(entry.vocabulary))],
    ...(std.version && { version: std.version }),
    ...(std.title && { title: std.title }),
    derivedFrom: [std.url!],
    status: "active",
    subjectType: ["Patient"],
    ...(items.length > 0 && { item: items }),
  };
  q.text = questionnaireNarrative(q);
  return q;
}

/** The standard form's group of fact items (its text and linkId), when it has one. */
function factGroupOf(std: Questionnaire): QuestionnaireItem | undefined {
  return (std.item ?? []).find((i) => i.linkId === FACTS_GROUP_LINK_ID);
}

const askItem = (r: RenderedQuestionnaire, linkId: string): QuestionnaireItem => ({
  linkId,
  type: "boolean",
  text: r.questions.get(linkId)?.itemText ?? linkId,
});

/** Facts and date of service an adaptive response carries (validated: SPEC 2.3 vocabulary). */
export function sessionOf(qr: QuestionnaireResponse, today: string): { facts: Facts; dateOfService: string } {
  const ext = qr.extension ?? [];
  const raw = ext.find((e) => e?.url === FACTS_EXTENSION)?.valueString;
  let facts: Facts = {};
  if (raw !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new InputError("the facts extension is not JSON", { field: "QuestionnaireResponse.extension" });
    }
    const r = factsSchema.safeParse(parsed);
    if (!r.success) {
      const i = r.error.issues[0]!;
      throw new InputError(`facts.${i.path.join(".")}: ${i.message}`, {
        field: "QuestionnaireResponse.extension",
      });
    }
    facts = r.data;
  }
  const dos = ext.find((e) => e?.url === DATE_OF_SERVICE_EXTENSION)?.valueDate;
  const dateOfService = typeof dos === "string" && /^\d{4}-\d{2}-\d{2}$/.test(dos) ? dos : today;
  return { facts, dateOfService };
}

/** Where an adaptive session stands after the answers so far. */
export interface NextStep {
  outcome: "approved" | "review" | "denied" | "pended";
  /** linkIds to ask next (most decisive first). */
  next: string[];
  /** Every linkId the engine still needs. */
  needed: string[];
}

/** The engine's next step for a section's answers (SPEC 2.2 `needed`, as linkIds of the form). */
export function nextStep(
  entry: LibraryEntry,
  rendered: RenderedQuestionnaire,
  section: string,
  answers: Record<string, boolean>,
  session: { facts: Facts; dateOfService: string },
  max: number,
): NextStep {
  const r = evaluateSection(entry.compiled(), section, {
    answers,
    facts: session.facts,
    dateOfService: session.dateOfService,
  });
  const needed: string[] = [];
  for (const n of r.needed) {
    const linkId = rendered.linkIdOf.get(n.criterion);
    if (linkId !== undefined && answers[linkId] === undefined && !needed.includes(linkId))
      needed.push(linkId);
  }
  return { outcome: r.outcome, next: needed.slice(0, max), needed };
}

function outcomeExtension(
  step: NextStep,
  entry: LibraryEntry,
  section: string,
): { ext: Extension; text: string } {
  const id = entry.policy.identity;
  // SPEC 2.4: the provider-facing answer is never a final adverse decision; anything but "met" goes to review.
  const met = step.outcome === "approved";
  const text = met
    ? `Every criterion of ${id.id} version ${id.version} section ${section} is met by these answers: submit the prior authorization request (Claim/$submit with this QuestionnaireResponse).`
    : `These answers do not establish every criterion of ${id.id} version ${id.version} section ${section}: when the request is submitted it is pended for a clinical reviewer, who decides.`;
  return {
    text,
    ext: {
      url: OUTCOME_EXTENSION,
      valueCodeableConcept: {
        coding: [
          {
            system: `${MEDPOLICY_FHIR}/CodeSystem/documentation-outcome`,
            code: met ? "criteria-met" : "review-required",
          },
        ],
        text,
      },
    },
  };
}

/**
 * SDC `$next-question`: returns `qr` with the next question(s) added to its contained adaptive
 * Questionnaire — only those the engine still needs, most decisive first — or, when the answers
 * decide the section, completed with the outcome (as a provider may see it, SPEC 2.4).
 */
export function nextQuestion(
  lib: Library,
  input: QuestionnaireResponse,
  o: { today: string; now: string; max?: number } & DtrOptions,
): QuestionnaireResponse {
  const { today, now, max = 1 } = o;
  const source = adaptiveSource(input);
  if (!source)
    throw invalid(
      "QuestionnaireResponse.questionnaire must name a Questionnaire",
      "QuestionnaireResponse.questionnaire",
    );
  const { entry, section } = entryForCanonical(lib, source);
  if (!section)
    throw invalid(
      `${source} covers every section; an adaptive session is per section`,
      "QuestionnaireResponse.questionnaire",
    );
  const rendered = servedQuestionnaire(entry, section, o);
  const answers = answersFromResponse(input, rendered.questions);
  const session = sessionOf(input, today);
  // Facts the clinician answered in `fact:` items (issue 16) stand over the pre-populated ones.
  Object.assign(session.facts, factsFromResponse(input, entry.vocabulary));
  entry.factCheck.check(session.facts); // issue 15: the version's vocabulary types the facts (400)
  const step = nextStep(entry, rendered, section, answers, session, max);

  const std = rendered.questionnaire;
  const previous =
    (
      (input.contained ?? []).find(
        (r) => isResource<Questionnaire>(r, "Questionnaire") && `#${r.id}` === input.questionnaire,
      ) as Questionnaire | undefined
    )?.item ?? [];
  // Keep what was asked and answered (in the order asked); drop unanswered questions no longer needed.
  const asked = previous.map((i) => i.linkId).filter((l) => answers[l] !== undefined);
  for (const l of Object.keys(answers)) if (!asked.includes(l)) asked.push(l);
  const done = step.outcome !== "pended" || step.next.length === 0;
  const items = [...asked, ...(done ? [] : step.next)].map((l) => askItem(rendered, l));
  // Facts the DTR app populated (from the standard form's initialExpressions) and sent in `fact:`
  // items stay questions of the adaptive form, so that the response answers only what it asks.
  const answeredFacts = new Set(Object.keys(factsFromResponse(input, entry.vocabulary)));
  const factItems = (std.item ?? [])
    .filter((i) => i.linkId === FACTS_GROUP_LINK_ID)
    .flatMap((g) => g.item ?? [])
    .filter((i) => answeredFacts.has(i.linkId.slice(FACT_LINK_PREFIX.length)));
  if (factItems.length > 0) items.push({ ...factGroupOf(std)!, item: factItems });
  const extension = (input.extension ?? []).filter((e) => e?.url !== OUTCOME_EXTENSION);
  if (done) {
    const o = outcomeExtension(step, entry, section);
    items.push({ linkId: "outcome", type: "display", text: o.text });
    extension.push(o.ext);
  }
  const others = (input.contained ?? []).filter(
    (r) => !(isResource(r, "Questionnaire") && r.id === ADAPTIVE_ID),
  );
  const out: QuestionnaireResponse = {
    ...input,
    resourceType: "QuestionnaireResponse",
    contained: [...others, adaptiveQuestionnaire(std, items, entry)],
    questionnaire: `#${ADAPTIVE_ID}`,
    status: done ? "completed" : "in-progress",
    ...(extension.length > 0 && { extension }),
    authored: now,
  };
  if (!out.id) out.id = randomUUID();
  return out;
}

/** The pre-populated adaptive QuestionnaireResponse a package starts the session with. */
export function initialResponse(
  rendered: RenderedQuestionnaire,
  pre: ReturnType<typeof prepopulate>,
  o: { dateOfService: string; subject?: Reference; now: string; entry: LibraryEntry },
): QuestionnaireResponse {
  const answered = Object.keys(pre.answers);
  const extension: Extension[] = [{ url: DATE_OF_SERVICE_EXTENSION, valueDate: o.dateOfService }];
  if (Object.keys(pre.facts).length > 0)
    extension.push({ url: FACTS_EXTENSION, valueString: JSON.stringify(pre.facts) });
  const item: QuestionnaireResponseItem[] = answered.map((linkId) => ({
    linkId,
    text: rendered.questions.get(linkId)?.itemText ?? linkId,
    answer: [{ valueBoolean: pre.answers[linkId]!, extension: [originAuto()] }],
  }));
  return {
    resourceType: "QuestionnaireResponse",
    id: randomUUID(),
    contained: [
      adaptiveQuestionnaire(
        rendered.questionnaire,
        answered.map((l) => askItem(rendered, l)),
        o.entry,
      ),
    ],
    extension,
    questionnaire: `#${ADAPTIVE_ID}`,
    status: "in-progress",
    ...(o.subject && { subject: o.subject }),
    authored: o.now,
    ...(item.length > 0 && { item }),
  };
}

function paramResources(p: Parameters, name: string, index?: ResourceIndex): Resource[] {
  const out: Resource[] = [];
  for (const x of p.parameter ?? []) {
    if (x?.name !== name) continue;
    if (isResource(x.resource)) out.push(x.resource as Resource);
    // Issue 16: an order or coverage given by reference to a `referenced` (or patientData) resource.
    else if (index && isObject(x.valueReference)) {
      const r = index.resolve(x.valueReference);
      if (r) out.push(r);
    }
  }
  return out;
}

/** Options of {@link questionnairePackage}. */
export interface PackageOptions extends DtrOptions {
  /**
   * When this process first served the package of Questionnaire `canonical` of `entry` (an ISO
   * instant; recorded now if never): nothing in it changed after — a version's Questionnaire is
   * generated from the immutable entry by this code, and a library reload makes new entries. Absent:
   * `changedsince` is answered as if everything had changed.
   */
  servedSince?: (entry: LibraryEntry, canonical: string) => string;
}

/**
 * The `changedsince` input (DTR 2.0.1: a dateTime) as milliseconds since the epoch; undefined when
 * absent. A partial dateTime (a year, a month, a day) is its first instant, in UTC without a zone.
 */
function changedSince(body: Parameters): { at: number; text: string } | undefined {
  const ps = (body.parameter ?? []).filter((p) => p?.name === "changedsince");
  if (ps.length === 0) return undefined;
  const text = ps[0]!.valueDateTime ?? ps[0]!.valueInstant;
  if (ps.length > 1 || typeof text !== "string")
    throw invalid(
      "changedsince takes one valueDateTime (when the client last fetched the package)",
      "Parameters.parameter.where(name = 'changedsince')",
    );
  // Typed as a FHIR dateTime by validateResource before this is read (a real day, a zone with a time).
  const at = Date.parse(text);
  if (Number.isNaN(at))
    throw invalid(`changedsince: ${JSON.stringify(text)} is not a dateTime`, "Parameters.parameter.value");
  return { at, text };
}

/**
 * DTR `$questionnaire-package` (DTR 2.0.1 OperationDefinition questionnaire-package, output profile
 * dtr-qpackage-output-parameters): the Questionnaires the orders (or the named canonicals) need, each
 * in its own PackageBundle with a pre-populated adaptive QuestionnaireResponse. Issue 16: the
 * `referenced` input (the Patient, requester, performer, location the orders and coverage refer to)
 * is read as the orders' context — the member and the pre-population record; an empty package still
 * answers one PackageBundle (the "no documentation required" form) with the reasons in `outcome`.
 *
 * `changedsince` (DTR 2.0.1: "only Questionnaire bundles whose Questionnaire or associated artifacts
 * have changed since"): the packages are chosen as without it (by the orders, their dates and the
 * canonicals), then each is left out when this process first served that Questionnaire's package at
 * or before that moment ({@link PackageOptions.servedSince}); a version newly in force for a date is a package
 * never served, so it is sent. When every chosen package is left out, the answer is "nothing has
 * changed" as the operation says ("simply return a 200 Ok"): Parameters with that OperationOutcome
 * alone, claiming no profile (the output profile wants a PackageBundle). The moment should be the
 * `timestamp` of the bundles the client holds (this server's clock). The `context` input is read as
 * nothing more than a string: the orders and the canonicals choose the Questionnaires.
 */
export function questionnairePackage(
  lib: Library,
  body: unknown,
  today: string,
  now: string,
  o: PackageOptions = {},
): Parameters {
  if (!isResource<Parameters>(body, "Parameters")) {
    throw invalid("$questionnaire-package takes a Parameters resource (coverage, order, questionnaire)");
  }
  // Every element read below is typed first (issue 13: wrong-typed input answered 500).
  validateResource(body);
  const since = changedSince(body);
  const index = new ResourceIndex();
  const data: Resource[] = [];
  const addData = (r: Resource, where: string) => {
    if (r.resourceType === "Bundle") {
      index.addBundle(r as Bundle, where);
      for (const e of (r as Bundle).entry ?? [])
        if (isResource(e?.resource)) data.push(e.resource as Resource);
    } else {
      index.add(r, undefined, where);
      data.push(r);
      for (const c of (r as { contained?: Resource[] }).contained ?? []) if (isResource(c)) data.push(c);
    }
  };
  // `referenced` (DTR 2.0.1): resources the orders and coverage refer to, sent beside them.
  for (const name of ["patientData", "patient", "referenced", "coverage", "order"]) {
    (body.parameter ?? []).forEach((x, i) => {
      if (x.name === name && isResource(x.resource))
        addData(x.resource, `Parameters.parameter[${i}].resource`);
    });
  }
  const orders = paramResources(body, "order", index);
  const coverage = paramResources(body, "coverage", index)[0] as Coverage | undefined;
  const subjectOf = (r: Resource | undefined) =>
    (r as { subject?: Reference; patient?: Reference } | undefined)?.subject ??
    (r as { patient?: Reference } | undefined)?.patient;
  const patient =
    (paramResources(body, "patient")[0] as Patient | undefined) ??
    index.resolve<Patient>(coverage?.beneficiary, "Patient") ??
    index.resolve<Patient>(subjectOf(orders[0]), "Patient") ??
    index.ofType<Patient>("Patient")[0];
  const member = memberFromPatient(patient, today, coverage);
  // DTR 2.0.1: the response's subject is required (1..1), and PAS relies on it to tie the answers to
  // Claim.patient: the patient's id, else the EHR's own reference (the coverage's beneficiary, the order's subject).
  const literal = (r: Reference | undefined) =>
    typeof r?.reference === "string" &&
    r.reference.length <= 1024 &&
    // A literal reference: no search or fragment (`…/Practitioner/1?_x=Patient/2` ends in no Patient).
    !r.reference.includes("?") &&
    !r.reference.includes("#") &&
    typeIdOf(r.reference)?.startsWith("Patient/") === true
      ? r.reference
      : undefined;
  const subjectRef = patient?.id
    ? `Patient/${patient.id}`
    : (literal(coverage?.beneficiary) ?? literal(subjectOf(orders[0])));

  const wanted = new Map<string, string>(); // canonical → date of service
  const issues: { severity: "information" | "warning"; code: "informational" | "not-found"; text: string }[] =
    [];
  for (const p of body.parameter ?? []) {
    if (p?.name !== "questionnaire") continue;
    const c = p.valueCanonical ?? p.valueUri ?? p.valueString;
    if (typeof c === "string") wanted.set(c.split("|")[0]!, today);
  }
  if (wanted.size === 0) {
    for (const info of ordersOfResources(orders, index, today)) {
      const { order, codes, dateOfService, drug } = info;
      const assertions = assessCodes(lib, codes, member, dateOfService, today, drug, info);
      for (const a of assertions) if (a.questionnaire) wanted.set(a.questionnaire, dateOfService);
      if (!assertions.some((a) => a.questionnaire)) {
        issues.push({
          severity: "information",
          code: "informational",
          text: `${order.resourceType}${order.id ? `/${order.id}` : ""}: no policy in this library requires documentation for ${
            codes.map((c) => c.code).join(", ") || "its codes (no CPT/HCPCS code)"
          }`,
        });
      }
    }
  }

  // A section whose approval is read with exclusion lists no binding puts in it (src/library/line-rule.ts
  // `checkExclusions`): the lists' questionnaires come with it, so the EHR can answer what the engine asks.
  for (const [canonical, dateOfService] of [...wanted]) {
    const ref = parseQuestionnaireRef(canonical);
    if (ref?.section === undefined) continue;
    let entry: LibraryEntry;
    try {
      entry = entryForCanonical(lib, canonical).entry;
    } catch {
      continue; // reported below, where the canonical itself is served
    }
    const section = entry.evaluated.sections.find((s) => s.id === ref.section);
    if (!section) continue;
    const stem = canonical.split("|")[0]!.slice(0, -ref.section.length);
    for (const x of uncheckedLists(entry.evaluated, section)) {
      if (!wanted.has(`${stem}${x.id}`)) wanted.set(`${stem}${x.id}`, dateOfService);
    }
  }

  const out: ParametersParameter[] = [];
  let unchanged = 0;
  for (const [canonical, dateOfService] of wanted) {
    let rendered: RenderedQuestionnaire;
    let entry: LibraryEntry;
    try {
      const found = entryForCanonical(lib, canonical);
      entry = found.entry;
      rendered = servedQuestionnaire(entry, found.section, o);
    } catch (err) {
      if (err instanceof FhirError || err instanceof NotFoundError) {
        issues.push({
          severity: "warning",
          code: "not-found",
          text: `${canonical}: ${(err as Error).message}`,
        });
        continue;
      }
      throw err;
    }
    // `changedsince`: a package this process served before that moment has not changed since.
    const first = o.servedSince?.(entry, canonical);
    if (since !== undefined && first !== undefined && since.at >= Date.parse(first)) {
      unchanged++;
      continue;
    }
    // Issue 15: the facts the version declares are read from the record by their own FHIRPath.
    const pre = prepopulate(data, rendered.questions, { facts: entry.vocabulary, dateOfService });
    const bundle: Bundle = {
      resourceType: "Bundle",
      id: randomUUID(),
      meta: { profile: [DTR_PACKAGE_BUNDLE] },
      type: "collection",
      timestamp: now,
      entry: [
        { fullUrl: rendered.questionnaire.url!, resource: rendered.questionnaire },
        {
          fullUrl: `urn:uuid:${randomUUID()}`,
          resource: initialResponse(rendered, pre, {
            dateOfService,
            ...(subjectRef && { subject: { reference: subjectRef } }),
            now,
            entry,
          }),
        },
      ],
    };
    out.push({ name: "PackageBundle", resource: bundle });
  }
  if (out.length === 0 && unchanged > 0) {
    const text = `nothing has changed since ${since!.text}: the ${unchanged} Questionnaire package${unchanged === 1 ? "" : "s"} these orders need ${unchanged === 1 ? "is" : "are"} as served then`;
    return {
      resourceType: "Parameters",
      parameter: [
        {
          name: PACKAGE_OUTCOME_PARAMETER,
          resource: operationOutcome([...issues, { severity: "information", code: "informational", text }]),
        },
      ],
    };
  }
  if (out.length === 0) {
    if (issues.length === 0) {
      issues.push({
        severity: "information",
        code: "informational",
        text: "no order or questionnaire was given: nothing to package",
      });
    }
    // Issue 16: the output profile requires a PackageBundle even when nothing is to be documented.
    const none = noDocumentationQuestionnaire(o);
    out.push({
      name: "PackageBundle",
      resource: {
        resourceType: "Bundle",
        id: randomUUID(),
        meta: { profile: [DTR_PACKAGE_BUNDLE] },
        type: "collection",
        timestamp: now,
        entry: [{ fullUrl: none.url!, resource: none }],
      },
    });
  }
  if (issues.length > 0)
    out.push({ name: PACKAGE_OUTCOME_PARAMETER, resource: operationOutcome(issues) as OperationOutcome });
  return { resourceType: "Parameters", meta: { profile: [DTR_PACKAGE_OUTPUT] }, parameter: out };
}

/** The QuestionnaireResponse of a `$next-question` body: the resource itself, or Parameters `in`. */
function responseOf(body: unknown): QuestionnaireResponse {
  // Typed before use (issue 13): `$next-question` answered 500 to wrong-typed items and extensions.
  if (isResource(body)) validateResource(body);
  if (isResource<QuestionnaireResponse>(body, "QuestionnaireResponse")) return body;
  if (isResource<Parameters>(body, "Parameters")) {
    const p = (body.parameter ?? []).find((x) => isResource(x?.resource, "QuestionnaireResponse"));
    if (p) return p.resource as QuestionnaireResponse;
  }
  throw invalid("$next-question takes a QuestionnaireResponse (or Parameters with one in `in`)");
}

/**
 * `Questionnaire/$log-questionnaire-errors` (DTR 2.0.1 OperationDefinition log-questionnaire-errors):
 * a DTR client reports the errors a Questionnaire of this service raised. Input: the Questionnaire's
 * canonical (`questionnaire`, 1..1) and an OperationOutcome (`operationOutcome` in the input profile,
 * `OperationOutcome`/`outcome` accepted too). The canonical must name a Questionnaire of this service
 * (404 otherwise); the OperationOutcome must have issues with a severity and a code (400 otherwise).
 * Returns what is recorded: counts per severity, never the issues' text (which may quote patient data).
 */
export function logQuestionnaireErrors(
  lib: Library,
  body: unknown,
  o: DtrOptions = {},
): { questionnaire: string; counts: Record<string, number>; issues: number } {
  if (!isResource<Parameters>(body, "Parameters"))
    throw invalid("$log-questionnaire-errors takes a Parameters resource (questionnaire, operationOutcome)");
  validateResource(body);
  const params = body.parameter ?? [];
  const named = (...names: string[]) => params.filter((p) => names.includes(p?.name ?? ""));
  const qs = named("questionnaire", "Questionnaire");
  if (qs.length !== 1)
    throw invalid(
      `$log-questionnaire-errors takes exactly one questionnaire canonical (got ${qs.length})`,
      "Parameters.parameter",
    );
  const canonical = qs[0]!.valueCanonical ?? qs[0]!.valueUri ?? qs[0]!.valueString;
  if (typeof canonical !== "string" || canonical.length === 0 || canonical.length > 2000)
    throw invalid("the questionnaire parameter needs a valueCanonical", "Parameters.parameter.value");
  const bare = canonical.split("|")[0]!;
  if (bare !== questionnaireBase(o.baseUrl ?? publicBaseUrl({})) + NO_DOCUMENTATION_ID)
    entryForCanonical(lib, bare); // 404 for a Questionnaire this service does not serve
  const oos = named("operationOutcome", "OperationOutcome", "outcome");
  if (oos.length !== 1 || !isResource<OperationOutcome>(oos[0]!.resource, "OperationOutcome"))
    throw invalid(
      "$log-questionnaire-errors takes exactly one OperationOutcome (parameter operationOutcome)",
      "Parameters.parameter",
    );
  const issues = (oos[0]!.resource as OperationOutcome).issue;
  if (!Array.isArray(issues) || issues.length === 0)
    throw invalid("the OperationOutcome has no issue", "Parameters.parameter.resource.issue");
  const counts: Record<string, number> = {};
  for (const [i, issue] of issues.entries()) {
    const sev = issue?.severity;
    if (sev !== "fatal" && sev !== "error" && sev !== "warning" && sev !== "information")
      throw invalid(
        `issue[${i}].severity must be fatal, error, warning or information`,
        "OperationOutcome.issue.severity",
      );
    if (typeof issue.code !== "string" || issue.code.length === 0)
      throw invalid(`issue[${i}].code is required`, "OperationOutcome.issue.code");
    counts[sev] = (counts[sev] ?? 0) + 1;
  }
  // Logged and answered as this service's own canonical (the id just resolved here), never the
  // client's text: whatever host or prefix it sent goes nowhere (review of issue 16).
  const id = bare.slice(bare.lastIndexOf("/Questionnaire/") + "/Questionnaire/".length);
  return {
    questionnaire: questionnaireBase(o.baseUrl ?? publicBaseUrl({})) + id,
    counts,
    issues: issues.length,
  };
}

/** Registers the DTR routes under `/fhir`. */
export function registerDtr(app: FastifyInstance, ctx: ServerContext, ops: Operations): void {
  const lib = (): Library => {
    if (!ctx.library) throw new FhirError(501, "not-supported", "questionnaires need the policy library");
    return ctx.library;
  };
  // When this process first served each Questionnaire's package (`changedsince`), by version entry:
  // entries are immutable, and a library reload makes new ones.
  const firstServed = new WeakMap<LibraryEntry, Map<string, string>>();
  const today = () => ctx.clock().toISOString().slice(0, 10);
  // Read per request: the public URL is known once the server listens (issue 13).
  const opts = (): DtrOptions => ({ baseUrl: publicBaseUrl(ctx.config) });

  const served = (idOrUrl: string): Questionnaire | undefined => {
    const bare = idOrUrl.split("|")[0]!;
    if (bare === NO_DOCUMENTATION_ID || bare === noDocumentationQuestionnaire(opts()).url)
      return noDocumentationQuestionnaire(opts());
    if (!parseQuestionnaireRef(bare)) return undefined;
    const { entry, section } = entryForCanonical(lib(), bare);
    return servedQuestionnaire(entry, section, opts()).questionnaire;
  };

  app.get("/Questionnaire/:id", async (req, reply) => {
    const id = (req.params as { id: string }).id;
    const q = served(id);
    if (!q) throw new FhirError(404, "not-found", `no Questionnaire ${id}`);
    return sendFhir(reply, 200, q);
  });

  app.get("/Questionnaire", async (req, reply) => {
    const url = (req.query as { url?: unknown }).url;
    const found: Questionnaire[] = [];
    // FHIR `uri` search: the canonical exactly (a version after `|` is the policy version, checked).
    if (typeof url === "string" && url.length <= 2000) {
      const [bare, version] = url.split("|");
      try {
        const q = served(bare!);
        if (q && q.url === bare && (version === undefined || version === q.version)) found.push(q);
      } catch (err) {
        if (!(err instanceof NotFoundError) && !(err instanceof FhirError)) throw err;
      }
    }
    const bundle: Bundle = {
      resourceType: "Bundle",
      type: "searchset",
      total: found.length,
      entry: found.map((q) => ({ fullUrl: q.url!, resource: q, search: { mode: "match" } })),
    };
    return sendFhir(reply, 200, bundle);
  });

  ops.add(app, "/Questionnaire/$questionnaire-package", [], async (req, reply) => {
    const now = ctx.clock().toISOString();
    const result = questionnairePackage(lib(), req.body, today(), now, {
      ...opts(),
      servedSince: (entry, canonical) => {
        let served = firstServed.get(entry);
        if (served === undefined) {
          served = new Map();
          firstServed.set(entry, served);
        }
        const at = served.get(canonical);
        if (at !== undefined) return at;
        served.set(canonical, now);
        return now;
      },
    });
    req.log.info(
      { packages: (result.parameter ?? []).filter((p) => p.name === "PackageBundle").length },
      "DTR package",
    );
    return sendFhir(reply, 200, result);
  });

  ops.add(app, "/Questionnaire/$next-question", [], async (req, reply) => {
    const q = (req.query as { max?: unknown }).max;
    const max = typeof q === "string" && /^\d{1,2}$/.test(q) ? Math.max(1, Math.min(50, Number(q))) : 1;
    const qr = responseOf(req.body);
    if (!isObject(qr) || (qr.item !== undefined && !Array.isArray(qr.item)))
      throw invalid("QuestionnaireResponse.item must be an array");
    return sendFhir(
      reply,
      200,
      nextQuestion(lib(), qr, { today: today(), now: ctx.clock().toISOString(), max, ...opts() }),
    );
  });

  ops.add(app, "/Questionnaire/$log-questionnaire-errors", [], async (req, reply) => {
    const logged = logQuestionnaireErrors(lib(), req.body, opts());
    // Issue 16: counts and the canonical only — issue texts may quote the patient's record.
    req.log.warn(
      { questionnaire: logged.questionnaire, issues: logged.issues, ...logged.counts },
      "DTR questionnaire errors reported",
    );
    return sendFhir(
      reply,
      200,
      operationOutcome([
        {
          severity: "information",
          code: "informational",
          text: `recorded ${logged.issues} issue(s) reported for ${logged.questionnaire}`,
        },
      ]),
    );
  });

  registerValueSets(app, ctx, ops);
}
