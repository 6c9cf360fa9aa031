import { describe, expect, it } from "vitest";
import { splitArray, splitValues } from "../../../pipelines/src/scan/parsers/split-array.js";

/** What JSON.parse of the whole text gives, rebuilt from the pieces. */
function rebuilt(text: string): unknown {
  const split = splitArray(text, "Results");
  if (!split) throw new Error("not split");
  const envelope = JSON.parse(split.envelope) as Record<string, unknown>;
  expect(envelope.Results).toEqual([]);
  return { ...envelope, Results: split.items.map(([start, end]) => JSON.parse(text.slice(start, end)) as unknown) };
}

const DOCUMENT = {
  SchemaVersion: 2,
  ArtifactName: 'image "with" {braces} [and] \\backslashes\\',
  Metadata: { Results: ["a nested key of the same name is not the top-level one"] },
  Results: [
    { Target: "a", Vulnerabilities: [{ Title: 'a "}]," in a title', Description: "\\\"}\\" }] },
    { Target: "b", Secrets: null, Nested: [[1, [2, {}]], { x: [] }] },
    "a string element",
    42,
    null,
    [],
  ],
  After: { Results: [] },
};

describe("pipelines/src/scan/parsers/split-array", () => {
  it.each([
    ["compact", JSON.stringify(DOCUMENT)],
    ["indented as Trivy writes it", JSON.stringify(DOCUMENT, null, 2)],
    ["with tabs and CRLF", JSON.stringify(DOCUMENT, null, "\t").replace(/\n/g, "\r\n")],
    ["with the array first", JSON.stringify({ Results: DOCUMENT.Results, SchemaVersion: 2 })],
  ])("splits a %s document into pieces that parse to the same value", (_name, text) => {
    expect(rebuilt(text)).toEqual(JSON.parse(text));
  });

  it("gives the elements' exact text and the envelope without them", () => {
    const text = '{"a":1, "Results": [ {"x":"}]"} ,[1,2],"s\\"",3 ], "b":{"c":[1]}}';
    const split = splitArray(text, "Results");
    expect(split?.items.map(([start, end]) => text.slice(start, end))).toEqual(['{"x":"}]"}', "[1,2]", '"s\\""', "3"]);
    expect(split?.envelope).toBe('{"a":1, "Results": [], "b":{"c":[1]}}');
  });

  it("splits an empty array into no elements", () => {
    expect(splitArray('{"Results": [ ]}', "Results")).toEqual({ envelope: '{"Results": []}', items: [] });
  });

  // Each of these is left to JSON.parse of the whole text: it fails there, or means something the split would not.
  it.each([
    ["no such key", '{"Other": []}'],
    ["the key twice (JSON.parse keeps the last)", '{"Results": [1], "Results": [2]}'],
    ["the key spelled with an escape", '{"Re\\u0073ults": [1]}'],
    ["null instead of an array", '{"Results": null}'],
    ["an array at the top", '[{"Results": []}]'],
    ["an empty text", ""],
    ["a missing comma between elements", '{"Results": [{"a":1} {"b":2}]}'],
    ["a trailing comma", '{"Results": [{"a":1},]}'],
    ["a leading comma", '{"Results": [,{"a":1}]}'],
    ["an unterminated element", '{"Results": [{"a":"}]}'],
    ["an unterminated string", '{"Results": [{"a":"x]}'],
    ["a truncated document", '{"SchemaVersion": 2, "Results": [{"a":1}'],
    ["a key without a colon", '{"Results" [1]}'],
    ["a key that is not a string", '{Results: [1]}'],
    ["two values for one key", '{"Bad": "x" "y", "Results": [1]}'],
  ])("refuses %s", (_name, text) => {
    expect(splitArray(text, "Results")).toBeUndefined();
  });

  it("leaves what it does not check to JSON.parse of the envelope: garbage after the object, or before the array", () => {
    for (const text of ['{"Results": [1]} trailing', '{"Bad": tru, "Results": [1]}', '{"Bad": [1 2], "Results": [1]}']) {
      const split = splitArray(text, "Results");
      expect(split).toBeDefined();
      expect(() => JSON.parse(split?.envelope ?? "")).toThrow(SyntaxError);
      expect(() => JSON.parse(text)).toThrow(SyntaxError);
    }
  });

  it.each([
    ["JSON lines", '{"a":1}\n{"b":"}"}\n', ['{"a":1}', '{"b":"}"}']],
    ["objects back to back", '{"a":[1,{"x":"]"}]}{"b":2}', ['{"a":[1,{"x":"]"}]}', '{"b":2}']],
    ["pretty-printed with CRLF", '{\r\n  "a": "\\"{"\r\n}\r\n\r\n[\r\n  1\r\n]', ['{\r\n  "a": "\\"{"\r\n}', "[\r\n  1\r\n]"]],
    ["bare words, left to JSON.parse", "{} not json", ["{}", "not", "json"]],
    ["nothing", " \n\t", []],
  ])("splits a stream of JSON values: %s", (_name, text, pieces) => {
    const split = splitValues(text);
    expect(split.rest).toBeUndefined();
    expect(split.items.map(([start, end]) => text.slice(start, end))).toEqual(pieces);
  });

  it.each([
    ["an unterminated object", '{"a":1}\n{"b":', 8],
    ["an unterminated string", '{"a":1} "abc', 8],
    ["a stray closing brace", '{"a":1}\n}', 8],
  ])("says where a value starts that does not end: %s", (_name, text, rest) => {
    expect(splitValues(text).rest).toBe(rest);
  });
});
