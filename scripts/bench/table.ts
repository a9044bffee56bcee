// The human-readable report: one row per metric with its baseline and ratio, then each metric's other fields and
// notes. The JSON (--json) carries the same data.
import type { Machine } from "@/scripts/bench/machine";
import type { Metric, MetricValue } from "@/scripts/bench/stats";

type Report = { metrics: Record<string, Metric>; machine: Machine; date: string; mode: string };

const MAIN_FIELDS = new Set(["value", "unit", "p50", "p99", "baseline", "baseline_unit", "ratio", "notes"]);

function cell(value: MetricValue | undefined): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "n/a";
  if (typeof value === "string" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

function pad(rows: string[][]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length))) ?? [];
  return rows
    .map((row) =>
      row
        .map((text, column) => text.padEnd(widths[column] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

function wrap(text: string, width: number, indent: string): string {
  const lines: string[] = [];
  for (const paragraph of text.split("\n")) {
    let line = "";
    for (const word of paragraph.split(" ")) {
      if (line && line.length + word.length + 1 > width) {
        lines.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    lines.push(line);
  }
  return lines.map((line) => `${indent}${line}`).join("\n");
}

export function renderTable(report: Report): string {
  const header = ["metric", "value", "unit", "p50", "p99", "baseline", "ratio"];
  const rows = [header];
  for (const [name, metric] of Object.entries(report.metrics)) {
    const status = metric.error !== undefined ? "ERROR" : metric.skipped !== undefined ? "skipped" : "";
    rows.push([
      name,
      status || cell(metric.value),
      metric.unit,
      cell(metric.p50),
      cell(metric.p99),
      cell(metric.baseline),
      metric.ratio === undefined ? "" : `${cell(metric.ratio)}×`,
    ]);
  }
  const out: string[] = [pad(rows), ""];
  for (const [name, metric] of Object.entries(report.metrics)) {
    out.push(`${name}`);
    if (metric.baseline_unit) out.push(`  baseline: ${metric.baseline_unit}`);
    for (const [key, value] of Object.entries(metric)) {
      if (MAIN_FIELDS.has(key) || value === undefined) continue;
      if (value !== null && typeof value === "object" && !Array.isArray(value)) {
        out.push(`  ${key}:`);
        for (const [inner, innerValue] of Object.entries(value)) out.push(`    ${inner}: ${cell(innerValue)}`);
      } else out.push(wrap(`${key}: ${cell(value)}`, 110, "  "));
    }
    if (metric.notes) out.push(wrap(metric.notes, 110, "  "));
    out.push("");
  }
  const m = report.machine;
  out.push(
    `machine: ${m.cpus} × ${m.model}, ${m.memory}, ${m.os}, kernel ${m.kernel}, Node ${m.node}`,
    `load average (1 min): ${m.load_average.start} at the start, ${m.load_average.end} at the end`,
    `date: ${report.date} (${report.mode} run)`,
    "",
  );
  return out.join("\n");
}
