/**
 * Sum of the samples of one Prometheus metric on a control plane's /metrics page, optionally only
 * those whose labels include `labels` (`{ last_status: "RUNNING" }`).
 */
export async function scrapeMetric(
  endpoint: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const res = await fetch(`${endpoint}/metrics`, { signal: AbortSignal.timeout(5_000) });
  const text = await res.text();
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m?.[1] !== name) continue;
    if (wanted.some((w) => !(m[2] ?? "").includes(w))) continue;
    sum += Number(m[3]);
  }
  return sum;
}
