// A uPlot chart as a Preact component: the plot is made once when the element mounts, given new
// data with setData (no rebuild, so a refresh every few seconds costs a redraw), sized to its
// container by a ResizeObserver (narrow windows, the menu opening), and destroyed on unmount.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export interface ChartSeries {
  readonly label: string;
  readonly color: string;
  readonly dash?: readonly number[];
  readonly fill?: string;
}

export function Chart({ data, series, format, incrs, height = 160, testId }: {
  data: uPlot.AlignedData;
  series: readonly ChartSeries[];
  format: (v: number) => string;
  /** The y axis's tick steps (e.g. powers of two for MiB); uPlot's decimal ones otherwise. */
  incrs?: readonly number[];
  height?: number;
  testId?: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  // The latest data, for the plot made on mount (the effect below runs after it).
  const latest = useRef(data);
  latest.current = data;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(120, el.clientWidth),
      height,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(max, 1e-9) * 1.05] } },
      axes: [
        { stroke: '#667587', grid: { stroke: '#eef2f6' }, ticks: { stroke: '#dde3ea' } },
        { stroke: '#667587', grid: { stroke: '#eef2f6' }, ticks: { stroke: '#dde3ea' }, size: 64, values: (_u, vals) => vals.map((v) => format(v)), ...(incrs ? { incrs: [...incrs] } : {}) },
      ],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 1.5,
          points: { show: false },
          ...(s.dash ? { dash: [...s.dash] } : {}),
          ...(s.fill ? { fill: s.fill } : {}),
          value: (_u: uPlot, v: number | null) => (v === null ? '—' : format(v)),
        })),
      ],
    };
    const p = new uPlot(opts, latest.current, el);
    plot.current = p;
    const resize = new ResizeObserver(() => {
      const width = Math.max(120, el.clientWidth);
      if (width !== p.width) p.setSize({ width, height });
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      p.destroy();
      plot.current = null;
    };
  }, []);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  return <div class="chart" ref={box} data-testid={testId} />;
}
