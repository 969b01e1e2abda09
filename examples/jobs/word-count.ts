import { defineJobType, JobError, z } from 'relay';

/** Counts the words of a text, reporting progress as it goes. Run by `relay worker`. */
export default defineJobType({
  name: 'word-count',
  title: 'Count words',
  input: z.object({
    text: z.string().min(1).max(10_000).meta({ title: 'Text' }),
    ignoreCase: z.boolean().default(true).meta({ title: 'Ignore case' }),
  }),
  maxAttempts: 2,
  async handler({ text, ignoreCase }, { progress, signal, logger }) {
    const words = (ignoreCase ? text.toLowerCase() : text).match(/[\p{L}\p{N}']+/gu) ?? [];
    if (words.length === 0) throw new JobError('no_words', 'The text has no words');
    const counts = new Map<string, number>();
    for (const [i, word] of words.entries()) {
      signal.throwIfAborted();
      counts.set(word, (counts.get(word) ?? 0) + 1);
      if ((i + 1) % 100 === 0) await progress(Math.round((100 * (i + 1)) / words.length), `${i + 1} words`);
    }
    await progress(100, `${words.length} words`);
    logger.info({ words: words.length }, 'text counted');
    const top = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 3);
    return { words: words.length, unique: counts.size, top: Object.fromEntries(top) };
  },
});
