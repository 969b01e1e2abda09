/**
 * Form posts carry every field as a string; turn the ones the input's JSON Schema wants as
 * numbers, booleans or JSON into those, leaving anything unparseable for the validation to reject
 * by name. Only the schema's own properties are looked at, whatever the fields are called.
 */
export function coerceFormFields(schema: Record<string, unknown>, fields: Record<string, unknown>): Record<string, unknown> {
  const properties = isObject(schema.properties) ? schema.properties : {};
  const out: Record<string, unknown> = { ...fields };
  for (const [key, raw] of Object.entries(fields)) {
    if (!Object.hasOwn(properties, key)) continue;
    const kind = kindOf(properties[key]);
    // A checkbox posts a hidden "false" and, when ticked, "true" after it: the last one counts.
    const value = Array.isArray(raw) && kind === 'boolean' ? raw.at(-1) : raw;
    if (typeof value !== 'string') continue;
    const text = value.trim();
    if (text === '' && kind !== 'string') delete out[key];
    else if ((kind === 'number' || kind === 'integer') && /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(text)) out[key] = Number(text);
    else if (kind === 'boolean' && (text === 'true' || text === 'false' || text === 'on')) out[key] = text !== 'false';
    else if (kind === 'json') out[key] = parseJsonOr(value);
    else out[key] = value;
  }
  return out;
}

type Kind = 'string' | 'number' | 'integer' | 'boolean' | 'json';

/** What a property holds, as far as a form can tell: `json` for objects, arrays and anything untyped. */
export function kindOf(property: unknown): Kind {
  if (!isObject(property)) return 'json';
  if (Array.isArray(property.enum) && property.enum.length > 0) {
    const kinds = new Set(property.enum.map((v) => typeof v));
    if (kinds.size === 1 && kinds.has('number')) return 'number';
    if (kinds.size === 1 && kinds.has('boolean')) return 'boolean';
    if (kinds.size === 1 && kinds.has('string')) return 'string';
    return 'json';
  }
  const types = (Array.isArray(property.type) ? property.type : [property.type]).filter((t) => t !== 'null');
  if (types.length === 1 && ['string', 'number', 'integer', 'boolean'].includes(types[0] as string)) return types[0] as Kind;
  // zod writes optional-with-null and similar as anyOf; one simple branch is enough to know.
  for (const key of ['anyOf', 'oneOf'] as const) {
    const branches = property[key];
    if (Array.isArray(branches)) {
      const simple = branches.map(kindOf).filter((k) => k !== 'json');
      if (simple.length === 1) return simple[0]!;
    }
  }
  return 'json';
}

function parseJsonOr(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
