import { posix } from "node:path";
import type { MountPoint, Volume } from "@aws-sdk/client-ecs";
import { ComposeError, pairs } from "./values.ts";

/**
 * Compose volumes → ECS task volumes and mount points:
 *
 *   named   `data:/var/lib/x[:ro]`  → dockerVolumeConfiguration, scope "shared" (outlives the task,
 *                                     as a compose named volume outlives `down`), Docker name
 *                                     `<project>_<name>` as compose names it; `external` ones are
 *                                     used as they are, never created
 *   bind    `./dir:/x`, `/abs:/x`   → host.sourcePath, relative paths against the compose file's folder
 *   anonymous `/x`                  → dockerVolumeConfiguration, scope "task" (gone with the task)
 */

export type Warn = (path: string, why: string) => void;

const ECS_NAME = /[^A-Za-z0-9_-]/g;
const ecsName = (text: string) => text.replace(ECS_NAME, "-").slice(0, 255);

export class VolumeSet {
  private readonly volumes = new Map<string, Volume>();
  private readonly bindNames = new Map<string, string>();

  constructor(
    private readonly project: string,
    private readonly declared: Record<string, unknown>,
    private readonly baseDir: string,
    private readonly home: string | undefined,
    private readonly warn: Warn,
  ) {}

  list(): Volume[] {
    return [...this.volumes.values()];
  }

  /** One entry of a service's `volumes:` → its mount point (and the task volume it needs). */
  mount(service: string, index: number, v: unknown, path: string): MountPoint | undefined {
    let type: string;
    let source: string | undefined;
    let target: string;
    let readOnly = false;
    if (typeof v === "string") {
      const parts = v.split(":");
      if (parts.length > 3 || parts.some((p) => p === "")) throw new ComposeError(`${path}: ${JSON.stringify(v)} is not SOURCE:TARGET[:MODE]`);
      if (parts.length === 1) [target] = parts as [string];
      else [source, target] = parts as [string, string];
      for (const mode of (parts[2] ?? "").split(",").filter(Boolean)) {
        if (mode === "ro") readOnly = true;
        else if (mode !== "rw") this.warn(path, `mode ${mode} is not supported — ignored`);
      }
      type = source === undefined ? "volume" : /^[./~]/.test(source) ? "bind" : "volume";
    } else if (v !== null && typeof v === "object") {
      const o = v as Record<string, unknown>;
      for (const k of Object.keys(o))
        if (!["type", "source", "target", "read_only", "consistency"].includes(k)) this.warn(`${path}.${k}`, "is not supported — ignored");
      type = String(o.type ?? "volume");
      source = o.source === undefined || o.source === null ? undefined : String(o.source);
      if (o.target === undefined) throw new ComposeError(`${path}.target is required`);
      target = String(o.target);
      readOnly = o.read_only === true;
    } else throw new ComposeError(`${path}: ${JSON.stringify(v)} is not a volume`);

    if (!target.startsWith("/")) throw new ComposeError(`${path}: the container path ${JSON.stringify(target)} must be absolute`);
    let sourceVolume: string;
    if (type === "bind") {
      if (!source) throw new ComposeError(`${path}: a bind mount needs a source`);
      sourceVolume = this.bind(source);
    } else if (type === "volume") {
      sourceVolume = source === undefined ? this.anonymous(service, index) : this.named(source, path);
    } else {
      this.warn(path, `volume type ${type} is not supported — not mounted`);
      return undefined;
    }
    return { sourceVolume, containerPath: target, readOnly };
  }

  private bind(source: string): string {
    const expanded = source.startsWith("~") ? `${this.home ?? "~"}${source.slice(1)}` : source;
    const hostPath = posix.resolve(this.baseDir, expanded);
    let name = this.bindNames.get(hostPath);
    if (!name) {
      name = ecsName(`bind${hostPath.replace(/\//g, "_")}`);
      while ([...this.bindNames.values()].includes(name) || this.volumes.has(name)) name = `${name}_`;
      this.bindNames.set(hostPath, name);
      this.volumes.set(name, { name, host: { sourcePath: hostPath } });
    }
    return name;
  }

  private anonymous(service: string, index: number): string {
    const name = ecsName(`${service}-anonymous-${index}`);
    this.volumes.set(name, { name, dockerVolumeConfiguration: { scope: "task", driver: "local" } });
    return name;
  }

  private named(key: string, path: string): string {
    if (!(key in this.declared)) throw new ComposeError(`${path}: volume ${JSON.stringify(key)} is not declared under the top-level volumes:`);
    const def = (this.declared[key] ?? {}) as Record<string, unknown>;
    const top = `volumes.${key}`;
    const external = def.external === true || (typeof def.external === "object" && def.external !== null);
    const name = ecsName(def.name !== undefined ? String(def.name) : external ? key : `${this.project}_${key}`);
    if (this.volumes.has(name)) return name;
    for (const k of Object.keys(def)) if (!["driver", "driver_opts", "labels", "external", "name"].includes(k)) this.warn(`${top}.${k}`, "is not supported — ignored");
    const driverOpts = def.driver_opts === undefined ? undefined : Object.fromEntries(pairs(def.driver_opts, `${top}.driver_opts`).map(([k, v]) => [k, v ?? ""]));
    const labels = def.labels === undefined ? undefined : Object.fromEntries(pairs(def.labels, `${top}.labels`).map(([k, v]) => [k, v ?? ""]));
    this.volumes.set(name, {
      name,
      dockerVolumeConfiguration: {
        scope: "shared",
        autoprovision: !external,
        driver: def.driver === undefined ? "local" : String(def.driver),
        ...(driverOpts ? { driverOpts } : {}),
        ...(labels ? { labels } : {}),
      },
    });
    return name;
  }
}
