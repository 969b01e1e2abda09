import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { z } from 'zod';
import type { InputCheck, ValidationDetails } from './job-type.js';

/** An input schema ready for use: its JSON Schema and a check that answers in the 422 shape. */
export interface InputSchema {
  jsonSchema: Record<string, unknown>;
  validate(input: unknown): InputCheck;
}

/** A declaration's `input` that cannot be used; the message says why. */
export class InputSchemaError extends Error {}

/** zod 4 schemas carry `_zod`; anything else with `safeParse` is from another validation library. */
export function isZodSchema(value: unknown): value is z.ZodType {
  return typeof value === 'object' && value !== null && '_zod' in value && typeof (value as z.ZodType).safeParse === 'function';
}

export function inputSchemaOf(input: unknown): InputSchema {
  if (isZodSchema(input)) return fromZod(input);
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InputSchemaError('must be a zod schema or a JSON Schema object');
  }
  if (typeof (input as { safeParse?: unknown }).safeParse === 'function') {
    throw new InputSchemaError('is a schema of another library or zod version; use zod 4 or a JSON Schema');
  }
  return fromJsonSchema(input as Record<string, unknown>);
}

/**
 * A declaration's `result` as JSON Schema. It only describes the result (for the client's
 * types), so any schema goes, and a JSON Schema is taken as written.
 */
export function resultSchemaOf(result: unknown): Record<string, unknown> {
  if (isZodSchema(result)) {
    try {
      return z.toJSONSchema(result, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    } catch (err) {
      throw new InputSchemaError(`cannot be described as JSON Schema: ${(err as Error).message}`);
    }
  }
  if (
    typeof result !== 'object' ||
    result === null ||
    Array.isArray(result) ||
    typeof (result as { safeParse?: unknown }).safeParse === 'function'
  ) {
    throw new InputSchemaError('must be a zod 4 schema or a JSON Schema object');
  }
  return result as Record<string, unknown>;
}

function fromZod(schema: z.ZodType): InputSchema {
  let jsonSchema: Record<string, unknown>;
  try {
    jsonSchema = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  } catch (err) {
    throw new InputSchemaError(`cannot be described as JSON Schema: ${(err as Error).message}`);
  }
  requireObject(jsonSchema, 'must be a z.object(…)');
  return {
    jsonSchema,
    validate(input) {
      const parsed = schema.safeParse(input);
      if (parsed.success) return { ok: true, value: parsed.data };
      // What z.flattenError does, done here so a schema from another copy of zod works the same.
      const details: ValidationDetails = {};
      for (const issue of parsed.error.issues) addDetail(details, issue.path.length > 0 ? String(issue.path[0]) : 'body', issue.message);
      return { ok: false, details };
    },
  };
}

/** One validator per JSON Schema dialect; a schema names its own with `$schema` (2020-12 when absent). */
const dialects = {
  'https://json-schema.org/draft/2020-12/schema': () => new Ajv2020(AJV_OPTIONS),
  'http://json-schema.org/draft-07/schema': () => new Ajv(AJV_OPTIONS),
} as const;
const AJV_OPTIONS = {
  allErrors: true,
  useDefaults: true,
  // Unknown keywords are refused (a typo such as `minimun` would otherwise check nothing).
  strict: true,
  strictTypes: false,
  strictTuples: false,
  strictRequired: false,
  logger: false,
} as const;
const validators = new Map<string, Ajv>();

function validatorFor(dialect: unknown): Ajv {
  const key = dialect === undefined ? 'https://json-schema.org/draft/2020-12/schema' : String(dialect).replace(/#$/, '');
  const make = dialects[key as keyof typeof dialects];
  if (!make) throw new InputSchemaError(`$schema "${String(dialect)}" is not supported (use draft 2020-12 or draft-07)`);
  let ajv = validators.get(key);
  if (!ajv) {
    ajv = make();
    addFormats.default(ajv);
    validators.set(key, ajv);
  }
  return ajv;
}

function fromJsonSchema(schema: Record<string, unknown>): InputSchema {
  requireObject(schema, 'must describe an object ("type": "object")');
  let check: ValidateFunction;
  try {
    check = validatorFor(schema.$schema).compile(schema);
  } catch (err) {
    if (err instanceof InputSchemaError) throw err;
    throw new InputSchemaError(`is not a valid JSON Schema: ${(err as Error).message}`);
  }
  return {
    jsonSchema: schema,
    validate(input) {
      // Defaults are filled in on a copy: the caller's value stays as it was received.
      const value = structuredClone(input);
      if (check(value)) return { ok: true, value };
      return { ok: false, details: detailsOf(check.errors ?? []) };
    },
  };
}

function requireObject(schema: Record<string, unknown>, message: string): void {
  const type = schema.type;
  if (type !== 'object' && !(Array.isArray(type) && type.length === 1 && type[0] === 'object')) throw new InputSchemaError(message);
}

/** ajv's errors by the top-level field they concern (`body` for the whole input), worded like the zod ones. */
function detailsOf(errors: ErrorObject[]): ValidationDetails {
  const details: ValidationDetails = {};
  for (const error of errors) {
    const path = error.instancePath.split('/').slice(1).map(unescapePointer);
    const field = path[0];
    if (field === undefined && error.keyword === 'required') addDetail(details, String(error.params.missingProperty), 'Required');
    else if (field === undefined && error.keyword === 'additionalProperties') {
      addDetail(details, String(error.params.additionalProperty), 'Not allowed');
    } else {
      const message =
        error.keyword === 'enum'
          ? `must be one of: ${(error.params.allowedValues as unknown[]).join(', ')}`
          : (error.message ?? 'is not valid');
      // A problem deeper inside a field names where: `items/2 must be string`.
      const where = path.length > 1 ? `${path.slice(1).join('/')} ` : '';
      addDetail(details, field ?? 'body', sentence(`${where}${message}`));
    }
  }
  return details;
}

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

function addDetail(details: ValidationDetails, field: string, message: string): void {
  const list = details[field] ?? [];
  details[field] = list;
  if (!list.includes(message)) list.push(message);
}

function sentence(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
