/**
 * A response body that is already JSON, as UTF-8 bytes in pieces: the edge sends the pieces as
 * they are, one after another. For answers assembled from cached pieces (DescribeTasks sends each
 * task's cached rendering), where parsing and stringifying again — or joining the pieces into one
 * new 130 kB buffer per answer, which the garbage collector then has to reclaim — would cost more
 * than building the answer.
 */
export class RawJson {
  /** Total bytes of `parts` (the Content-Length). */
  readonly length: number;

  constructor(readonly parts: readonly Buffer[]) {
    let length = 0;
    for (const p of parts) length += p.length;
    this.length = length;
  }
}
