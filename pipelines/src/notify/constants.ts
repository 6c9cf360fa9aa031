// Values of `slipway notify` that its flags and help need apart from ./schema.ts: importing them must not
// load zod (issue 16, start-up: `slipway notify --help`).

export const NOTIFY_EVENTS = ["started", "verified", "failed", "rolled-back"] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];
/** Without `on:`, the outcomes someone has to act on or may want to know; `started` is opt-in. */
export const DEFAULT_NOTIFY_ON: NotifyEvent[] = ["verified", "failed", "rolled-back"];

/** What a notification is about: a release, a promotion, or an on-demand rollback. */
export const NOTIFY_KINDS = ["release", "promote", "rollback"] as const;
export type NotifyKind = (typeof NOTIFY_KINDS)[number];
