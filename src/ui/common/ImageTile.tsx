import { useEffect, useRef } from 'react';

/**
 * Draws one 32×32 HWC image with values in [-1, 1] (the world's image format) on a canvas,
 * scaled up with crisp pixels. Pixel format conversion only; no tensor maths.
 */
export function ImageTile({
  image,
  size = 32,
  scale = 3,
  label,
  onClick,
  testId,
}: {
  image: Float32Array | number[];
  size?: number;
  scale?: number;
  label: string;
  onClick?: () => void;
  testId?: string;
}) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    const ctx = canvas?.getContext('2d');
    if (!canvas || !ctx) return;
    const data = new ImageData(size, size);
    for (let i = 0, j = 0; i < size * size * 3; i += 3, j += 4) {
      data.data[j] = Math.round((image[i] + 1) * 127.5);
      data.data[j + 1] = Math.round((image[i + 1] + 1) * 127.5);
      data.data[j + 2] = Math.round((image[i + 2] + 1) * 127.5);
      data.data[j + 3] = 255;
    }
    ctx.putImageData(data, 0, 0);
  }, [image, size]);
  return (
    <canvas
      ref={ref}
      width={size}
      height={size}
      role="img"
      aria-label={label}
      title={label}
      data-testid={testId}
      onClick={onClick}
      style={{ width: size * scale, height: size * scale, imageRendering: 'pixelated', cursor: onClick ? 'pointer' : 'default' }}
    />
  );
}
