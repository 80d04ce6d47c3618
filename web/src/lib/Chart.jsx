// A time-series line chart drawn by uPlot: created once, fed new data on every render,
// resized with its container. `data` is [times in seconds, ...one array per series].
import uPlot from 'uplot';
import { useEffect, useRef } from 'preact/hooks';

export function Chart({ title, series, data, testid, height = 170, format = (v) => String(v) }) {
  const box = useRef(null);
  const plot = useRef(null);
  const fmt = useRef(format);
  fmt.current = format;
  const seriesKey = series.map((s) => s.label).join('|');

  useEffect(() => {
    const el = box.current;
    const show = (v) => (v === null || v === undefined ? '—' : fmt.current(v));
    const opts = {
      width: Math.max(200, el.clientWidth),
      height,
      cursor: { sync: { key: 'flow' } },
      legend: { live: true },
      scales: { x: { time: true } },
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 1.5,
          spanGaps: false,
          points: { show: false },
          value: (u, v) => show(v),
        })),
      ],
      axes: [
        { stroke: '#555', grid: { stroke: '#eee' }, ticks: { stroke: '#ddd' } },
        { stroke: '#555', grid: { stroke: '#eee' }, ticks: { stroke: '#ddd' }, size: 56, values: (u, vals) => vals.map(show) },
      ],
    };
    plot.current = new uPlot(opts, data, el);
    let frame = 0;
    const ro = new ResizeObserver(() => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => {
        const w = Math.max(200, el.clientWidth);
        if (plot.current && Math.abs(plot.current.width - w) > 1) plot.current.setSize({ width: w, height });
      });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      cancelAnimationFrame(frame);
      plot.current.destroy();
      plot.current = null;
    };
  }, [seriesKey, height]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => {
    if (plot.current) plot.current.setData(data);
  }, [data]);

  return (
    <figure class="chart" data-testid={testid} data-points={data[0].length}>
      <figcaption>{title}</figcaption>
      <div ref={box} class="chart-canvas" />
    </figure>
  );
}
