import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import type { FastifySchemaCompiler } from 'fastify';

/**
 * Validates request parts with TypeBox instead of the server's Ajv, which
 * coerces types everywhere (`{"password": 12345678901}` would pass as a
 * string). Bodies are checked exactly as sent; query strings and path
 * parameters, which are text by nature, get defaults and conversion first.
 */
export const strictValidatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = TypeCompiler.Compile(schema);
  return (value: unknown) => {
    const candidate =
      httpPart === 'body' ? value : Value.Convert(schema, Value.Default(schema, Value.Clone(value)));
    if (check.Check(candidate)) return { value: candidate };
    const error = [...check.Errors(candidate)].map((e) => ({
      keyword: 'type',
      instancePath: e.path,
      schemaPath: '',
      params: {},
      message: e.message,
    }));
    return { error };
  };
};
