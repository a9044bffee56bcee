"use client";

// One uPlot chart (a small, maintained canvas charting library: thousands of points redraw in a few milliseconds,
// about 50 kB, no dependencies) sized to its container, with the range's deployments drawn as vertical lines and
// labels on the time axis so a change after a deploy is visible at a glance.
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export type ChartSeries = { label: string; color: string; dash?: number[] };
export type DeployMarker = { at: number; label: string; failed: boolean };

type Props = {
  title: string;
  /** x in Unix seconds, then one array per series (null: no point). */
  data: uPlot.AlignedData;
  series: ChartSeries[];
  markers: DeployMarker[];
  format: (value: number) => string;
  /** The range shown, in Unix seconds, so every chart spans the same time. */
  from: number;
  to: number;
};

const HEIGHT = 180;

function markersPlugin(markers: DeployMarker[]): uPlot.Plugin {
  return {
    hooks: {
      draw: [
        (u) => {
          const { ctx } = u;
          const { top, height } = u.bbox;
          ctx.save();
          ctx.font = `${10 * devicePixelRatio}px sans-serif`;
          for (const marker of markers) {
            const x = Math.round(u.valToPos(marker.at, "x", true));
            if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
            ctx.strokeStyle = marker.failed ? "#dc2626" : "#7c3aed";
            ctx.fillStyle = ctx.strokeStyle;
            ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
            ctx.beginPath();
            ctx.moveTo(x, top);
            ctx.lineTo(x, top + height);
            ctx.stroke();
            ctx.fillText(marker.label, x + 3 * devicePixelRatio, top + 10 * devicePixelRatio);
          }
          ctx.restore();
        },
      ],
    },
  };
}

export function UPlotChart({ title, data, series, markers, format, from, to }: Props) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const options: uPlot.Options = {
      width: Math.max(element.clientWidth, 200),
      height: HEIGHT,
      scales: { x: { time: true, range: () => [from, to] } },
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          dash: s.dash,
          width: 1.5,
          spanGaps: false,
          value: (_u: uPlot, value: number | null) => (value === null ? "–" : format(value)),
        })),
      ],
      axes: [{}, { values: (_u, values) => values.map((value) => format(value)), size: 70 }],
      legend: { live: true },
      plugins: [markersPlugin(markers)],
    };
    const plot = new uPlot(options, data, element);
    const observer = new ResizeObserver(() =>
      plot.setSize({ width: Math.max(element.clientWidth, 200), height: HEIGHT }),
    );
    observer.observe(element);
    return () => {
      observer.disconnect();
      plot.destroy();
    };
  }, [data, series, markers, format, from, to]);
  return (
    <figure className="min-w-0">
      <figcaption className="mb-1 font-medium text-sm text-zinc-700 dark:text-zinc-300">{title}</figcaption>
      <div ref={box} role="img" aria-label={`${title} chart`} />
    </figure>
  );
}
