import type { ContainerState } from '../../runtime/types.js';

/** "3 seconds", "5 minutes", "2 hours", "4 days": docker's coarse durations. */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 1) return 'Less than a second';
  if (s < 60) return `${s} second${s === 1 ? '' : 's'}`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} minute${m === 1 ? '' : 's'}`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h} hour${h === 1 ? '' : 's'}`;
  const d = Math.round(h / 24);
  return `${d} days`;
}

/** The STATUS column of `ps`: "Up 5 minutes", "Exited (137) 2 hours ago", "Created". */
export function statusText(s: ContainerState, now = Date.now()): string {
  const since = (iso: string | null | undefined) => (iso ? humanDuration(now - Date.parse(iso)) : '');
  switch (s.status) {
    case 'running':
      return `Up ${since(s.startedAt)}`;
    case 'exited': {
      const o = s.outcome;
      const code = o?.exitCode ?? '?';
      const why = o && o.reason !== 'exit' && o.reason !== 'signal' ? `, ${o.reason}` : '';
      return o?.finishedAt ? `Exited (${code}${why}) ${since(o.finishedAt)} ago` : `Exited (${code}${why})`;
    }
    case 'broken':
      return 'Broken';
    default:
      return s.status.charAt(0).toUpperCase() + s.status.slice(1);
  }
}
