import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { expect } from 'chai';

const ROOT = path.resolve(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
const json = (file: string) => JSON.parse(read(file));

/** What the production build compiles: the code that runs in production, nothing else. */
const RUNTIME_DIRS: string[] = json('tsconfig.build.json').include;

/** Heroku's dyno sizes: Eco and Basic run one dyno per process type and cannot share an app with the others. */
const SINGLE_DYNO_SIZES = ['eco', 'basic'];
const SCALABLE_SIZES = [
  'standard-1x',
  'standard-2x',
  'performance-m',
  'performance-l',
  'performance-l-ram',
  'performance-xl',
  'performance-2xl',
];

function procfile(): Map<string, string> {
  const lines = read('Procfile')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'));
  return new Map(lines.map((l) => [l.slice(0, l.indexOf(':')).trim(), l.slice(l.indexOf(':') + 1).trim()]));
}

describe('deployment files', () => {
  it('app.json has a formation Heroku can run: one dyno per type at Eco or Basic, one tier per app', () => {
    const formation = json('app.json').formation as Record<string, { quantity: number; size: string }>;
    expect(Object.keys(formation).sort()).to.deep.equal([...procfile().keys()].sort());
    const sizes = Object.values(formation).map((f) => f.size.toLowerCase());
    for (const size of sizes) expect([...SINGLE_DYNO_SIZES, ...SCALABLE_SIZES]).to.include(size);
    for (const [type, { quantity, size }] of Object.entries(formation)) {
      expect(quantity, type).to.be.at.least(1);
      if (SINGLE_DYNO_SIZES.includes(size.toLowerCase())) expect(quantity, `${type} at ${size}`).to.equal(1);
    }
    const singleTier = sizes.every((s) => SINGLE_DYNO_SIZES.includes(s)) || sizes.every((s) => SCALABLE_SIZES.includes(s));
    expect(singleTier, `sizes ${sizes.join(', ')}`).to.equal(true);
  });

  it('app.json leaves dev dependencies to be pruned after the build', () => {
    expect(Object.keys(json('app.json').env)).to.not.include('NPM_CONFIG_PRODUCTION');
  });

  it('README scales beyond one dyno only after moving off Basic', () => {
    const deploying =
      read('README.md')
        .split(/^### Deploying/m)[1]
        ?.split(/^##/m)[0] ?? '';
    for (const scale of deploying.matchAll(/ps:scale ([^`\n]*)/g)) {
      const quantities = [...scale[1]!.matchAll(/=(\d+)/g)].map((m) => Number(m[1]));
      if (quantities.some((q) => q > 1))
        expect(deploying.slice(0, scale.index), 'a ps:type before the ps:scale').to.match(/ps:type [^`\n]*standard/);
    }
  });

  it('every Procfile command execs its process, so the runner’s signals reach it', () => {
    for (const [type, command] of procfile()) expect(command, type).to.match(/^exec node dist\//);
  });

  it('the production build compiles the runtime code only', () => {
    expect(json('package.json').scripts.build).to.match(/^tsc -p tsconfig\.build\.json /);
    expect(RUNTIME_DIRS).to.include.members(['core', 'server', 'consumer', 'embedded']);
    expect(RUNTIME_DIRS).to.not.include('test');
    expect(RUNTIME_DIRS).to.not.include('bench');
    // The type check still covers the tests and benchmarks.
    expect(json('package.json').scripts.typecheck).to.equal('tsc -p tsconfig.json --noEmit');
    expect(json('tsconfig.json').include).to.include.members([...RUNTIME_DIRS, 'test', 'bench']);
  });

  it('the runtime code imports nothing the production install leaves out', () => {
    const dependencies = Object.keys(json('package.json').dependencies);
    const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
    for (const dir of RUNTIME_DIRS) {
      for (const entry of readdirSync(path.join(ROOT, dir), { recursive: true })) {
        const file = path.join(dir, String(entry));
        if (!file.endsWith('.ts')) continue;
        const specifiers = [
          ...read(file).matchAll(/^(?:(?:import|export)\b.*? from |\} from |import )'([^']+)';?$|\bimport\('([^']+)'\)/gm),
        ].map((m) => (m[1] ?? m[2])!);
        for (const specifier of specifiers.filter((s) => !s.startsWith('.'))) {
          if (builtins.has(specifier) || specifier.startsWith('node:')) continue;
          const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;
          expect(dependencies, `${file} imports ${specifier}`).to.include(name);
        }
      }
    }
  });
});
