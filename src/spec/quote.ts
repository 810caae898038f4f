/** A value as it appears in a message: JSON-quoted, and cut short so a hostile one stays readable. */
export function quote(value: string, max = 100): string {
  const chars = Array.from(value); // whole code points: never half an emoji
  return JSON.stringify(chars.length > max ? `${chars.slice(0, max - 3).join('')}...` : value);
}
