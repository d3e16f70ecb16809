/**
 * The building blocks every schema of the domain model is made of. A string enumeration is a
 * JSON Schema `enum` (one keyword, quick to validate and to serialize) whose static type is
 * the union of its values.
 */
import { Type, type TSchema, type TUnsafe, type StringOptions } from '@sinclair/typebox';
import { invalid } from '../errors.js';

export const S = (opts?: StringOptions) => Type.String(opts);

/** A string that is one of `values`; its type is their union. */
export function StringEnum<const T extends readonly string[]>(values: T, opts: { description?: string } = {}): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...opts });
}

export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

/** A resource name: unique per project and kind, so it can stand wherever an id can. */
export const Name = S({ minLength: 1, maxLength: 63, description: 'Unique per project and kind' });

/** A reference to another resource: its name or its id. */
export const Ref = (what: string) => S({ minLength: 1, maxLength: 128, description: `${what}: a name or an id` });

export const PORT_MIN = 1;
export const PORT_MAX = 65535;

/** A TCP or UDP port (the one place the range is written). */
export const Port = (opts: { description?: string } = {}) => Type.Integer({ minimum: PORT_MIN, maximum: PORT_MAX, ...opts });

/** Whether `n` is a whole number that is a valid port. */
export function isPort(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= PORT_MIN && n <= PORT_MAX;
}

/** `value` as a port, or a refusal naming the field and the value. */
export function checkPort(value: unknown, field = 'port', context = ''): number {
  if (!isPort(value)) throw invalid(`${field}: '${String(value)}' must be a port from 1 to 65535${context}`);
  return value;
}
