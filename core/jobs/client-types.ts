/**
 * TypeScript types of the declared job types, for the client: each type's input (and result,
 * where declared) from its JSON Schema, and a `RelayJobs` interface that
 * `createRelayClient<RelayJobs>()` takes, so a wrong input is a compile error in the caller's code.
 */
import { compile } from 'json-schema-to-typescript';
import type { JobType } from './job-type.js';

/** Keywords whose value is one subschema, a list of them, or a map of them (2020-12 and draft-07). */
const ONE = ['additionalItems', 'additionalProperties', 'contains', 'else', 'if', 'items', 'not', 'propertyNames', 'then'];
const LIST = ['allOf', 'anyOf', 'oneOf', 'prefixItems', 'items'];
const MAP = ['$defs', 'definitions', 'dependentSchemas', 'patternProperties', 'properties'];

/**
 * A copy of a schema whose titles (the page's form labels) become descriptions: the type
 * generator would otherwise make a named type of every titled field (`type DurationMs = number`).
 */
function titlesAsDescriptions(schema: unknown): unknown {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return schema;
  const copy: Record<string, unknown> = { ...(schema as Record<string, unknown>) };
  if (typeof copy.title === 'string') {
    copy.description ??= copy.title;
    delete copy.title;
  }
  for (const key of ONE) if (key in copy && !Array.isArray(copy[key])) copy[key] = titlesAsDescriptions(copy[key]);
  for (const key of LIST) if (Array.isArray(copy[key])) copy[key] = (copy[key] as unknown[]).map(titlesAsDescriptions);
  for (const key of MAP) {
    const map = copy[key];
    if (typeof map !== 'object' || map === null || Array.isArray(map)) continue;
    copy[key] = Object.fromEntries(Object.entries(map).map(([name, sub]) => [name, titlesAsDescriptions(sub)]));
  }
  return copy;
}

/** `register-user` → `RegisterUser`; a name starting with a digit gets a `Job` prefix. */
function namespaceOf(name: string, taken: Set<string>): string {
  const words = name.split(/[^A-Za-z0-9]+/).filter(Boolean);
  let base = words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('') || 'Job';
  if (/^\d/.test(base)) base = `Job${base}`;
  let chosen = base;
  for (let i = 2; taken.has(chosen); i++) chosen = `${base}${i}`;
  taken.add(chosen);
  return chosen;
}

/** One schema as TypeScript declarations: `name` for the schema, `name<Key>` for each of its `$defs`. */
async function typesOf(schema: Record<string, unknown>, name: string): Promise<string> {
  return compile(titlesAsDescriptions(schema) as Parameters<typeof compile>[0], name, {
    bannerComment: '',
    // A field the schema does not list is not part of the type: a misspelt field is a compile error.
    additionalProperties: false,
    unknownAny: true,
    strictIndexSignatures: true,
    declareExternallyReferenced: true,
    style: { printWidth: 120, singleQuote: true },
    customName: (_schema, definition) => (definition ? `${name}${definition}` : undefined),
  });
}

function indent(text: string): string {
  return text
    .trim()
    .split('\n')
    .map((line) => (line ? `  ${line}` : line))
    .join('\n');
}

/** The declarations file: a namespace of types per job type, and `RelayJobs`. */
export async function clientTypesOf(jobTypes: Iterable<JobType>): Promise<string> {
  const taken = new Set(['RelayJobs']);
  const namespaces: string[] = [];
  const entries: string[] = [];
  for (const type of [...jobTypes].sort((a, b) => a.name.localeCompare(b.name))) {
    const ns = namespaceOf(type.name, taken);
    let body = await typesOf(type.inputSchema, 'Input');
    if (type.resultSchema) body += `\n${await typesOf(type.resultSchema, 'Result')}`;
    const about = type.title ?? type.description;
    namespaces.push(`${about ? `/** ${about.replace(/\*\//g, '*\\/')} */\n` : ''}export declare namespace ${ns} {\n${indent(body)}\n}`);
    entries.push(`  ${JSON.stringify(type.name)}: { input: ${ns}.Input${type.resultSchema ? `; result: ${ns}.Result` : ''} };`);
  }
  return [
    '/* Written by `relay types` from the job types Relay loads (JOBS_DIR). Do not edit: run it again after changing a declaration. */',
    '',
    ...namespaces.flatMap((n) => [n, '']),
    '/** Every job type by name: `createRelayClient<RelayJobs>()`. */',
    'export interface RelayJobs {',
    ...entries,
    '}',
    '',
  ].join('\n');
}
