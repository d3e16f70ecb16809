/**
 * How the API validates and serializes, chosen for a daemon that answers within a second of
 * its start. Fastify's defaults compile a validator and four serializers for every route at
 * start (about 0.6 s for this API on this machine, most of the start). Here a validator is
 * compiled the first time its route is called, with the same strict options; and responses
 * are written with JSON.stringify: the handlers return exactly the documents the schemas
 * describe, so the schemas serve the OpenAPI document, not the wire.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import type { FastifyInstance, FastifySchema } from 'fastify';

export function useLazyCompilers(app: FastifyInstance): void {
  // Strict: no coercion of types, no silent removal of unknown fields; defaults filled in.
  const ajv = new Ajv({ coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: false, verbose: true, strict: false });
  app.setValidatorCompiler(({ schema }: { schema: FastifySchema }) => {
    let compiled: ValidateFunction | null = null;
    const validate = ((data: unknown) => {
      compiled ??= ajv.compile(schema as object);
      const ok = compiled(data);
      validate.errors = compiled.errors;
      return ok;
    }) as ((data: unknown) => boolean) & { errors?: ValidateFunction['errors'] };
    return validate;
  });
  app.setSerializerCompiler(() => (data: unknown) => JSON.stringify(data));
}
