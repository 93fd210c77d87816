/**
 * The animated sample grid: one row per model (raw, then each arm), one cell per prompt, each cell
 * a canvas cycling through its clip's F frames. Every model's clip in a column starts from the same
 * noise. All cells share one clock (frame = ⌊t / FRAME_MS⌋ mod F), so a column's clips move in step.
 * The worker sends uint8 RGB; here it only becomes RGBA (videoData.ts).
 */
import { useEffect, useRef } from 'react';
import type { VideoGridView } from '../../worker/protocol-video';
import { frameCount, frameRgba } from './videoData';

export const FRAME_MS = 150;

function VideoCell({ clip, size, label, row, col }: { clip: Uint8Array; size: number; label: string; row: number; col: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    const ctx = canvas?.getContext('2d');
    if (!canvas || !ctx) return;
    const F = frameCount(clip, size);
    const frames = Array.from({ length: F }, (_, f) => new ImageData(frameRgba(clip, f, size), size, size));
    const drawn = new Set<number>();
    let last = -1;
    const draw = () => {
      const f = Math.floor(performance.now() / FRAME_MS) % F;
      if (f === last) return;
      last = f;
      ctx.putImageData(frames[f], 0, 0);
      drawn.add(f);
      canvas.dataset.frame = String(f);
      canvas.dataset.framesDrawn = String(drawn.size);
    };
    draw();
    const timer = setInterval(draw, FRAME_MS / 3);
    return () => clearInterval(timer);
  }, [clip, size]);
  return <canvas ref={ref} width={size} height={size} className="video-cell" role="img" aria-label={label} title={label} data-testid="video-cell" data-row={row} data-col={col} data-frames={frameCount(clip, size)} />;
}

export function VideoGrid({ grid, colours }: { grid: VideoGridView & { update: number }; colours: Record<string, string> }) {
  const n = grid.prompts.length;
  return (
    <div className="video-grid" data-testid="video-grid" data-update={grid.update} style={{ gridTemplateColumns: `minmax(48px, 80px) repeat(${n}, minmax(0, 112px))` }}>
      {grid.rows.map((r, ri) => (
        <div key={r.name} className="video-grid-row" role="row" data-testid="video-grid-row">
          <div className="video-grid-label" role="rowheader">
            <span className="pg-swatch" style={{ background: colours[r.name] ?? '#7a8194' }} /> {r.name}
          </div>
          {r.clips.map((c, ci) => (
            <VideoCell key={`${grid.update}-${ci}`} clip={c} size={grid.size} label={`${r.name}: ${grid.prompts[ci]}`} row={ri} col={ci} />
          ))}
        </div>
      ))}
      <div className="video-grid-row" role="row">
        <div className="video-grid-label" />
        {grid.prompts.map((p, i) => (
          <div key={i} className="video-grid-prompt" data-testid="video-prompt">
            {p}
          </div>
        ))}
      </div>
    </div>
  );
}
