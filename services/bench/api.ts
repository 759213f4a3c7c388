import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { subjects } from "../../events/names.ts";
import { LoadConnection, prebuiltRequest } from "./ecs-load.ts";
import { CLUSTER, FAMILY, REGION, simEnv } from "./env.ts";
import { freePort, type Proc, spawnLogged } from "./processes.ts";
import { type Summary, since, summarize } from "./stats.ts";
import { TaskWatch } from "./watch.ts";

/**
 * API throughput and latency on a control plane holding `tasks` RUNNING tasks on a simulated
 * fleet: DescribeTasks naming 100 tasks and ListTasks (first page of 100) from `clients`
 * concurrent keep-alive connections for `seconds` each, then RunTask (count 1) latency from
 * `runTaskClients` clients. Responses are counted, not decoded (one is decoded and checked per
 * phase), and the load comes from bare sockets sending prebuilt requests (`LoadConnection`), so
 * the driver measures the server rather than itself. Each call type is then sent the same way to
 * a bare server answering with the bytes Berth answered, through the same HTTP reading as Berth's
 * API edge (fixed-answer-server.ts): the floor this machine puts under the figures, measured in
 * the same run.
 */

export interface ApiParams {
  dir: string;
  instances: number;
  tasks: number;
  clients: number;
  seconds: number;
  runTaskCalls: number;
  runTaskClients: number;
  /** Directory for a CPU profile of the control plane (node --cpu-prof), when profiling. */
  profileDir?: string;
}

export interface Throughput {
  requestsPerSecond: number;
  latency: Summary;
  /** Bytes per response. */
  responseBytes: number;
  errors: number;
  /** CPU time per request, µs: the control plane's, and the load generator's (this process). */
  serverCpuMicros: number;
  clientCpuMicros: number;
}

export interface ApiRun {
  describeTasks: Throughput;
  listTasks: Throughput;
  /** The same load on a bare server sending Berth's answers as fixed bytes (Berth's HTTP reading, no work). */
  floor: { describeTasks: Throughput; listTasks: Throughput };
  runTask: Summary;
}

const FLOOR_SERVER = fileURLToPath(new URL("./fixed-answer-server.ts", import.meta.url));

export async function apiRun(p: ApiParams): Promise<ApiRun> {
  const env = await simEnv({ dir: p.dir, instances: p.instances, sockets: p.clients, name: "api", ...(p.profileDir ? { profileDir: p.profileDir } : {}) });
  try {
    const { api } = env;
    const watch = await TaskWatch.start(env.nc, subjects.tasksOfCluster(REGION, CLUSTER));
    const arns: string[] = [];
    const fill = Array.from({ length: 8 }, async () => {
      while (arns.length < p.tasks) {
        const r = await api.call<{ tasks: { taskArn: string }[] }>("RunTask", { cluster: CLUSTER, taskDefinition: FAMILY, count: 10 });
        arns.push(...r.tasks.map((t) => t.taskArn));
      }
    });
    await Promise.all(fill);
    await watch.until(() => watch.started.size >= arns.length, 600_000, `${arns.length} tasks RUNNING`);
    await watch.stop();

    const describeBodies = Array.from({ length: Math.max(1, Math.floor(arns.length / 100)) }, (_, i) =>
      JSON.stringify({ cluster: CLUSTER, tasks: arns.slice(i * 100, i * 100 + 100) }),
    );
    const check = await api.call<{ tasks: unknown[]; failures: unknown[] }>("DescribeTasks", JSON.parse(describeBodies[0] as string));
    if (check.tasks.length !== Math.min(100, arns.length) || check.failures.length !== 0)
      throw new Error(`DescribeTasks answered ${check.tasks.length} tasks and ${check.failures.length} failures`);
    const listBody = JSON.stringify({ cluster: CLUSTER });
    const listed = await api.call<{ taskArns: string[] }>("ListTasks", { cluster: CLUSTER });
    if (listed.taskArns.length !== Math.min(100, arns.length)) throw new Error(`ListTasks answered ${listed.taskArns.length} ARNs`);

    const request = (action: string, body: string) => prebuiltRequest(env.endpoint, REGION, action, body);
    const describeRequests = describeBodies.map((b) => request("DescribeTasks", b));
    const listRequest = request("ListTasks", listBody);
    const floor = await startFloor(p.dir, {
      DescribeTasks: await answerBytes(env.endpoint, describeRequests[0] as Buffer),
      ListTasks: await answerBytes(env.endpoint, listRequest),
    });
    let describeTasks: Throughput;
    let listTasks: Throughput;
    let floorDescribe: Throughput;
    let floorList: Throughput;
    try {
      const serverCpu = () => env.server.cpuSeconds();
      const floorCpu = () => floor.proc.cpuSeconds();
      describeTasks = await hammer(env.endpoint, describeRequests, p.clients, p.seconds, serverCpu);
      floorDescribe = await hammer(floor.endpoint, describeRequests, p.clients, p.seconds, floorCpu);
      listTasks = await hammer(env.endpoint, [listRequest], p.clients, p.seconds, serverCpu);
      floorList = await hammer(floor.endpoint, [listRequest], p.clients, p.seconds, floorCpu);
    } finally {
      await floor.proc.stop();
    }

    const runLatencies: number[] = [];
    let calls = 0;
    await Promise.all(
      Array.from({ length: p.runTaskClients }, async () => {
        while (calls < p.runTaskCalls) {
          calls++;
          const t0 = performance.now();
          await api.call("RunTask", { cluster: CLUSTER, taskDefinition: FAMILY, count: 1 });
          runLatencies.push(since(t0));
        }
      }),
    );
    return {
      describeTasks,
      listTasks,
      floor: { describeTasks: floorDescribe, listTasks: floorList },
      runTask: summarize(runLatencies),
    };
  } finally {
    await env.stop();
  }
}

