/**
 * A NATS message's payload as JSON, or undefined when it is not JSON: for handlers that check
 * what they got with a zod schema and answer anything unreadable the same way as anything invalid.
 */
export function messageJson(m: { json<T>(): T }): unknown {
  try {
    return m.json<unknown>();
  } catch {
    return undefined;
  }
}
