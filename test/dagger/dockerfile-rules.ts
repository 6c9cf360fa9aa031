// Static rules for our Dockerfiles (the toolkit image and every service image). Parsing is done by
// dockerfile-ast, the parser behind the Docker VS Code language server: it handles line continuations,
// comments inside continued instructions, the escape directive, exec and shell forms, so the rules only
// have to look at instructions.
import { DockerfileParser } from "dockerfile-ast";
import type { Instruction } from "dockerfile-ast";

export type DockerfileKind = "toolkit" | "service";

/** uid the services run as; Kubernetes manifests set runAsUser/runAsNonRoot to match. */
export const SERVICE_UID = "10001";

const NODE_IMAGE_REF = /^\$(?:\{NODE_IMAGE\}|NODE_IMAGE)$/;

function words(instruction: Instruction): string[] {
  return instruction.getArguments().map((a) => a.getValue());
}

/** The command a CMD/ENTRYPOINT runs, in exec form or shell form. */
function commandWords(instruction: Instruction): string[] {
  const content = (instruction.getArgumentsContent() ?? "").trim();
  if (content.startsWith("[")) {
    try {
      const parsed: unknown = JSON.parse(content);
      if (Array.isArray(parsed)) return parsed.map(String);
    } catch {
      // Not valid JSON: Docker then runs it in shell form, and so do we.
    }
  }
  return content.split(/[\s;&|()]+/).filter(Boolean);
}

function isPackageManager(word: string): boolean {
  return /(^|\/)(npm|npx)$/.test(word);
}

/** The problems of one Dockerfile, as sentences; empty when it follows every rule. */
export function dockerfileProblems(content: string, kind: DockerfileKind): string[] {
  const problems: string[] = [];
  const dockerfile = DockerfileParser.parse(content);
  const instructions = dockerfile.getInstructions();
  const froms = instructions.filter((i) => i.getKeyword() === "FROM");

  // ARG NODE_IMAGE before the first FROM, with a default, so that a plain `docker build` works and
  // the pipeline can pin or bump the base image in one place.
  const nodeImageArg = dockerfile.getInitialARGs().find((arg) => arg.getProperty()?.getName() === "NODE_IMAGE");
  if (!nodeImageArg) problems.push("no `ARG NODE_IMAGE=...` before the first FROM");
  else if (!nodeImageArg.getProperty()?.getValue()) problems.push("`ARG NODE_IMAGE` has no default value");

  if (froms.length < 2) problems.push(`not multi-stage: ${froms.length} FROM instruction(s)`);

  // A `# syntax=` parser directive makes BuildKit pull that frontend image from a registry before
  // anything else (moby/moby#41787): the build then fails offline and in air-gapped CI.
  // Parser directives are only read in the leading comment lines.
  for (const line of content.split(/\r?\n/)) {
    if (!line.startsWith("#")) break;
    const directive = /^#\s*syntax\s*=\s*(\S+)/i.exec(line);
    if (directive) problems.push(`\`# syntax=${directive[1]}\` directive: BuildKit would pull that frontend image, so offline builds fail`);
  }

  // Every stage starts from ${NODE_IMAGE}, or from an earlier stage (which did).
  const stages: string[] = [];
  for (const from of froms) {
    const args = words(from).filter((w) => !w.startsWith("--"));
    const image = args[0] ?? "";
    if (!NODE_IMAGE_REF.test(image) && !stages.includes(image.toLowerCase())) {
      problems.push(`FROM ${image} (line ${from.getRange().start.line + 1}) does not use \${NODE_IMAGE} or an earlier stage`);
    }
    if (args[1]?.toUpperCase() === "AS" && args[2]) stages.push(args[2].toLowerCase());
  }

  // The final stage: everything after the last FROM.
  const lastFrom = froms.at(-1);
  const final = lastFrom ? instructions.slice(instructions.indexOf(lastFrom) + 1) : [];
  const last = (keyword: string) => final.filter((i) => i.getKeyword() === keyword).at(-1);

  const user = last("USER");
  const userSpec = user ? (words(user)[0] ?? "") : "";
  const uid = userSpec.split(":")[0] ?? "";
  if (!user) problems.push("final stage has no USER: it would run as root");
  else if (kind === "service" && uid !== SERVICE_UID) problems.push(`final stage USER is ${userSpec}, expected uid ${SERVICE_UID}`);
  else if (uid === "root" || uid === "0") problems.push(`final stage USER is ${userSpec}: root`);

  if (kind === "service") {
    const healthcheck = last("HEALTHCHECK");
    if (!healthcheck) problems.push("final stage has no HEALTHCHECK");
    else if (words(healthcheck)[0]?.toUpperCase() === "NONE") problems.push("final stage disables HEALTHCHECK");
    if (!last("CMD") && !last("ENTRYPOINT")) problems.push("final stage has no CMD or ENTRYPOINT");
  }

  // npm as PID 1 does not forward SIGTERM to node: pods would be killed after the grace period instead
  // of shutting down cleanly. The final command must run node (or our binary) directly.
  for (const keyword of ["CMD", "ENTRYPOINT"]) {
    const instruction = last(keyword);
    if (instruction && commandWords(instruction).some(isPackageManager)) {
      problems.push(`final ${keyword} runs npm: ${instruction.getArgumentsContent() ?? ""}`);
    }
  }
  return problems;
}
