import { createServer } from "node:net";

/**
 * A TCP port that was free on `host` a moment ago: the OS picks it (listen on port 0) and the
 * probe socket is closed before returning. Another process may still take it before the caller
 * binds, so callers that spawn servers retry on "address in use".
 */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        server.close();
        reject(new Error(`freePort: unexpected address ${String(address)}`));
        return;
      }
      server.close((err) => (err ? reject(err) : resolve(address.port)));
    });
  });
}
