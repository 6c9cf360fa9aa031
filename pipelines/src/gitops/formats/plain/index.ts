import type { Edit, Format, FormatChange, FormatUpdate, Occurrence } from "../../types.js";
import type { ImageScalar } from "../../targets.js";
import { readImageScalar, updateImageScalar } from "../../targets.js";
import { child, getPath, isSeq, objectId, parseYamlFile, resolve, scalarText, TextEdits } from "../../yaml-edit.js";

/**
 * Plain Kubernetes manifests: `image` of containers and initContainers in the pod template of each
 * workload kind, in every document of a multi-document file.
 */
const POD_SPEC: Record<string, string[]> = {
  Pod: ["spec"],
  Deployment: ["spec", "template", "spec"],
  StatefulSet: ["spec", "template", "spec"],
  DaemonSet: ["spec", "template", "spec"],
  ReplicaSet: ["spec", "template", "spec"],
  Job: ["spec", "template", "spec"],
  CronJob: ["spec", "jobTemplate", "spec", "template", "spec"],
};
const LISTS = ["initContainers", "containers"] as const;

function scan(content: string, path: string): ImageScalar[] {
  const found: ImageScalar[] = [];
  parseYamlFile(content, path).forEach((doc, index) => {
    const kind = scalarText(content, child(doc, doc.contents, "kind"));
    const specPath = kind ? POD_SPEC[kind] : undefined;
    if (!specPath) return;
    const podSpec = getPath(doc, doc.contents, specPath);
    const object = objectId(doc, content, index);
    for (const list of LISTS) {
      const seq = resolve(doc, child(doc, podSpec, list));
      if (!isSeq(seq)) continue;
      seq.items.forEach((container, i) => {
        const node = child(doc, container, "image");
        const item = readImageScalar(content, node, "plain", object, `${specPath.join(".")}.${list}[${i}].image`);
        if (item) found.push(item);
      });
    }
  });
  return found;
}

function extract(content: string, path: string): Occurrence[] {
  return scan(content, path).map((f) => f.occurrence);
}

function update(content: string, change: FormatChange): FormatUpdate {
  const edits = new TextEdits(content, change.path);
  const records: Edit[] = [];
  for (const found of scan(content, change.path)) {
    const edit = updateImageScalar(edits, found, change.images);
    if (edit) records.push(edit);
  }
  return { content: edits.apply(), edits: records };
}

export const plain: Format = { name: "plain", extract, update };