/** The body Berth answers to one prebuilt request, as the bytes it sent. */
async function answerBytes(endpoint: string, request: Buffer): Promise<Buffer> {
  const conn = await LoadConnection.open(endpoint);
  try {
    const r = await conn.send(request, { keepBody: true });
    if (r.status !== 200 || !r.body) throw new Error(`answer for the floor server: status ${r.status}`);
    return r.body;
  } finally {
    conn.close();
  }
}

async function startFloor(dir: string, answers: Record<string, Buffer>): Promise<{ proc: Proc; endpoint: string }> {
  const file = join(dir, "fixed-answers.json");
  writeFileSync(file, JSON.stringify(Object.fromEntries(Object.entries(answers).map(([k, v]) => [k, v.toString("base64")]))));
  const port = await freePort();
  const proc = spawnLogged(process.execPath, ["--import", "tsx", FLOOR_SERVER, file, String(port)], { name: "api-floor", dir });
  try {
    await proc.waitForOutput(/^listening /, 30_000);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return { proc, endpoint: `http://127.0.0.1:${port}/` };
}

/**
 * `clients` connections sending `requests` (in turn) back to back for `seconds`, one request in
 * flight on each; a short warm-up is not counted. A non-200 answer or a broken connection is an
 * error (the connection is opened again).
 */
async function hammer(
  endpoint: string,
  requests: readonly Buffer[],
  clients: number,
  seconds: number,
  serverCpuSeconds: () => number,
): Promise<Throughput> {
  const warmUntil = performance.now() + 500;
  const endAt = warmUntil + seconds * 1000;
  const latencies: number[] = [];
  let bytes = 0;
  let errors = 0;
  let n = 0;
  const server0 = serverCpuSeconds();
  const client0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      let conn: LoadConnection | undefined;
      try {
        for (;;) {
          const t0 = performance.now();
          if (t0 >= endAt) return;
          try {
            if (!conn?.open) conn = await LoadConnection.open(endpoint);
            const r = await conn.send(requests[n++ % requests.length] as Buffer);
            if (r.status !== 200) errors++;
            else if (t0 >= warmUntil) {
              latencies.push(since(t0));
              bytes += r.bytes;
            }
          } catch {
            errors++;
          }
        }
      } finally {
        conn?.close();
      }
    }),
  );
  const client = process.cpuUsage(client0);
  return {
    requestsPerSecond: latencies.length / seconds,
    latency: summarize(latencies),
    responseBytes: latencies.length ? Math.round(bytes / latencies.length) : 0,
    errors,
    // Over every request sent, warm-up included, as the CPU clocks cannot leave it out.
    serverCpuMicros: n ? ((serverCpuSeconds() - server0) * 1e6) / n : 0,
    clientCpuMicros: n ? (client.user + client.system) / n : 0,
  };
}
