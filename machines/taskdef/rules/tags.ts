import type { Tag } from "../../../events/shapes.ts";
import type { Rejection } from "../../decider.ts";
import { invalidParameter, type TagInput } from "./request.ts";

/**
 * ECS tag rules (API model, Tag and Tags shapes): at most 50 tags per resource; keys 1–128 and
 * values 0–256 Unicode characters of letters, numbers, spaces and `_ . : / = + - @`; keys unique;
 * the `aws:` prefix in any case is reserved for AWS (such tags do not count towards the 50).
 */
export const MAX_TAGS = 50;
const KEY_MAX = 128;
const VALUE_MAX = 256;
const ALLOWED = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

/** Length in Unicode characters (code points), as the model counts it. */
const chars = (s: string) => [...s].length;

const isReserved = (key: string) => key.toLowerCase().startsWith("aws:");

/** User tags count towards the limit; `aws:` tags do not. */
export const countedTags = (tags: readonly Tag[]) => tags.filter((t) => !isReserved(t.key)).length;

/** Validates tags given in a request; a tag without a value gets the empty value ECS stores. */
export function validateTags(
  input: readonly TagInput[],
): { ok: true; tags: Tag[] } | { ok: false; rejection: Rejection } {
  const fail = (message: string) => ({ ok: false as const, rejection: invalidParameter(message) });
  const seen = new Set<string>();
  const tags: Tag[] = [];
  for (const t of input) {
    const key = t.key ?? "";
    const value = t.value ?? "";
    if (chars(key) < 1 || chars(key) > KEY_MAX) return fail(`Tag keys must be between 1 and ${KEY_MAX} characters.`);
    if (chars(value) > VALUE_MAX) return fail(`Tag values must be at most ${VALUE_MAX} characters (key '${key}').`);
    if (!ALLOWED.test(key)) return fail(`Tag key '${key}' contains invalid characters.`);
    if (!ALLOWED.test(value)) return fail(`Tag value of key '${key}' contains invalid characters.`);
    if (isReserved(key)) return fail(`Tag keys beginning with 'aws:' are reserved for AWS use (key '${key}').`);
    if (seen.has(key)) return fail(`Tag keys must be unique; '${key}' is given more than once.`);
    seen.add(key);
    tags.push({ key, value });
  }
  if (countedTags(tags) > MAX_TAGS) return fail(`A resource can have at most ${MAX_TAGS} tags.`);
  return { ok: true, tags };
}
