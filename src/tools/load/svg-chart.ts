/**
 * A small SVG writer for the benchmark report: one panel per path, achieved throughput (and the
 * ideal "achieved = offered" diagonal) on the left axis and p99 end-to-end latency on the right,
 * both by offered load. Plain SVG text, no browser, no dependency.
 */

export interface ChartPoint {
  readonly offeredPerSec: number;
  readonly achievedPerSec: number;
  readonly p99Ms: number;
}

export interface ChartPanel {
  readonly title: string;
  readonly points: readonly ChartPoint[];
}

const panelWidth = 460;
const panelHeight = 300;
const margin = { left: 64, right: 56, top: 36, bottom: 44 };
const throughputColor = "#1f6feb";
const latencyColor = "#d1242f";

const escapeXml = (text: string) =>
  text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");

/** A "nice" axis maximum: 1, 2 or 5 times a power of ten at or above `value`. */
export function niceCeiling(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

export function compactNumber(value: number): string {
  if (value >= 1_000_000) return `${+(value / 1_000_000).toFixed(1)}M`;
  if (value >= 1_000) return `${+(value / 1_000).toFixed(1)}k`;
  return `${+value.toFixed(1)}`;
}

function panel(chart: ChartPanel, offsetX: number): string {
  const innerW = panelWidth - margin.left - margin.right;
  const innerH = panelHeight - margin.top - margin.bottom;
  const xMax = niceCeiling(Math.max(...chart.points.map((p) => p.offeredPerSec), 1));
  const yMax = niceCeiling(
    Math.max(...chart.points.map((p) => Math.max(p.achievedPerSec, p.offeredPerSec)), 1),
  );
  const latencyMax = niceCeiling(
    Math.max(...chart.points.map((p) => (Number.isFinite(p.p99Ms) ? p.p99Ms : 0)), 1),
  );
  const x = (v: number) => offsetX + margin.left + (v / xMax) * innerW;
  const y = (v: number) => margin.top + innerH - (v / yMax) * innerH;
  const yLatency = (v: number) => margin.top + innerH - (Math.min(v, latencyMax) / latencyMax) * innerH;
  const parts: string[] = [];
  parts.push(
    `<text x="${offsetX + panelWidth / 2}" y="20" text-anchor="middle" font-weight="bold">${escapeXml(chart.title)}</text>`,
  );
  for (let i = 0; i <= 4; i += 1) {
    const gy = margin.top + (innerH * i) / 4;
    parts.push(
      `<line x1="${offsetX + margin.left}" x2="${offsetX + margin.left + innerW}" y1="${gy}" y2="${gy}" stroke="#e5e7eb"/>`,
      `<text x="${offsetX + margin.left - 6}" y="${gy + 4}" text-anchor="end" fill="${throughputColor}">${compactNumber((yMax * (4 - i)) / 4)}</text>`,
      `<text x="${offsetX + margin.left + innerW + 6}" y="${gy + 4}" fill="${latencyColor}">${compactNumber((latencyMax * (4 - i)) / 4)}</text>`,
    );
    const gx = offsetX + margin.left + (innerW * i) / 4;
    parts.push(
      `<text x="${gx}" y="${margin.top + innerH + 16}" text-anchor="middle">${compactNumber((xMax * i) / 4)}</text>`,
    );
  }
  parts.push(
    `<rect x="${offsetX + margin.left}" y="${margin.top}" width="${innerW}" height="${innerH}" fill="none" stroke="#9ca3af"/>`,
    `<text x="${offsetX + margin.left + innerW / 2}" y="${panelHeight - 8}" text-anchor="middle">offered transfers/s</text>`,
    `<text transform="translate(${offsetX + 14} ${margin.top + innerH / 2}) rotate(-90)" text-anchor="middle" fill="${throughputColor}">achieved transfers/s</text>`,
    `<text transform="translate(${offsetX + panelWidth - 10} ${margin.top + innerH / 2}) rotate(90)" text-anchor="middle" fill="${latencyColor}">p99 ms (accepted → confirmed)</text>`,
    `<line x1="${x(0)}" y1="${y(0)}" x2="${x(Math.min(xMax, yMax))}" y2="${y(Math.min(xMax, yMax))}" stroke="#9ca3af" stroke-dasharray="4 4"/>`,
  );
  const line = (points: [number, number][], color: string) =>
    points.length === 0
      ? ""
      : `<polyline fill="none" stroke="${color}" stroke-width="2" points="${points.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(" ")}"/>` +
        points
          .map(([px, py]) => `<circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="3" fill="${color}"/>`)
          .join("");
  parts.push(
    line(
      chart.points.map((p) => [x(p.offeredPerSec), y(p.achievedPerSec)]),
      throughputColor,
    ),
  );
  parts.push(
    line(
      chart.points
        .filter((p) => Number.isFinite(p.p99Ms))
        .map((p) => [x(p.offeredPerSec), yLatency(p.p99Ms)]),
      latencyColor,
    ),
  );
  return parts.join("\n");
}

export function renderChart(panels: readonly ChartPanel[], caption: string): string {
  const width = panelWidth * panels.length;
  const height = panelHeight + 24;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...panels.map((p, i) => panel(p, i * panelWidth)),
    `<text x="8" y="${height - 6}" fill="#6b7280">${escapeXml(caption)}</text>`,
    "</svg>",
    "",
  ].join("\n");
}
