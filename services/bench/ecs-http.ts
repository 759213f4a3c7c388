import { Agent, request } from "node:http";

const TARGET = "AmazonEC2ContainerServiceV20141113";

export class EcsCallError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/**
 * A bare awsJson1_1 client for load generation: keep-alive sockets, no signing, no retries, no
 * SDK middleware, so the figures measure the server rather than the client. The region is sent
 * the way the server reads it, in a SigV4-shaped credential scope (the open development mode
 * does not check signatures).
 */
export class EcsHttp {
  private readonly agent: Agent;
  private readonly url: URL;

  constructor(
    endpoint: string,
    private readonly region = "us-east-1",
    sockets = 64,
  ) {
    this.url = new URL(endpoint);
    this.agent = new Agent({ keepAlive: true, maxSockets: sockets });
  }

  call<T = Record<string, unknown>>(action: string, input: unknown): Promise<T> {
    return this.send(action, JSON.stringify(input), true) as Promise<T>;
  }

  /**
   * Sends a prepared body and resolves with the response size, without decoding it: a load
   * generator that parsed every 150 kB DescribeTasks answer would measure itself.
   */
  async raw(action: string, body: string): Promise<number> {
    return (await this.send(action, body, false)) as number;
  }

  private send(action: string, body: string, decode: boolean): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: this.url.hostname,
          port: this.url.port,
          path: "/",
          method: "POST",
          agent: this.agent,
          headers: {
            "content-type": "application/x-amz-json-1.1",
            "x-amz-target": `${TARGET}.${action}`,
            authorization: `AWS4-HMAC-SHA256 Credential=AKIDBERTHBENCH/20240101/${this.region}/ecs/aws4_request, SignedHeaders=host, Signature=0`,
            "content-length": Buffer.byteLength(body),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (c: Buffer) => {
            size += c.length;
            if (decode || res.statusCode !== 200) chunks.push(c);
          });
          res.on("end", () => {
            if (!decode && res.statusCode === 200) return resolve(size);
            const text = Buffer.concat(chunks).toString("utf8");
            let json: Record<string, unknown>;
            try {
              json = JSON.parse(text) as Record<string, unknown>;
            } catch {
              return reject(new Error(`${action}: HTTP ${res.statusCode} ${text.slice(0, 200)}`));
            }
            if (res.statusCode !== 200) return reject(new EcsCallError(String(json.__type), String(json.message)));
            resolve(json);
          });
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  }

  close() {
    this.agent.destroy();
  }
}
