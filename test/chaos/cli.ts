/** `npm run chaos [-- JOBS [RATE]]`: the chaos run; exits non-zero unless every job ended with its result exactly once. */
import { chaosPassed, formatReport, runChaos } from './chaos.js';

const jobs = Number(process.argv[2] ?? 10_000);
const rate = Number(process.argv[3] ?? 100);
console.log(`chaos: ${jobs} sleep jobs at ${rate}/s over 2 web instances and 2 workers, with faults`);
const report = await runChaos({ jobs, rate, maxSleepMs: 2_000, workerKillEveryMs: 3_000, log: (line) => console.log(line) });
console.log(report.faults.map((f) => `  ${f}`).join('\n'));
console.log(formatReport(report));
console.log(chaosPassed(report) ? 'chaos: PASS' : 'chaos: FAIL');
process.exit(chaosPassed(report) ? 0 : 1);
