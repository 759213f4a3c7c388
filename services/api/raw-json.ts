/**
 * A response body that is already JSON, as UTF-8 bytes: the edge sends it as it is. For answers
 * assembled from cached pieces (DescribeTasks concatenates each task's cached rendering), where
 * parsing and stringifying again — or even joining strings and encoding the result — would cost
 * more than building the answer.
 */
export class RawJson {
  constructor(readonly bytes: Buffer) {}
}
