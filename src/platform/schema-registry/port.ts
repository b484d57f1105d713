/** Schema registry port: Confluent-compatible ids per (subject, schema), BACKWARD checked. */
export interface SchemaRegistry {
  /** Registers `schema` under `subject` (idempotent) and returns its global id. Throws on incompatibility. */
  register(subject: string, schema: object): Promise<number>;
  /** The schema with this id, or undefined. */
  schemaById(id: number): Promise<object | undefined>;
  /** Every registered version of `subject`, oldest first. */
  versions(subject: string): Promise<readonly { id: number; schema: object }[]>;
}

export class IncompatibleSchemaError extends Error {
  readonly subject: string;
  constructor(subject: string, reason: string) {
    super(`schema for ${subject} is not BACKWARD compatible with the latest version: ${reason}`);
    this.name = "IncompatibleSchemaError";
    this.subject = subject;
  }
}
