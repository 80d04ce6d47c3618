// One Kafka record as the message browser and the search show it: position, time, key,
// headers, size, and the value (pretty JSON for avro/json, text, or hex with the reason).
// Kept light: 500 of them must paint in well under a second.
import { bytes, isoUtc, time } from './format.js';

function keyText(m) {
  if (m.key !== null && m.key !== undefined) return String(m.key);
  if (m.key_hex) return `hex ${m.key_hex}`;
  return '(no key)';
}

// The API's remark on a decoded value (trailing bytes, JSON that does not parse).
function Remark({ m }) {
  return m.note ? (
    <div class="note" data-testid="message-note">
      note: {m.note}
    </div>
  ) : null;
}

function Value({ m }) {
  const f = m.value_format;
  if (f === 'avro' || f === 'json') {
    return (
      <div>
        <Remark m={m} />
        <pre class="value json" data-testid="message-value">
          {JSON.stringify(m.value, null, 2)}
        </pre>
      </div>
    );
  }
  if (f === 'text') {
    const v = typeof m.value === 'string' ? m.value : JSON.stringify(m.value, null, 2);
    return (
      <div>
        <Remark m={m} />
        <pre class="value text" data-testid="message-value">
          {v}
        </pre>
      </div>
    );
  }
  if (f === 'null' || (m.value === null && !m.value_hex)) {
    return (
      <div class="value none" data-testid="message-value">
        (null value: a tombstone or an empty record){m.note ? ` — ${m.note}` : ''}
      </div>
    );
  }
  return (
    <div>
      {m.note ? (
        <div class="note" data-testid="message-note">
          not decoded: {m.note}
        </div>
      ) : null}
      <pre class="value hex" data-testid="message-value">
        {m.value_hex ?? ''}
      </pre>
    </div>
  );
}

function formatLabel(m) {
  const f = m.value_format || 'unknown';
  return m.schema_id !== null && m.schema_id !== undefined ? `${f} · schema ${m.schema_id}` : f;
}

export function Message({ m }) {
  const headers = m.headers || [];
  return (
    <div class="message" data-testid="message" data-partition={m.partition} data-offset={m.offset}>
      <div class="message-meta">
        <span>
          <b>partition</b> <span data-testid="message-partition">{m.partition}</span>
        </span>
        <span>
          <b>offset</b> <span data-testid="message-offset">{m.offset}</span>
        </span>
        <span title={isoUtc(m.timestamp_ms)}>
          <b>time</b> <span data-testid="message-timestamp">{time(m.timestamp_ms)}</span>
        </span>
        <span>
          <b>key</b> <span data-testid="message-key">{keyText(m)}</span>
        </span>
        <span>
          <b>size</b> <span data-testid="message-size">{bytes(m.size)}</span>
        </span>
        <span class={`fmt fmt-${m.value_format}`} data-testid="message-format">
          {formatLabel(m)}
        </span>
      </div>
      {headers.length ? (
        <div class="message-headers" data-testid="message-headers">
          {headers.map((h, i) => (
            <span class="header" key={i}>
              {h.key}={h.value === null || h.value === undefined ? '' : String(h.value)}
            </span>
          ))}
        </div>
      ) : null}
      <Value m={m} />
    </div>
  );
}
