// Formatting of numbers, sizes, rates, durations and timestamps for tables and charts.

const nf = new Intl.NumberFormat('en-US');

/** 12345 -> "12,345"; null/undefined -> "—". */
export function num(n) {
  if (n === null || n === undefined || n === '') return '—';
  if (typeof n !== 'number') return String(n);
  return nf.format(n);
}

/** A rate per second with one decimal below 100 ("49.8"), whole above ("1,234"). */
export function rate(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  return Math.abs(n) < 100 ? n.toFixed(1) : nf.format(Math.round(n));
}

/** Milliseconds with a sensible precision ("3.4", "120"). */
export function ms(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  return n < 10 ? n.toFixed(1) : nf.format(Math.round(n));
}

/** 1536 -> "1.5 KiB"; null -> "—". */
export function bytes(n) {
  if (n === null || n === undefined) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** Seconds as "3d 4h", "2h 5m", "4m 10s", "12s". */
export function duration(s) {
  if (s === null || s === undefined) return '—';
  const t = Math.max(0, Math.floor(s));
  const d = Math.floor(t / 86400);
  const h = Math.floor((t % 86400) / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = t % 60;
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m ${sec}s`;
  return `${sec}s`;
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

/** Milliseconds since the epoch as local "YYYY-MM-DD HH:MM:SS.mmm". */
export function time(msSinceEpoch) {
  if (msSinceEpoch === null || msSinceEpoch === undefined || msSinceEpoch === '') return '—';
  // A date string (Airflow's ISO dates) is shown in the same local form when it parses.
  const d = new Date(typeof msSinceEpoch === 'string' ? Date.parse(msSinceEpoch) : msSinceEpoch);
  if (Number.isNaN(d.getTime())) return String(msSinceEpoch);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`
  );
}

/** ISO UTC form, for tooltips. */
export function isoUtc(msSinceEpoch) {
  if (typeof msSinceEpoch === 'string') return msSinceEpoch;
  if (typeof msSinceEpoch !== 'number') return '';
  const d = new Date(msSinceEpoch);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

/** A value of unknown shape (cell of a row, a field list) as short text. */
export function cell(v) {
  if (v === null || v === undefined) return '—';
  if (Array.isArray(v)) return v.map(cell).join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return String(v);
}

/** "<input type=datetime-local>" value (local time) -> ms since the epoch, or NaN. */
export function localInputToMs(value) {
  if (!value) return NaN;
  return new Date(value).getTime();
}

/** ms since the epoch -> "<input type=datetime-local step=1>" value in local time. */
export function msToLocalInput(msSinceEpoch) {
  const d = new Date(msSinceEpoch);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  );
}
