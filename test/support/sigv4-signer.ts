import { createHash, createHmac } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";

/**
 * Signs raw HTTP requests with the AWS SDK's own SigV4 implementation (@smithy/signature-v4), so
 * tests check Berth's verifier against the signer real clients use, not against itself.
 */

class Sha256 {
  private hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(private readonly secret?: string | Uint8Array | ArrayBuffer | ArrayBufferView) {
    this.hash = this.fresh();
  }
  private fresh() {
    if (this.secret === undefined) return createHash("sha256");
    const key =
      typeof this.secret === "string"
        ? this.secret
        : ArrayBuffer.isView(this.secret)
          ? Buffer.from(this.secret.buffer, this.secret.byteOffset, this.secret.byteLength)
          : Buffer.from(this.secret as ArrayBuffer);
    return createHmac("sha256", key);
  }
  update(data: string | Uint8Array | ArrayBuffer | ArrayBufferView) {
    this.hash.update(
      typeof data === "string"
        ? data
        : ArrayBuffer.isView(data)
          ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
          : Buffer.from(data as ArrayBuffer),
    );
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset() {
    this.hash = this.fresh();
  }
}

export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface RawRequest {
  method?: string;
  host: string;
  path?: string;
  query?: Record<string, string>;
  headers: Record<string, string>;
  body: string;
}

/** Returns the request's headers with X-Amz-Date, Authorization (and the session token) added. */
export async function signRequest(
  r: RawRequest,
  credentials: SigningCredentials,
  opts: { region?: string; service?: string; at?: Date } = {},
): Promise<Record<string, string>> {
  const signer = new SignatureV4({
    credentials,
    region: opts.region ?? "us-east-1",
    service: opts.service ?? "ecs",
    sha256: Sha256,
  });
  const [hostname, port] = r.host.split(":");
  const signed = await signer.sign(
    {
      method: r.method ?? "POST",
      protocol: "http:",
      hostname: hostname as string,
      ...(port ? { port: Number(port) } : {}),
      path: r.path ?? "/",
      query: r.query ?? {},
      headers: { host: r.host, ...r.headers },
      body: r.body,
    },
    opts.at ? { signingDate: opts.at } : {},
  );
  return signed.headers as Record<string, string>;
}
