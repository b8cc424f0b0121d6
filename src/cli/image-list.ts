// `kubemu image ls`: the images pods can run here, as a table like `crictl images`, and the upstream names that
// stand for a built-in image.
import { ImageStore, WELL_KNOWN_IMAGES } from '../kubelet/runtime/images.js';

export function formatImageList(stateDir: string): string {
  const images = new ImageStore({ stateDir }).list();
  const rows = [
    ['IMAGE', 'TAG', 'SOURCE'],
    ...images.map((i) => [i.name, i.tag, i.builtIn ? 'built-in' : 'kubemu image build']),
  ];
  const widths = rows[0].map((_, col) => Math.max(...rows.map((r) => r[col].length)));
  const lines = rows.map((r) =>
    r
      .map((cell, col) => (col === r.length - 1 ? cell : cell.padEnd(widths[col] + 3)))
      .join('')
      .trimEnd(),
  );
  const standIns = new Map<string, string[]>();
  for (const [repository, target] of Object.entries(WELL_KNOWN_IMAGES))
    standIns.set(target.builtIn, [...(standIns.get(target.builtIn) ?? []), repository]);
  const notes = [...standIns].map(
    ([builtIn, names]) => `${builtIn} also runs for ${names.join(', ')} (any tag or digest)`,
  );
  return `${lines.join('\n')}\n\n${notes.join('\n')}\n`;
}
