import { z } from "zod";
import { Tag } from "../../events/shapes.ts";
import { invalid } from "./errors.ts";

/** ECS tag rules: ≤50 per resource, key 1–128, value 0–256, letters/digits/space and _ . : / = + - @. */
const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
export const TagList = z.array(Tag);
export const MAX_TAGS = 50;

export function validateTags(tags: readonly Tag[] | undefined): Tag[] {
  const list = tags ?? [];
  const counted = list.filter((t) => !t.key.toLowerCase().startsWith("aws:"));
  if (counted.length > MAX_TAGS) throw invalid(`A resource can have at most ${MAX_TAGS} tags.`);
  for (const t of list) {
    if (t.key.length < 1 || t.key.length > 128) throw invalid("Tag keys must be between 1 and 128 characters.");
    if (t.value.length > 256) throw invalid("Tag values must be at most 256 characters.");
    if (!TAG_CHARS.test(t.key) || !TAG_CHARS.test(t.value))
      throw invalid("Tags may only contain letters, numbers, spaces and the characters _ . : / = + - @.");
    if (t.key.toLowerCase().startsWith("aws:")) throw invalid("Tag keys beginning with aws: are reserved.");
  }
  const keys = new Set(list.map((t) => t.key));
  if (keys.size !== list.length) throw invalid("Tag keys must be unique.");
  return [...list];
}
