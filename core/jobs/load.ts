import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { JobType } from './job-type.js';
import { DeclarationError, normaliseJobType } from './normalise.js';

/** Files that declare a job type; anything else in the directory (helpers in folders, READMEs, maps) is not. */
const MODULE_EXTENSIONS = ['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts'];
const TYPESCRIPT = ['.ts', '.mts', '.cts'];

export interface DeclarationProblem {
  /** The file, relative to the directory. */
  file: string;
  problem: string;
}

/** Some declarations cannot be used: nothing is loaded, and the message lists each file and its problem. */
export class JobTypesError extends Error {
  constructor(
    readonly dir: string,
    readonly problems: DeclarationProblem[],
  ) {
    super(`job types in ${dir} cannot be loaded:\n${problems.map((p) => `  ${p.file}: ${p.problem}`).join('\n')}`);
    this.name = 'JobTypesError';
  }
}

function isDeclarationFile(file: string): boolean {
  if (/\.d\.[cm]?ts$/.test(file) || file.startsWith('.')) return false;
  return file.endsWith('.json') || MODULE_EXTENSIONS.includes(path.extname(file));
}

/**
 * Loads every job type declared in `dir`, one per file: a module whose default export is a
 * declaration (`defineJobType({…})`), or a JSON file with the same fields and no handler. Either
 * every file loads and every name is unique, or it throws JobTypesError naming each bad file.
 */
export async function loadJobTypes(dir: string): Promise<Map<string, JobType>> {
  const root = path.resolve(dir);
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (err) {
    throw new JobTypesError(root, [
      { file: '.', problem: `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` },
    ]);
  }
  const files = entries
    .filter((e) => (e.isFile() || e.isSymbolicLink()) && isDeclarationFile(e.name))
    .map((e) => e.name)
    .sort();
  const problems: DeclarationProblem[] = [];
  const types = new Map<string, JobType>();
  const declaredIn = new Map<string, string>();
  const formIds = new Map<string, string>();
  for (const file of files) {
    let type: JobType;
    try {
      type = normaliseJobType(await readDeclaration(path.join(root, file)), file);
    } catch (err) {
      problems.push({ file, problem: err instanceof DeclarationError ? err.message : (err as Error).message });
      continue;
    }
    const first = declaredIn.get(type.name);
    if (first) {
      problems.push({ file, problem: `job type "${type.name}" is already declared in ${first}` });
      continue;
    }
    const formId = type.form?.id ?? type.name;
    const formOwner = formIds.get(formId);
    if (formOwner) {
      problems.push({ file, problem: `form id "${formId}" is already used by ${formOwner}` });
      continue;
    }
    declaredIn.set(type.name, file);
    formIds.set(formId, file);
    types.set(type.name, type);
  }
  if (problems.length === 0 && types.size === 0) {
    problems.push({ file: '.', problem: `declares no job types (one .js, .mjs or .json file per type)` });
  }
  if (problems.length > 0) throw new JobTypesError(root, problems);
  return types;
}

async function readDeclaration(file: string): Promise<unknown> {
  if (file.endsWith('.json')) {
    let declaration: unknown;
    try {
      declaration = JSON.parse(await readFile(file, 'utf8'));
    } catch (err) {
      throw new DeclarationError(`is not valid JSON: ${(err as Error).message}`);
    }
    return declaration;
  }
  let module: Record<string, unknown>;
  try {
    module = await import(pathToFileURL(file).href);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_UNKNOWN_FILE_EXTENSION' && TYPESCRIPT.includes(path.extname(file))) {
      throw new DeclarationError(
        'does not load: TypeScript needs compiling first (tsc), or a TypeScript loader in this process (NODE_OPTIONS=--import=tsx)',
      );
    }
    throw new DeclarationError(`does not load: ${firstLine(err)}`);
  }
  if (module.default === undefined) throw new DeclarationError('has no default export (export default defineJobType({ … }))');
  return module.default;
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err);
  return text.split('\n')[0]!;
}

/** Loads the job types or ends the process (exit 78, like a configuration error) naming each bad file. */
export async function loadJobTypesOrExit(dir: string, processName: string): Promise<Map<string, JobType>> {
  try {
    return await loadJobTypes(dir);
  } catch (err) {
    if (!(err instanceof JobTypesError)) throw err;
    process.stderr.write(`${processName}: ${err.message}\n`);
    process.exit(78);
  }
}
