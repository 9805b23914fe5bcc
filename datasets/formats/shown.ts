// Text taken from a file (a dtype, a variable name, a library's message) goes
// into errors through `shown`: a corrupt file can hold newlines, control
// bytes or megabytes there, and an error must stay one readable line.
export function shown(value: unknown, max = 60): string {
  const s = JSON.stringify(typeof value === 'string' ? value : String(value)) ?? '""';
  return s.length > max + 2 ? `${s.slice(0, max + 1)}…"` : s;
}

/** A message from a library, flattened to one line and cut to `max` characters. */
export function oneLine(message: string, max = 160): string {
  const s = message.replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/** A name read from a file (a zip member, a MAT variable), control bytes replaced and cut, for errors and listings. */
export function printable(name: string, max = 80): string {
  const s = name.replace(/[\x00-\x1f\x7f]/g, '?');
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
