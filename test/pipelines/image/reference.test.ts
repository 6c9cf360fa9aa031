import { describe, expect, it } from "vitest";
import {
  formatImageRef,
  isValidName,
  isValidRepositoryPath,
  isValidTag,
  normalizeName,
  parseImageRef,
  sameImage,
  screenToken,
  splitImageRef,
} from "../../../pipelines/src/image/reference.js";

const D1 = `sha256:${"1".repeat(64)}`;

describe("pipelines/src/image/reference", () => {
  it.each([
    ["nginx", { name: "nginx" }],
    ["nginx:1.25", { name: "nginx", tag: "1.25" }],
    ["docker.io/library/nginx:1.25", { name: "docker.io/library/nginx", tag: "1.25" }],
    ["localhost:5000/team/api", { name: "localhost:5000/team/api" }],
    ["localhost:5000/team/api:v2", { name: "localhost:5000/team/api", tag: "v2" }],
    [`myacr.azurecr.io/api:1.0@${D1}`, { name: "myacr.azurecr.io/api", tag: "1.0", digest: D1 }],
    [`myacr.azurecr.io/api@${D1}`, { name: "myacr.azurecr.io/api", digest: D1 }],
    ["MyACR.azurecr.io/team/api:v1", { name: "MyACR.azurecr.io/team/api", tag: "v1" }],
    ["team/my_api__x--y.z:v1", { name: "team/my_api__x--y.z", tag: "v1" }],
    ["  nginx:1.25\n", { name: "nginx", tag: "1.25" }],
    ["Not An Image", null],
    ["Team/Api:v1", null],
    ["api:bad tag", null],
    ["api:", null],
    ["api:.hidden", null],
    [`api:${"x".repeat(129)}`, null],
    ["api@sha256:short", null],
    [`api@sha256:${"A".repeat(64)}`, null],
    ["api:5000:v1", null],
    ["-api", null],
  ])("parses %j", (text, expected) => {
    expect(parseImageRef(text)).toEqual(expected);
  });

  it.each([
    ["acr.io/shop/api:v2", { name: "acr.io/shop/api", tag: "v2" }],
    ["localhost:5000/api", { name: "localhost:5000/api" }],
    ["localhost:5000/api:1.2@sha256:abc", { name: "localhost:5000/api", tag: "1.2", digest: "sha256:abc" }],
    ["api@sha256:abc", { name: "api", digest: "sha256:abc" }],
  ])("splits %j without judging the parts (images a pod already runs)", (text, expected) => {
    expect(splitImageRef(text)).toEqual(expected);
  });

  it.each([
    ["api", true],
    ["shop/api", true],
    ["localhost:5000/shop/api", true],
    ["myacr.azurecr.io:443/shop/api", true],
    ["Api", false],
    ["shop/Api", false],
    ["api:5000", false],
    ["api:v1", false],
    [`api@${D1}`, false],
    ["shop//api", false],
    ["", false],
  ])("isValidName(%j) is %s", (name, valid) => {
    expect(isValidName(name)).toBe(valid);
  });

  it.each([
    ["shop/api", true],
    ["a__b/c--d", true],
    ["localhost:5000/api", false],
    ["shop/Api", false],
    ["shop/", false],
  ])("isValidRepositoryPath(%j) is %s", (path, valid) => {
    expect(isValidRepositoryPath(path)).toBe(valid);
  });

  it.each([
    ["sha-0123456789ab", true],
    ["1.20", true],
    ["V1_RC", true],
    ["x".repeat(128), true],
    ["x".repeat(129), false],
    [".hidden", false],
    ["-x", false],
    ["a+b", false],
    ["", false],
  ])("isValidTag(%j) is %s", (tag, valid) => {
    expect(isValidTag(tag)).toBe(valid);
  });

  it.each([
    ["nginx", "nginx"],
    ["library/nginx", "nginx"],
    ["docker.io/library/nginx", "nginx"],
    ["index.docker.io/library/nginx", "nginx"],
    ["registry-1.docker.io/bitnami/redis", "bitnami/redis"],
    ["docker.io/bitnami/redis", "bitnami/redis"],
    ["myacr.azurecr.io/library/nginx", "myacr.azurecr.io/library/nginx"],
  ])("normalizes %j to %j", (name, normalized) => {
    expect(normalizeName(name)).toBe(normalized);
  });

  it.each([
    ["nginx", "docker.io/library/nginx", true],
    ["library/nginx", "nginx", true],
    ["bitnami/redis", "docker.io/bitnami/redis", true],
    ["nginx", "myacr.azurecr.io/nginx", false],
    ["shop/api", "api", false],
  ])("sameImage(%j, %j) is %s", (a, b, same) => {
    expect(sameImage(a, b)).toBe(same);
  });

  it.each([
    ["myacr.azurecr.io/shop/api", "shop/api"],
    ["localhost:5000/api", "api"],
    ["docker.io/library/nginx", "nginx"],
    ["bitnami/redis", "bitnami/redis"],
  ])("screens files for %j by %j", (name, token) => {
    expect(screenToken(name)).toBe(token);
  });

  it("formats what it parses back to the same text", () => {
    for (const text of ["nginx", "localhost:5000/team/api:v2", `myacr.azurecr.io/api:1.0@${D1}`, `myacr.azurecr.io/api@${D1}`]) {
      const ref = parseImageRef(text);
      expect(ref && formatImageRef(ref)).toBe(text);
    }
  });
});
