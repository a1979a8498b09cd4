/**
 * Draws throughput against concurrency (log scale) as an SVG, one line per members × via. A
 * complete `npm run bench` draws it from its own results (bench/main.ts); by hand, from saved
 * `--json` output: `npx tsx bench/chart.ts <results.jsonl> <out.svg>`.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import type { Result } from './util.js';

/** The chart of the `propose_throughput` lines of `results` (unsealed ones), as SVG text. */
export function throughputSvg(results: readonly Result[]): string {
  const rows = results.filter((r) => r.metric === 'propose_throughput' && r.sealed !== true);

  const series = new Map<string, Array<[number, number]>>();
  for (const r of rows) {
    const name = `${r.members} members, via ${r.via}`;
    const points = series.get(name) ?? [];
    points.push([Number(r.concurrency), r.value]);
    series.set(name, points);
  }

  const W = 640;
  const H = 400;
  const M = { left: 70, right: 20, top: 30, bottom: 50 };
  const xs = rows.map((r) => Number(r.concurrency));
  const maxX = Math.max(...xs, 2);
  const maxY = Math.max(...rows.map((r) => r.value), 1) * 1.1;
  const x = (c: number): number => M.left + (Math.log2(c) / Math.log2(maxX)) * (W - M.left - M.right);
  const y = (v: number): number => H - M.bottom - (v / maxY) * (H - M.top - M.bottom);
  const colors = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    '<title>proposeInput throughput against concurrency</title>',
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="14">proposeInput throughput (256-byte values)</text>`,
    `<line x1="${M.left}" y1="${H - M.bottom}" x2="${W - M.right}" y2="${H - M.bottom}" stroke="black"/>`,
    `<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${H - M.bottom}" stroke="black"/>`,
    `<text x="${W / 2}" y="${H - 10}" text-anchor="middle">concurrent proposers (log scale)</text>`,
    `<text x="15" y="${H / 2}" text-anchor="middle" transform="rotate(-90 15 ${H / 2})">proposals/s</text>`,
  ];
  for (const c of [...new Set(xs)].sort((a, b) => a - b)) {
    parts.push(`<text x="${x(c)}" y="${H - M.bottom + 16}" text-anchor="middle">${c}</text>`);
  }
  for (let i = 0; i <= 5; i++) {
    const v = Math.round((maxY / 5) * i);
    parts.push(`<text x="${M.left - 6}" y="${y(v) + 4}" text-anchor="end">${v}</text>`);
    parts.push(`<line x1="${M.left}" y1="${y(v)}" x2="${W - M.right}" y2="${y(v)}" stroke="#ddd"/>`);
  }
  let i = 0;
  for (const [name, points] of series) {
    const color = colors[i % colors.length] ?? 'black';
    const sorted = [...points].sort((a, b) => a[0] - b[0]);
    const d = sorted.map(([c, v]) => `${x(c).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    parts.push(`<polyline points="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const [c, v] of sorted) parts.push(`<circle cx="${x(c)}" cy="${y(v)}" r="3" fill="${color}"/>`);
    parts.push(`<rect x="${M.left + 15}" y="${M.top + 8 + i * 18}" width="12" height="3" fill="${color}"/>`);
    parts.push(`<text x="${M.left + 32}" y="${M.top + 14 + i * 18}">${name}</text>`);
    i++;
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [input = 'bench/results/full.jsonl', output = 'bench/results/throughput.svg'] = process.argv.slice(2);
  const results = (await readFile(input, 'utf8'))
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Result);
  await writeFile(output, throughputSvg(results));
  console.log(`wrote ${output}`);
}
