import type { z } from 'zod';

/**
 * Form posts carry every field as a string; turn the ones the schema wants as numbers or
 * booleans into those, leaving anything unparseable for the schema to reject by name.
 */
export function coerceFormFields(schema: z.ZodType, fields: Record<string, unknown>): Record<string, unknown> {
  const shape = (schema as unknown as { shape?: Record<string, z.ZodType> }).shape;
  if (!shape) return fields;
  const out: Record<string, unknown> = { ...fields };
  for (const [key, value] of Object.entries(fields)) {
    // Own fields only: a form field named `constructor` or `toString` must not find Object.prototype's.
    const fieldSchema = Object.hasOwn(shape, key) ? shape[key] : undefined;
    if (!fieldSchema || typeof value !== 'string') continue;
    const kind = baseKind(fieldSchema);
    if (value.trim() === '' && kind !== 'string') delete out[key];
    else if (kind === 'number' && /^-?\d+(\.\d+)?$/.test(value.trim())) out[key] = Number(value);
    else if (kind === 'boolean' && (value === 'true' || value === 'false')) out[key] = value === 'true';
  }
  return out;
}

function baseKind(schema: z.ZodType): string {
  let def = (schema as unknown as { _zod: { def: { type: string; innerType?: z.ZodType } } })._zod.def;
  while (def.innerType && ['optional', 'default', 'nullable', 'prefault'].includes(def.type)) {
    def = (def.innerType as unknown as { _zod: { def: { type: string; innerType?: z.ZodType } } })._zod.def;
  }
  return def.type;
}
