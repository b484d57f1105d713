/**
 * A time-series chart on uPlot (small and fast). The chart is decorative for screen readers:
 * every chart sits in a <figure> whose caption states the current numbers.
 */
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface ChartSeries {
  readonly label: string;
  readonly color: string;
  readonly values: readonly (number | null)[];
  readonly fill?: boolean;
  /** Series on the "side" scale get their own axis on the right (e.g. failures next to successes). */
  readonly side?: boolean;
  /**
   * Sparse series (latency has a sample only in seconds with traffic): draw each sample as a dot
   * and join the dots across empty seconds, so a few samples are still visible.
   */
  readonly sparse?: boolean;
}

const chartHeightPx = 220;

function options(width: number, series: readonly ChartSeries[], unit: string): uPlot.Options {
  const axisStroke = "#5b6478";
  const grid = { stroke: "rgba(91, 100, 120, 0.15)", width: 1 };
  return {
    width,
    height: chartHeightPx,
    // Room on the right for the last time label (centred on its tick, it was cut in half).
    padding: [12, series.some((entry) => entry.side) ? 8 : 36, 0, 0],
    legend: { show: true, live: false },
    cursor: { drag: { x: false, y: false } },
    scales: {
      x: { time: true },
      y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1] },
      side: { range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1] },
    },
    axes: [
      {
        stroke: axisStroke,
        grid,
        ticks: grid,
        space: 110,
        values: (_u, splits) =>
          splits.map((seconds) =>
            new Date(seconds * 1000).toLocaleTimeString([], {
              hour: "2-digit",
              minute: "2-digit",
              second: "2-digit",
            }),
          ),
      },
      {
        stroke: axisStroke,
        grid,
        ticks: grid,
        size: unit ? 72 : 56,
        values: (_u, splits) => splits.map((value) => `${Number(value.toFixed(2))}${unit}`),
      },
      ...(series.some((entry) => entry.side)
        ? [
            {
              scale: "side",
              side: 1,
              stroke: "#c23434",
              grid: { show: false },
              ticks: grid,
              size: 48,
              values: (_u: uPlot, splits: number[]) => splits.map((value) => `${Number(value.toFixed(2))}`),
            },
          ]
        : []),
    ],
    series: [
      {},
      ...series.map((entry) => ({
        label: entry.label,
        stroke: entry.color,
        width: 2,
        points: entry.sparse ? { show: true, size: 6, fill: entry.color } : { show: false },
        spanGaps: entry.sparse ?? false,
        ...(entry.side ? { scale: "side" } : {}),
        ...(entry.fill ? { fill: `${entry.color}22` } : {}),
      })),
    ],
  };
}

export function TimeChart(props: {
  timesMs: readonly number[];
  series: readonly ChartSeries[];
  unit?: string;
}) {
  const container = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = props.series.map((entry) => `${entry.label}:${entry.color}:${entry.side ?? false}`).join("|");

  const data = (): uPlot.AlignedData => [
    props.timesMs.map((ms) => ms / 1000),
    ...props.series.map((entry) => entry.values.slice() as (number | null)[]),
  ];

  // (Re)create when the set of series changes; otherwise only the data is updated.
  // biome-ignore lint/correctness/useExhaustiveDependencies: recreated only when the series shape changes
  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const chart = new uPlot(
      options(element.clientWidth || 320, props.series, props.unit ?? ""),
      data(),
      element,
    );
    plot.current = chart;
    const resize = new ResizeObserver(() =>
      chart.setSize({ width: element.clientWidth, height: chartHeightPx }),
    );
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = null;
    };
  }, [shape, props.unit]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: data() reads the current props
  useEffect(() => {
    plot.current?.setData(data());
  }, [props.timesMs, props.series]);

  return <div ref={container} className="chart" aria-hidden="true" />;
}
