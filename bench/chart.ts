/** A small SVG line chart of p50 and p99 latency against offered load, one colour per side. */
interface Point {
  rate: number;
  summary: { p50: number; p99: number };
}

const COLOURS: Record<string, string> = { floor: '#6b7280', bullmq: '#d97706', relay: '#2563eb' };

export function latencyChart(sweep: Record<string, Point[]>): string {
  const width = 720;
  const height = 420;
  const pad = { left: 70, right: 160, top: 30, bottom: 50 };
  const all = Object.values(sweep).flat();
  const maxRate = Math.max(...all.map((p) => p.rate), 1);
  const maxLatency = Math.max(...all.map((p) => p.summary.p99).filter(Number.isFinite), 1);
  const logMax = Math.log10(Math.max(10, maxLatency * 1.2));
  const logMin = Math.log10(Math.max(0.5, Math.min(...all.map((p) => p.summary.p50).filter(Number.isFinite)) / 1.5));
  const x = (rate: number) => pad.left + (rate / maxRate) * (width - pad.left - pad.right);
  const y = (latency: number) =>
    pad.top + (1 - (Math.log10(Math.max(latency, 10 ** logMin)) - logMin) / (logMax - logMin)) * (height - pad.top - pad.bottom);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${pad.left}" y="18" font-size="14" font-weight="600">End-to-end latency against offered load (log scale)</text>`,
  ];
  for (let e = Math.ceil(logMin); e <= Math.floor(logMax); e++) {
    const v = 10 ** e;
    parts.push(`<line x1="${pad.left}" x2="${width - pad.right}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e7eb"/>`);
    parts.push(`<text x="${pad.left - 8}" y="${y(v) + 4}" text-anchor="end">${v >= 1 ? v : v.toFixed(1)} ms</text>`);
  }
  for (let i = 0; i <= 4; i++) {
    const rate = Math.round((maxRate * i) / 4);
    parts.push(`<text x="${x(rate)}" y="${height - pad.bottom + 18}" text-anchor="middle">${rate}</text>`);
  }
  parts.push(`<text x="${(pad.left + width - pad.right) / 2}" y="${height - 12}" text-anchor="middle">offered load, jobs/s</text>`);
  let legendY = pad.top + 10;
  for (const [side, points] of Object.entries(sweep)) {
    const colour = COLOURS[side] ?? '#111';
    for (const [key, dash] of [
      ['p50', ''],
      ['p99', '5,4'],
    ] as const) {
      const d = points
        .filter((p) => Number.isFinite(p.summary[key]))
        .map((p, i) => `${i ? 'L' : 'M'}${x(p.rate).toFixed(1)},${y(p.summary[key]).toFixed(1)}`)
        .join(' ');
      if (d) parts.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="2" ${dash ? `stroke-dasharray="${dash}"` : ''}/>`);
      for (const p of points)
        if (Number.isFinite(p.summary[key])) parts.push(`<circle cx="${x(p.rate)}" cy="${y(p.summary[key])}" r="3" fill="${colour}"/>`);
      parts.push(
        `<line x1="${width - pad.right + 15}" x2="${width - pad.right + 40}" y1="${legendY}" y2="${legendY}" stroke="${colour}" stroke-width="2" ${dash ? `stroke-dasharray="${dash}"` : ''}/>`,
      );
      parts.push(`<text x="${width - pad.right + 46}" y="${legendY + 4}">${side} ${key}</text>`);
      legendY += 18;
    }
  }
  parts.push('</svg>');
  return parts.join('\n');
}
