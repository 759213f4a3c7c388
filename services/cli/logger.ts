import pino, { type Logger } from "pino";
import pretty from "pino-pretty";

/**
 * The root logger of a berth process. Structured JSON by default; human-readable when a person
 * is watching (stdout is a terminal) or BERTH_LOG_FORMAT=pretty. Level from BERTH_LOG_LEVEL.
 * Only entry points call this; everything else receives a child logger.
 */
export function rootLogger(name: string): Logger {
  const level = process.env.BERTH_LOG_LEVEL ?? "info";
  const format = process.env.BERTH_LOG_FORMAT ?? (process.stdout.isTTY ? "pretty" : "json");
  const base = { name };
  if (format === "pretty") {
    return pino({ level, base }, pretty({ colorize: process.stdout.isTTY, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname" }));
  }
  return pino({ level, base });
}
