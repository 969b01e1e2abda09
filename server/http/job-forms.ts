/**
 * The page's forms, one per job type, built from each type's input JSON Schema: text, email,
 * URL and date inputs for strings, numeric inputs for numbers and integers, a checkbox for a
 * boolean, a select for an enum, a textarea (JSON) for anything else. Labels come from each
 * field's `title`. The forms post as they are (browsers without JavaScript); the page's script
 * takes them over. Every value is HTML-escaped.
 */
import { isObject, kindOf } from '../../core/jobs/form-fields.js';
import type { JobType } from '../../core/jobs/index.js';
import { escapeHtml } from './html-pages.js';

export function jobFormsHtml(jobTypes: Iterable<JobType>): string {
  return [...jobTypes].map(jobFormHtml).join('\n');
}

export function jobFormHtml(type: JobType): string {
  const id = type.form?.id ?? type.name;
  const properties = isObject(type.inputSchema.properties) ? type.inputSchema.properties : {};
  const required = new Set(Array.isArray(type.inputSchema.required) ? type.inputSchema.required.map(String) : []);
  const title = type.title ?? humanise(type.name);
  const lines = [
    `<form id="${attr(`${id}-form`)}" method="post" action="/api/jobs/${attr(encodeURIComponent(type.name))}" novalidate data-job-type="${attr(type.name)}" data-title="${attr(title)}">`,
    `  <h2>${escapeHtml(title)}</h2>`,
  ];
  if (type.description) lines.push(`  <p class="form-description">${escapeHtml(type.description)}</p>`);
  for (const [name, property] of Object.entries(properties)) lines.push(fieldHtml(`${id}-${name}`, name, property, required.has(name)));
  lines.push(`  <button type="submit">${escapeHtml(type.form?.submitLabel ?? 'Start')}</button>`, '</form>');
  return lines.join('\n');
}

function fieldHtml(id: string, name: string, property: unknown, required: boolean): string {
  const schema = isObject(property) ? property : {};
  const label = typeof schema.title === 'string' ? schema.title : humanise(name);
  const hint = typeof schema.description === 'string' ? schema.description : undefined;
  const describedBy = [hint ? `${id}-hint` : undefined, `${id}-error`].filter(Boolean).join(' ');
  const common = `id="${attr(id)}" name="${attr(name)}"${required ? ' required' : ''} aria-describedby="${attr(describedBy)}"`;
  const initial = initialValue(schema);
  const kind = kindOf(schema);
  const hintHtml = hint ? `\n    <p class="field-hint" id="${attr(`${id}-hint`)}">${escapeHtml(hint)}</p>` : '';
  const errorHtml = `\n    <p class="field-error" id="${attr(`${id}-error`)}"></p>`;

  if (kind === 'boolean' && !Array.isArray(schema.enum)) {
    // An unticked box posts nothing; the hidden field says false, and a ticked box's true comes after it.
    return `  <div class="field field-check">
    <input type="hidden" name="${attr(name)}" value="false">
    <input type="checkbox" ${common} value="true"${initial === true ? ' checked' : ''}>
    <label for="${attr(id)}">${escapeHtml(label)}</label>${hintHtml}${errorHtml}
  </div>`;
  }
  let control: string;
  if (Array.isArray(schema.enum)) {
    const options = schema.enum.map((v) => {
      const value = typeof v === 'string' ? v : JSON.stringify(v);
      return `<option value="${attr(value)}"${v === initial ? ' selected' : ''}>${escapeHtml(value)}</option>`;
    });
    if (!required || initial === undefined) options.unshift(`<option value=""${initial === undefined ? ' selected' : ''}></option>`);
    control = `<select ${common}>${options.join('')}</select>`;
  } else if (kind === 'json') {
    const text = initial === undefined ? '' : typeof initial === 'string' ? initial : JSON.stringify(initial, null, 2);
    control = `<textarea ${common} rows="3" spellcheck="false">${escapeHtml(text)}</textarea>`;
  } else {
    const value = initial === undefined ? '' : ` value="${attr(String(initial))}"`;
    control = `<input ${common}${inputAttributes(kind, schema)}${value}>`;
  }
  return `  <div class="field">
    <label for="${attr(id)}">${escapeHtml(label)}</label>${hintHtml}
    ${control}${errorHtml}
  </div>`;
}

/** Text inputs throughout (the schema, not the browser, says what is valid), with the keyboard and autofill that fit. */
function inputAttributes(kind: string, schema: Record<string, unknown>): string {
  if (kind === 'integer') return ' inputmode="numeric"';
  if (kind === 'number') return ' inputmode="decimal"';
  switch (schema.format) {
    case 'email':
      return ' type="email" autocomplete="email"';
    case 'uri':
    case 'url':
      return ' type="url"';
    case 'date':
      return ' type="date"';
    default:
      return '';
  }
}

/** What the field shows at first: the schema's first example, else its default. */
function initialValue(schema: Record<string, unknown>): unknown {
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0];
  return schema.default;
}

/** `register-user` → `Register user`, `maxItems` → `Max items`. */
function humanise(name: string): string {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[-_.]+/g, ' ')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function attr(value: string): string {
  return escapeHtml(value);
}
