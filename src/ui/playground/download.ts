/**
 * Browser-side file helpers: save a blob, and render the page's recharts SVGs into one PNG
 * (each SVG serialised with its computed text styles, drawn on a canvas, with an arm legend).
 */

export function downloadBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function downloadText(text: string, fileName: string, type: string): void {
  downloadBlob(new Blob([text], { type }), fileName);
}

function svgToImage(svg: SVGSVGElement): Promise<{ img: HTMLImageElement; w: number; h: number }> {
  const r = svg.getBoundingClientRect();
  const w = Math.max(1, Math.round(r.width));
  const h = Math.max(1, Math.round(r.height));
  const clone = svg.cloneNode(true) as SVGSVGElement;
  clone.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  clone.setAttribute('width', String(w));
  clone.setAttribute('height', String(h));
  if (!clone.getAttribute('viewBox')) clone.setAttribute('viewBox', `0 0 ${w} ${h}`);
  clone.setAttribute('font-family', 'system-ui, sans-serif');
  const xml = new XMLSerializer().serializeToString(clone);
  const url = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(xml)}`;
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve({ img, w, h });
    img.onerror = () => reject(new Error('could not render a chart to an image'));
    img.src = url;
  });
}

/**
 * Every chart (`figure.pg-chart svg` with a role of img) under `root`, two per row, with each chart's
 * caption and a legend of arm colours at the top, as a PNG blob.
 */
export async function chartsToPng(root: HTMLElement, legend: { name: string; colour: string }[], title: string): Promise<Blob> {
  const figures = [...root.querySelectorAll<HTMLElement>('figure.pg-chart')];
  const items: { caption: string; img: HTMLImageElement; w: number; h: number }[] = [];
  for (const f of figures) {
    const svg = f.querySelector<SVGSVGElement>('svg.recharts-surface, svg[role="img"]');
    if (!svg) continue;
    const caption = f.querySelector('.pg-chart-title')?.textContent ?? '';
    items.push({ caption, ...(await svgToImage(svg)) });
  }
  if (items.length === 0) throw new Error('there are no charts to export yet');
  const cols = 2;
  const pad = 16;
  const cellW = Math.max(...items.map((i) => i.w));
  const cellH = Math.max(...items.map((i) => i.h)) + 22;
  const legendH = 28;
  const W = cols * cellW + (cols + 1) * pad;
  const H = 34 + legendH + Math.ceil(items.length / cols) * (cellH + pad) + pad;
  const canvas = document.createElement('canvas');
  const scale = 2;
  canvas.width = W * scale;
  canvas.height = H * scale;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2D canvas available');
  ctx.scale(scale, scale);
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, W, H);
  ctx.fillStyle = '#1d2330';
  ctx.font = '600 15px system-ui, sans-serif';
  ctx.fillText(title, pad, 24);
  let x = pad;
  ctx.font = '12px system-ui, sans-serif';
  for (const l of legend) {
    ctx.fillStyle = l.colour;
    ctx.fillRect(x, 36, 12, 12);
    ctx.fillStyle = '#1d2330';
    ctx.fillText(l.name, x + 16, 46);
    x += 28 + ctx.measureText(l.name).width;
  }
  items.forEach((it, k) => {
    const cx = pad + (k % cols) * (cellW + pad);
    const cy = 34 + legendH + Math.floor(k / cols) * (cellH + pad);
    ctx.fillStyle = '#1d2330';
    ctx.font = '600 12px system-ui, sans-serif';
    ctx.fillText(it.caption, cx, cy + 12);
    ctx.drawImage(it.img, cx, cy + 20, it.w, it.h);
  });
  return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('PNG encoding failed'))), 'image/png'));
}
