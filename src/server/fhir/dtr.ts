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
  parseQuestionnaireRef,
  type RenderedQuestionnaire,
  renderQuestionnaire,
} from "../../explain/questionnaire.js";
import type { Library, LibraryEntry } from "../../library/index.js";
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
  ResourceIndex,
  sendFhir,
} from "./common.js";
import { assessCodes, ordersOfResources } from "./crd.js";
import { prepopulate } from "./prepopulate.js";
import { validateResource } from "./validate.js";

export const FACTS_EXTENSION = `${MEDPOLICY_FHIR}/StructureDefinition/facts`;
export const DATE_OF_SERVICE_EXTENSION = `${MEDPOLICY_FHIR}/StructureDefinition/date-of-service`;
export const OUTCOME_EXTENSION = `${MEDPOLICY_FHIR}/StructureDefinition/documentation-outcome`;
const INFORMATION_ORIGIN = "http://hl7.org/fhir/us/davinci-dtr/StructureDefinition/information-origin";
const ADAPTIVE = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-questionnaireAdaptive";
const ADAPTIVE_ID = "adaptive";

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

function adaptiveQuestionnaire(std: Questionnaire, items: QuestionnaireItem[]): Questionnaire {
  return {
    resourceType: "Questionnaire",
    id: ADAPTIVE_ID,
    meta: { profile: ["http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-adapt"] },
    extension: [{ url: ADAPTIVE, valueBoolean: true }],
    ...(std.version && { version: std.version }),
    ...(std.title && { title: std.title }),
    derivedFrom: [std.url!],
    status: "active",
    subjectType: ["Patient"],
    ...(items.length > 0 && { item: items }),
  };
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
  o: { today: string; now: string; max?: number },
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
  const rendered = renderQuestionnaire(entry, section);
  const answers = answersFromResponse(input, rendered.questions);
  const session = sessionOf(input, today);
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
    contained: [...others, adaptiveQuestionnaire(std, items)],
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
  o: { dateOfService: string; subject?: Reference; now: string },
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

function paramResources(p: Parameters, name: string): Resource[] {
  return (p.parameter ?? [])
    .filter((x) => x?.name === name && isResource(x.resource))
    .map((x) => x.resource as Resource);
}

/**
 * DTR `$questionnaire-package`: the Questionnaires the orders (or the named canonicals) need, each in
 * its own package Bundle with a pre-populated adaptive QuestionnaireResponse.
 */
export function questionnairePackage(lib: Library, body: unknown, today: string, now: string): Parameters {
  if (!isResource<Parameters>(body, "Parameters")) {
    throw invalid("$questionnaire-package takes a Parameters resource (coverage, order, questionnaire)");
  }
  // Every element read below is typed first (issue 13: wrong-typed input answered 500).
  validateResource(body);
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
  for (const name of ["patientData", "patient", "coverage", "order"]) {
    (body.parameter ?? []).forEach((x, i) => {
      if (x.name === name && isResource(x.resource))
        addData(x.resource, `Parameters.parameter[${i}].resource`);
    });
  }
  const orders = paramResources(body, "order");
  const coverage = paramResources(body, "coverage")[0] as Coverage | undefined;
  const patient =
    (paramResources(body, "patient")[0] as Patient | undefined) ??
    index.resolve<Patient>(coverage?.beneficiary, "Patient") ??
    index.ofType<Patient>("Patient")[0];
  const member = memberFromPatient(patient, today, coverage);

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

  const out: ParametersParameter[] = [];
  for (const [canonical, dateOfService] of wanted) {
    let rendered: RenderedQuestionnaire;
    let entry: LibraryEntry;
    try {
      const found = entryForCanonical(lib, canonical);
      entry = found.entry;
      rendered = renderQuestionnaire(entry, found.section);
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
    // Issue 15: the facts the version declares are read from the record by their own FHIRPath.
    const pre = prepopulate(data, rendered.questions, { facts: entry.vocabulary, dateOfService });
    const bundle: Bundle = {
      resourceType: "Bundle",
      id: randomUUID(),
      meta: { profile: ["http://hl7.org/fhir/us/davinci-dtr/StructureDefinition/DTR-QPackageBundle"] },
      type: "collection",
      timestamp: now,
      entry: [
        { fullUrl: rendered.questionnaire.url!, resource: rendered.questionnaire },
        {
          fullUrl: `urn:uuid:${randomUUID()}`,
          resource: initialResponse(rendered, pre, {
            dateOfService,
            ...(patient?.id && { subject: { reference: `Patient/${patient.id}` } }),
            now,
          }),
        },
      ],
    };
    out.push({ name: "PackageBundle", resource: bundle });
  }
  if (out.length === 0 && issues.length === 0) {
    issues.push({
      severity: "information",
      code: "informational",
      text: "no order or questionnaire was given: nothing to package",
    });
  }
  if (issues.length > 0)
    out.push({ name: "outcome", resource: operationOutcome(issues) as OperationOutcome });
  return { resourceType: "Parameters", parameter: out };
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

/** Registers the DTR routes under `/fhir`. */
export function registerDtr(app: FastifyInstance, ctx: ServerContext, ops: Operations): void {
  const lib = (): Library => {
    if (!ctx.library) throw new FhirError(501, "not-supported", "questionnaires need the policy library");
    return ctx.library;
  };
  const today = () => ctx.clock().toISOString().slice(0, 10);

  app.get("/Questionnaire/:id", async (req, reply) => {
    const id = (req.params as { id: string }).id;
    const ref = parseQuestionnaireRef(id);
    if (!ref) throw new FhirError(404, "not-found", `no Questionnaire ${id}`);
    const { entry, section } = entryForCanonical(lib(), id);
    return sendFhir(reply, 200, renderQuestionnaire(entry, section).questionnaire);
  });

  app.get("/Questionnaire", async (req, reply) => {
    const url = (req.query as { url?: unknown }).url;
    const found: Questionnaire[] = [];
    if (typeof url === "string" && parseQuestionnaireRef(url)) {
      try {
        const { entry, section } = entryForCanonical(lib(), url);
        found.push(renderQuestionnaire(entry, section).questionnaire);
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
    const result = questionnairePackage(lib(), req.body, today(), now);
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
      nextQuestion(lib(), qr, { today: today(), now: ctx.clock().toISOString(), max }),
    );
  });
}
