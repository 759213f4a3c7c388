import { describe, expect, it } from "vitest";
import type { ContainerDefinition } from "../../events/taskdef.shapes.ts";
import { conditionState, startOrder, stopOrder } from "../../services/agent/dependencies.ts";
import { classify, Demuxer } from "../../services/agent/docker/dockerode.ts";
import type { ContainerInfo, LogChunk } from "../../services/agent/docker/port.ts";

const def = (
  name: string,
  deps: [string, "START" | "COMPLETE" | "SUCCESS" | "HEALTHY"][] = [],
): ContainerDefinition => ({
  name,
  image: "busybox",
  dependsOn: deps.map(([containerName, condition]) => ({ containerName, condition })),
});

describe("startOrder / stopOrder", () => {
  it("puts dependencies first, otherwise keeps definition order; stop is the reverse", () => {
    const defs = [def("app", [["migrate", "SUCCESS"]]), def("sidecar"), def("migrate", [["db", "HEALTHY"]]), def("db")];
    expect(startOrder(defs).map((d) => d.name)).toEqual(["db", "migrate", "app", "sidecar"]);
    expect(stopOrder(defs).map((d) => d.name)).toEqual(["sidecar", "app", "migrate", "db"]);
  });

  it("ignores unknown dependencies and degrades a cycle to definition order", () => {
    expect(startOrder([def("a", [["ghost", "START"]]), def("b")]).map((d) => d.name)).toEqual(["a", "b"]);
    expect(startOrder([def("a", [["b", "START"]]), def("b", [["a", "START"]])]).map((d) => d.name)).toEqual(["b", "a"]);
  });
});

describe("conditionState", () => {
  const c = (state: Partial<ContainerInfo["state"]>): ContainerInfo => ({
    id: "x",
    name: "x",
    image: "i",
    imageId: "i",
    labels: {},
    state: { status: "running", running: true, exitCode: 0, oomKilled: false, error: "", startedAt: 1, ...state },
    networkMode: "bridge",
    ports: {},
    networks: {},
  });
  it.each([
    ["START", undefined, "pending"],
    ["START", c({}), "met"],
    ["START", c({ status: "created", startedAt: undefined }), "pending"],
    ["COMPLETE", c({}), "pending"],
    ["COMPLETE", c({ status: "exited", exitCode: 2 }), "met"],
    ["SUCCESS", c({ status: "exited", exitCode: 0 }), "met"],
    ["SUCCESS", c({ status: "exited", exitCode: 1 }), "never"],
    ["HEALTHY", c({ health: "starting" }), "pending"],
    ["HEALTHY", c({ health: "healthy" }), "met"],
    ["HEALTHY", c({ health: "unhealthy" }), "never"],
    ["HEALTHY", c({ status: "exited" }), "never"],
    ["START", c({ status: "created", error: "oci error", startedAt: undefined }), "never"],
  ] as const)("%s with %o → %s", (cond, info, expected) => {
    expect(conditionState(cond, info)).toBe(expected);
  });
});

describe("Docker adapter helpers", () => {
  it("demultiplexes Docker's framed log stream across chunk boundaries", () => {
    const frame = (kind: number, text: string) => {
      const body = Buffer.from(text);
      const head = Buffer.alloc(8);
      head[0] = kind;
      head.writeUInt32BE(body.length, 4);
      return Buffer.concat([head, body]);
    };
    const out: LogChunk[] = [];
    const d = new Demuxer(false, (c) => out.push(c));
    const all = Buffer.concat([frame(1, "out\n"), frame(2, "err\n")]);
    d.push(all.subarray(0, 5));
    d.push(all.subarray(5, 15));
    d.push(all.subarray(15));
    expect(out).toEqual([
      { stream: "stdout", data: "out\n" },
      { stream: "stderr", data: "err\n" },
    ]);
  });

  it.each([
    [{ statusCode: 404, json: { message: "No such container: x" } }, "not-found", "No such container: x"],
    [
      { statusCode: 500, message: "(HTTP code 500) server error - OCI runtime create failed" },
      "terminal",
      "OCI runtime create failed",
    ],
    [{ statusCode: 409, json: { message: "Conflict" } }, "terminal", "Conflict"],
    [{ statusCode: 503, json: { message: "busy" } }, "retriable", "busy"],
    [Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }), "retriable", "connect ECONNREFUSED"],
    [Object.assign(new Error("The operation was aborted"), { name: "AbortError" }), "retriable", undefined],
  ])("classifies %o as %s", (err, kind, message) => {
    const e = classify("call", err);
    expect(e.kind).toBe(kind);
    if (message) expect(e.message).toBe(message);
  });
});
