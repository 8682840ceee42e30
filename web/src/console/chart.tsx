/** A uPlot chart that fills its container's width: drawn once, redrawn with new data, resized
 * with the page. The canvas is an image for screen readers; its numbers are in a table beside it. */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartProps {
  /** What the chart shows, for screen readers. */
  label: string;
  options: Omit<uPlot.Options, 'width'>;
  data: uPlot.AlignedData;
}

export function Chart({ label, options, data }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const chart = new uPlot({ ...options, width: element.clientWidth || 300 }, data, element);
    plot.current = chart;
    const resize = new ResizeObserver(() => {
      chart.setSize({ width: element.clientWidth || 300, height: options.height });
    });
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = null;
    };
  }, []);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  return <div class="chart" ref={box} role="img" aria-label={label} />;
}

/** Colours of the three outcomes, shared by every chart and legend. */
export const OUTCOME_COLOURS = {
  resolved: '#1d6b33',
  max_attempts: '#b34d00',
  open: '#0b5cad',
} as const;

const AXIS = { stroke: '#515b66', grid: { stroke: '#e3e8ee', width: 1 }, ticks: { show: false } };

/** Options shared by the console's charts: no legend or cursor (the tables carry the numbers),
 * whole numbers from zero up on the y axis. */
export function baseOptions(
  height: number,
): Pick<uPlot.Options, 'height' | 'legend' | 'cursor' | 'axes' | 'scales'> {
  return {
    height,
    legend: { show: false },
    cursor: { show: false },
    scales: { y: { range: (_plot, _min, max) => [0, Math.max(1, Math.ceil(max * 1.1))] } },
    axes: [{ ...AXIS }, { ...AXIS, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000] }],
  };
}

export const bars = (size = 0.7) => uPlot.paths.bars?.({ size: [size, 64], gap: 2 });
