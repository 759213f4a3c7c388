/**
 * A response body that is already JSON text: the edge sends it as it is. For answers assembled
 * from cached pieces (DescribeTasks joins each task's cached rendering), where parsing and
 * stringifying again would cost more than building the answer.
 */
export class RawJson {
  constructor(readonly text: string) {}
}
