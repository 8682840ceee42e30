/** How conversations end, as charts: turns per minute over the last hour, sessions resolved /
 * sent to a professional / still open, and the same by repair topic. Polled. */
import { useCallback, useMemo, useState } from 'preact/hooks';
import type uPlot from 'uplot';
import { operator } from '../../../src/texts/web.js';
import { guideName } from '../shared/guide-name.js';
import type { OutcomeCounts, Outcomes } from './admin-api.js';
import { type AdminClient, type AdminFailure, adminMessage } from './admin-client.js';
import { bars, baseOptions, Chart, OUTCOME_COLOURS } from './chart.js';
import { formatMinute } from './format.js';
import { usePolling } from './hooks.js';

const texts = operator.outcomes;
const OUTCOMES: { key: keyof OutcomeCounts; label: string }[] = [
  { key: 'resolved', label: texts.resolved },
  { key: 'max_attempts', label: texts.maxAttempts },
  { key: 'open', label: texts.open },
];
/** Polled less often than the store: these figures move slowly. */
const POLL_MS = 15000;

function Legend() {
  return (
    <ul class="legend">
      {OUTCOMES.map(({ key, label }) => (
        <li key={key}>
          <span class={`swatch swatch-${key}`} aria-hidden="true" />
          {label}
        </li>
      ))}
    </ul>
  );
}

