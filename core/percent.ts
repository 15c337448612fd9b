/**
 * A share as a percentage for people: `percent(0.9987, 2)` is `99.87%`.
 * Messages drop trailing zeros (`99.9%`, `100%`); report tables keep them
 * (`'fixed'`) so their columns line up.
 */
export function percent(share: number, decimals: number, style: 'short' | 'fixed' = 'short'): string {
  const text = (share * 100).toFixed(decimals);
  return `${style === 'fixed' ? text : +text}%`;
}
