import { z } from 'zod';
import type { JobTypeDeclaration } from './declaration.js';
import { InputSchemaError, inputSchemaOf, resultSchemaOf } from './input-schema.js';
import type { JobType } from './job-type.js';

/** Type names end up in URLs, queue names and element ids. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

const optionalText = z.string().trim().min(1, 'must not be empty').optional();

/** What a declaration may hold: any other option is a mistake worth stopping for. */
const DECLARATION = z.strictObject({
  name: z.string().regex(NAME, 'must be 1 to 100 letters, digits, "-", "_" or ".", starting with a letter or digit'),
  input: z.unknown().refine((v) => v !== undefined, 'is required'),
  result: z.unknown().optional(),
  handler: z.custom<(...args: unknown[]) => unknown>((v) => typeof v === 'function', 'must be a function').optional(),
  route: z
    .strictObject({
      exchange: z.string().optional(),
      exchangeType: z.enum(['topic', 'direct', 'fanout', 'headers']).optional(),
      routingKey: z.string().optional(),
      queue: z.string().min(1).optional(),
    })
    .optional(),
  timeoutMs: z.number().int().min(1).optional(),
  maxAttempts: z.number().int().min(1).max(100).optional(),
  title: optionalText,
  description: optionalText,
  form: z
    .strictObject({
      id: z
        .string()
        .regex(/^[A-Za-z][A-Za-z0-9_-]*$/, 'must be letters, digits, "-" or "_", starting with a letter')
        .optional(),
      submitLabel: optionalText,
    })
    .optional(),
});

/** A declaration that cannot be used; the message names the option and the problem. */
export class DeclarationError extends Error {}

/** Checks a declaration and turns it into the one shape web and worker use. */
export function normaliseJobType(declaration: unknown, source?: string): JobType {
  if (typeof declaration !== 'object' || declaration === null || Array.isArray(declaration)) {
    throw new DeclarationError('is not a job type declaration (an object with name and input)');
  }
  const checked = DECLARATION.safeParse(declaration);
  if (!checked.success) throw new DeclarationError(checked.error.issues.map(describeIssue).join('; '));
  const { input, result, handler, ...rest } = checked.data as JobTypeDeclaration & { handler?: JobType['handler'] };
  let schema: ReturnType<typeof inputSchemaOf>;
  let resultSchema: Record<string, unknown> | undefined;
  try {
    schema = inputSchemaOf(input);
  } catch (err) {
    if (err instanceof InputSchemaError) throw new DeclarationError(`input: ${err.message}`);
    throw err;
  }
  try {
    resultSchema = result === undefined ? undefined : resultSchemaOf(result);
  } catch (err) {
    if (err instanceof InputSchemaError) throw new DeclarationError(`result: ${err.message}`);
    throw err;
  }
  return Object.freeze({ ...rest, handler, inputSchema: schema.jsonSchema, resultSchema, validate: schema.validate, source });
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    const where = issue.path.length > 0 ? ` in ${issue.path.join('.')}` : '';
    return `unknown option${issue.keys.length > 1 ? 's' : ''}${where}: ${issue.keys.join(', ')}`;
  }
  const where = issue.path.join('.') || 'declaration';
  if (issue.code === 'invalid_type' && issue.input === undefined) return `${where}: is required`;
  return `${where}: ${issue.message.replace(/^Invalid input: /, '')}`;
}
