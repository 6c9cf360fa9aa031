import { acrRegistryInvalid } from "../errors.js";
import { isValidRepositoryPath } from "../image/reference.js";
import type { IdentityMode } from "./schema.js";

/** ACR accepts its refresh token as the password of this fixed user name (docs: "az acr login --expose-token"). */
export const ACR_TOKEN_USERNAME = "00000000-0000-0000-0000-000000000000";

/** Scope of an Entra ID token for ACR's data plane (the `/oauth2/exchange` input). */
export const ACR_AAD_SCOPE = "https://containerregistry.azure.net/.default";

// host[:port], DNS names only: no scheme, no path, no user info (a credential in a URL would end up in logs).
const HOST_PORT = /^(?=.{1,253}(?::\d{1,5})?$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::\d{1,5})?$/;

/** Public and sovereign-cloud ACR login-server suffixes. */
const ACR_SUFFIXES = [".azurecr.io", ".azurecr.us", ".azurecr.cn"];

export function isAcrMode(mode: IdentityMode): boolean {
  return mode !== "static";
}

/** Returns the login server `host[:port]` in lower case, or throws naming what is wrong. */
export function parseRegistry(input: string, mode: IdentityMode): string {
  const value = input.trim().toLowerCase();
  if (/^[a-z][a-z0-9+.-]*:\/\//.test(value)) throw acrRegistryInvalid(input, "must not include a scheme (https://)");
  if (value.includes("@")) throw acrRegistryInvalid(input, "must not include user info");
  if (value.includes("/")) throw acrRegistryInvalid(input, "must not include a path: the repository comes from the service name");
  if (!HOST_PORT.test(value)) throw acrRegistryInvalid(input, "is not a host name");
  const host = value.replace(/:\d+$/, "");
  if (isAcrMode(mode) && !ACR_SUFFIXES.some((s) => host.endsWith(s) && host.length > s.length)) {
    throw acrRegistryInvalid(input, `is not an Azure Container Registry (*.azurecr.io) but identity mode ${JSON.stringify(mode)} only works with ACR`);
  }
  return value;
}

export function repositoryFor(service: string, prefix?: string): string {
  const repository = prefix ? `${prefix}/${service}` : service;
  if (!isValidRepositoryPath(repository) || repository.length > 255) {
    throw acrRegistryInvalid(repository, "is not a valid repository path");
  }
  return repository;
}
