import { ComposeError } from "./values.ts";

export type Env = Readonly<Record<string, string | undefined>>;

const REFERENCE = /\$(?:(\$)|\{([^}]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g;
const BRACED = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])(.*))?$/s;

/**
 * Compose's variable substitution in one string: `$VAR`, `${VAR}`, `${VAR:-default}` (unset or
 * empty), `${VAR-default}` (unset), `${VAR:?message}` / `${VAR?message}` (required),
 * `${VAR:+other}` / `${VAR+other}` (replacement when set), `$$` for a literal `$`. An unset
 * variable without a default becomes "" and is reported, as compose does.
 */
export function interpolateString(text: string, env: Env, path: string, missing: (name: string) => void): string {
  return text.replace(REFERENCE, (whole, dollar: string | undefined, braced: string | undefined, bare: string | undefined) => {
    if (dollar) return "$";
    if (bare !== undefined) {
      const value = env[bare];
      if (value === undefined) missing(bare);
      return value ?? "";
    }
    const m = BRACED.exec(braced ?? "");
    if (!m) throw new ComposeError(`${path}: invalid substitution ${whole}`);
    const [, name, op, arg = ""] = m as unknown as [string, string, string | undefined, string | undefined];
    const value = env[name];
    const set = value !== undefined;
    const nonEmpty = set && value !== "";
    switch (op) {
      case undefined:
        if (!set) missing(name);
        return value ?? "";
      case ":-":
        return nonEmpty ? (value as string) : arg;
      case "-":
        return set ? (value as string) : arg;
      case ":?":
        if (!nonEmpty) throw new ComposeError(`${path}: required variable ${name} is ${set ? "empty" : "not set"}${arg ? `: ${arg}` : ""}`);
        return value as string;
      case "?":
        if (!set) throw new ComposeError(`${path}: required variable ${name} is not set${arg ? `: ${arg}` : ""}`);
        return value as string;
      case ":+":
        return nonEmpty ? arg : "";
      case "+":
        return set ? arg : "";
      default:
        throw new ComposeError(`${path}: invalid substitution ${whole}`);
    }
  });
}

/** Substitutes variables in every string value of the document (keys are left alone). */
export function interpolate(doc: unknown, env: Env, missing: (name: string) => void, path = ""): unknown {
  if (typeof doc === "string") return interpolateString(doc, env, path || "(top)", missing);
  if (Array.isArray(doc)) return doc.map((v, i) => interpolate(v, env, missing, `${path}[${i}]`));
  if (doc !== null && typeof doc === "object") {
    return Object.fromEntries(Object.entries(doc).map(([k, v]) => [k, interpolate(v, env, missing, path ? `${path}.${k}` : k)]));
  }
  return doc;
}
