/** Sum of every sample of one Prometheus metric on a control plane's /metrics page. */
export async function scrapeMetric(endpoint: string, name: string): Promise<number> {
  const res = await fetch(`${endpoint}/metrics`, { signal: AbortSignal.timeout(5_000) });
  const text = await res.text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m?.[1] === name) sum += Number(m[2]);
  }
  return sum;
}