function TurnsChart({ points }: { points: Outcomes['turns_per_minute'] }) {
  const data = useMemo<uPlot.AlignedData>(
    () => [
      points.map((point) => Date.parse(point.minute) / 1000),
      points.map((point) => point.turns),
    ],
    [points],
  );
  const base = baseOptions(200);
  const options: Omit<uPlot.Options, 'width'> = {
    ...base,
    scales: { ...base.scales, x: { time: true } },
    series: [
      {},
      {
        label: texts.turns,
        stroke: '#0b5cad',
        fill: '#0b5cad',
        paths: bars(0.8),
        points: { show: false },
      },
    ],
    axes: [
      {
        ...base.axes?.[0],
        values: (_plot, splits) => splits.map((at) => formatMinute(new Date(at * 1000))),
      },
      base.axes?.[1] ?? {},
    ],
  };
  const total = points.reduce((sum, point) => sum + point.turns, 0);
  return (
    <figure class="chart-figure">
      <figcaption>{texts.turnsTitle}</figcaption>
      <Chart label={`${texts.turnsTitle}: ${total}`} options={options} data={data} />
      <details>
        <summary>{texts.showTable}</summary>
        <table class="data-table">
          <thead>
            <tr>
              <th scope="col">{texts.minute}</th>
              <th scope="col">{texts.turns}</th>
            </tr>
          </thead>
          <tbody>
            {points
              .filter((point) => point.turns > 0)
              .map((point) => (
                <tr key={point.minute}>
                  <td>{formatMinute(new Date(point.minute))}</td>
                  <td>{point.turns}</td>
                </tr>
              ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}

/** Stacked bars, one per category: each series is drawn over the one before, so series k holds
 * the sum of the outcomes up to k and shows only its own part. */
function OutcomeBars({
  title,
  rows,
  rowHeader,
  namesOnAxis,
}: {
  title: string;
  rows: { name: string; counts: OutcomeCounts }[];
  rowHeader: string;
  /** Names under the bars; without, the legend's colours tell the bars apart. */
  namesOnAxis: boolean;
}) {
  const data = useMemo<uPlot.AlignedData>(() => {
    const x = rows.map((_row, index) => index);
    const sum = (row: OutcomeCounts, upTo: number) =>
      OUTCOMES.slice(0, upTo + 1).reduce((total, { key }) => total + row[key], 0);
    // Drawn last-first: the tallest stack (every outcome) underneath.
    return [x, ...[2, 1, 0].map((upTo) => rows.map((row) => sum(row.counts, upTo)))];
  }, [rows]);
  const base = baseOptions(rows.length > 6 ? 260 : 200);
  const names = rows.map((row) => row.name);
  const rotate = namesOnAxis && names.length > 4;
  const options: Omit<uPlot.Options, 'width'> = {
    ...base,
    // Room on the right for the last name, written on a slant.
    padding: [8, rotate ? 48 : 8, 0, 0],
    scales: {
      ...base.scales,
      x: { time: false, range: [-0.6, Math.max(0, rows.length - 1) + 0.6] },
    },
    series: [
      {},
      ...[2, 1, 0].map((index) => {
        const outcome = OUTCOMES[index] as (typeof OUTCOMES)[number];
        const colour = OUTCOME_COLOURS[outcome.key];
        return {
          label: outcome.label,
          stroke: colour,
          fill: colour,
          paths: bars(0.6),
          points: { show: false },
        };
      }),
    ],
    axes: [
      {
        ...base.axes?.[0],
        splits: () => names.map((_name, index) => index),
        values: (_plot, splits) => splits.map((index) => (namesOnAxis ? (names[index] ?? '') : '')),
        rotate: rotate ? -35 : 0,
        size: rotate ? 90 : namesOnAxis ? 40 : 12,
        grid: { show: false },
      },
      base.axes?.[1] ?? {},
    ],
  };
  const summary = rows
    .map(
      (row) =>
        `${row.name}: ${OUTCOMES.map(({ key, label }) => `${label} ${row.counts[key]}`).join(', ')}`,
    )
    .join('; ');
  return (
    <figure class="chart-figure">
      <figcaption>{title}</figcaption>
      <Legend />
      {rows.length === 0 ? (
        <p class="muted">{texts.noData}</p>
      ) : (
        <Chart key={names.join('|')} label={`${title}. ${summary}`} options={options} data={data} />
      )}
      <details>
        <summary>{texts.showTable}</summary>
        <table class="data-table">
          <thead>
            <tr>
              <th scope="col">{rowHeader}</th>
              {OUTCOMES.map(({ key, label }) => (
                <th scope="col" key={key}>
                  {label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.name}>
                <th scope="row">{row.name}</th>
                {OUTCOMES.map(({ key }) => (
                  <td key={key}>{row.counts[key]}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}

export interface OutcomesPanelProps {
  client: AdminClient;
  onFailure: (failure: AdminFailure) => void;
}

export function OutcomesPanel({ client, onFailure }: OutcomesPanelProps) {
  const [outcomes, setOutcomes] = useState<Outcomes | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(async () => {
    const outcome = await client.outcomes();
    if (outcome.ok) {
      setOutcomes(outcome.value);
      setError(null);
    } else {
      setError(adminMessage(outcome.failure));
      onFailure(outcome.failure);
    }
  }, [client, onFailure]);
  usePolling(load, POLL_MS);

  const totals = useMemo(
    () =>
      outcomes
        ? OUTCOMES.map(({ key, label }) => ({
            name: label,
            counts: { resolved: 0, max_attempts: 0, open: 0, [key]: outcomes.totals[key] },
          }))
        : [],
    [outcomes],
  );
  const topics = useMemo(
    () =>
      (outcomes?.by_topic ?? []).map((row) => ({
        // "-": problems whose first answer came from no guide.
        name: row.topic === '-' ? texts.noGuide : guideName(row.topic),
        counts: { resolved: row.resolved, max_attempts: row.max_attempts, open: row.open },
      })),
    [outcomes],
  );

  return (
    <section class="panel" id="resultados" aria-labelledby="outcomes-title">
      <h2 id="outcomes-title">{texts.title}</h2>
      {error && (
        <p class="panel-error" role="alert">
          {error}
        </p>
      )}
      {outcomes && (
        <div class="charts">
          <TurnsChart points={outcomes.turns_per_minute} />
          <OutcomeBars
            title={texts.totalsTitle}
            rows={totals}
            rowHeader={texts.outcome}
            namesOnAxis={false}
          />
          <OutcomeBars
            title={texts.byTopicTitle}
            rows={topics}
            rowHeader={texts.topic}
            namesOnAxis
          />
        </div>
      )}
    </section>
  );
}
