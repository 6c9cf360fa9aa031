import { z } from "zod";
import { SEVERITIES, VERIFICATIONS } from "./model.js";

/** The `scan:` section of slipway.yaml: gate policy, exceptions, scanner image pins, Trivy DB mirror. */

const Severity = z.enum(SEVERITIES, { error: `expected one of ${SEVERITIES.join(", ")}` });

const SeverityList = z
  .array(Severity)
  .meta({ description: "Severities that fail the gate (list each one: `[CRITICAL, HIGH]`)." });

export const VulnerabilityPolicy = z.strictObject({
  failOn: SeverityList.optional().meta({ description: "Default: [CRITICAL, HIGH]." }),
  ignoreUnfixed: z
    .boolean()
    .optional()
    .meta({ description: "Do not fail on vulnerabilities that have no fixed version yet (they are still reported). Default: false." }),
  failOnMalicious: z
    .boolean()
    .optional()
    .meta({
      description:
        "Fail on malicious-package advisories (OSV MAL-… ids, GitHub malware advisories, CWE-506) whatever their severity (they have no CVSS score) and even with ignoreUnfixed. Default: true. When false, their severity decides.",
    }),
});

export const SecretPolicy = z.strictObject({
  failOn: z
    .array(z.enum([...VERIFICATIONS, ...SEVERITIES], { error: `expected one of ${[...VERIFICATIONS, ...SEVERITIES].join(", ")}` }))
    .optional()
    .meta({
      description:
        "Secrets that fail the gate, by TruffleHog's verification (verified, unknown, unverified) or by severity (applies to every secret). Default: [verified, unknown].",
    }),
  failOnSeverity: SeverityList.optional().meta({
    description:
      "Secrets from a tool that cannot verify a credential (Trivy's pattern matches): severities that fail the gate, whether or not TruffleHog also reported them. Default: [CRITICAL, HIGH].",
  }),
});

export const MisconfigurationPolicy = z.strictObject({
  failOn: SeverityList.optional().meta({ description: "Default: [CRITICAL, HIGH]." }),
});

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export const ScanException = z
  .strictObject({
    id: z.string().min(1).optional().meta({ description: "A CVE, GHSA or check id; matches a finding's id or any of its aliases." }),
    fingerprint: z
      .string()
      .regex(/^[0-9a-f]{16}$/, "a finding fingerprint: 16 lowercase hex characters, as printed by `slipway scan gate --json`")
      .optional()
      .meta({ description: "A finding's fingerprint (secrets and misconfigurations have no CVE)." }),
    reason: z.string().min(1).meta({ description: "Why it is acceptable for now." }),
    owner: z.string().min(1).meta({ description: "Who answers for it (a person or team)." }),
    expires: z
      .string({ error: "expected a date YYYY-MM-DD (quote it in YAML)" })
      .regex(DATE, "expected a date YYYY-MM-DD")
      .refine((text) => { const t = Date.parse(`${text}T00:00:00Z`); return !Number.isNaN(t) && new Date(t).toISOString().startsWith(text); }, { message: "not a calendar date" })
      .meta({ description: "Last day (UTC) the exception applies, YYYY-MM-DD. An expired exception fails the gate." }),
  })
  .refine((e) => (e.id === undefined) !== (e.fingerprint === undefined), {
    message: "give exactly one of `id` or `fingerprint`",
  })
  .meta({ description: "An accepted finding. Owner and expiry are required." });
export type ScanException = z.output<typeof ScanException>;

const ImageRef = z
  .string()
  .regex(/^[a-z0-9.\-_/:]+(@sha256:[0-9a-f]{64})?$/, "an image reference such as `aquasec/trivy:0.57.1`")
  .refine((ref) => /@sha256:/.test(ref) || (/:[^/:]+$/.test(ref) && !ref.endsWith(":latest")), {
    message: "pin an exact version tag or digest (not `latest`)",
  });

export const ScanSettings = z
  .strictObject({
    policy: z
      .strictObject({
        vulnerability: VulnerabilityPolicy.optional(),
        secret: SecretPolicy.optional(),
        misconfiguration: MisconfigurationPolicy.optional(),
      })
      .optional(),
    exceptions: z.array(ScanException).optional(),
    images: z
      .strictObject({
        trivy: ImageRef.optional(),
        trufflehog: ImageRef.optional(),
        osvScanner: ImageRef.optional(),
        node: ImageRef.optional().meta({ description: "Image that runs `npm audit`." }),
      })
      .optional()
      .meta({ description: "Scanner images, pinned to exact versions (and digests)." }),
    trivy: z
      .strictObject({
        dbRepository: z
          .string()
          .min(1)
          .regex(/^[a-z0-9.\-_/:@]+$/, "an OCI repository such as `myacr.azurecr.io/trivy-db:2`")
          .optional()
          .meta({ description: "OCI repository of the Trivy DB (mirror it in your own ACR: the public one is rate limited)." }),
      })
      .optional(),
  })
  .meta({ description: "Security gates: policy, exceptions and scanner pins." });
export type ScanSettings = z.output<typeof ScanSettings>;
