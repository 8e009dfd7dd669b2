import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** A time series chart (uPlot): x in epoch seconds, one line per series. */
export function Chart(props: { readonly title: string; readonly x: readonly number[]; readonly series: readonly { readonly label: string; readonly values: readonly (number | null)[]; readonly colour: string }[]; readonly unit: string }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (host.current === null) return undefined;
    const plot = new uPlot(
      {
        title: props.title,
        width: Math.min(760, host.current.clientWidth || 760),
        height: 220,
        series: [{}, ...props.series.map((series) => ({ label: series.label, stroke: series.colour, width: 2, value: (_: uPlot, v: number | null) => (v === null ? '–' : `${v} ${props.unit}`) }))],
        axes: [{}, { label: props.unit }],
      },
      [props.x as number[], ...props.series.map((series) => series.values as (number | null)[])],
      host.current,
    );
    return () => plot.destroy();
  }, [props]);
  return <div class="chart" ref={host} />;
}
