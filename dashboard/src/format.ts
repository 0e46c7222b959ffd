export const PHASES = ['DATA_IMPORT', 'DATA_VALIDATION', 'FIELD_MAPPING', 'DATA_CLEANSING', 'ASSET_INVENTORY'] as const;

export function label(value: string | null | undefined): string {
  if (!value) return '—';
  return value.toLowerCase().replace(/_/g, ' ');
}

export function relativeTime(iso: string, now = Date.now()): string {
  const seconds = Math.round((now - Date.parse(iso)) / 1000);
  if (seconds < 5) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}

export function shortId(id: string): string {
  return id.slice(0, 8);
}

const NUMBER = new Intl.NumberFormat('en');

/** 60000 → "60,000". */
export function count(value: number): string {
  return NUMBER.format(value);
}

/** "1 row", "2 rows". */
export function plural(value: number, noun: string): string {
  return `${count(value)} ${noun}${value === 1 ? '' : 's'}`;
}
