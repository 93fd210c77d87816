import { describe, expect, it } from 'vitest';
import { kernelFlops } from './bench';

describe('kernelFlops', () => {
  it('counts a 3×3 conv as 2·out·kh·kw·ci', () => {
    expect(kernelFlops('Conv2D', [[2, 8, 8, 4], [3, 3, 4, 16]], [[2, 8, 8, 16]])).toBe(2 * 2 * 8 * 8 * 16 * 9 * 4);
  });
  it('counts the two conv gradients like the forward pass', () => {
    const fwd = kernelFlops('Conv2D', [[2, 8, 8, 4], [3, 3, 4, 16]], [[2, 8, 8, 16]]);
    expect(kernelFlops('Conv2DBackpropInput', [[2, 8, 8, 16], [3, 3, 4, 16]], [[2, 8, 8, 4]])).toBe(fwd);
    expect(kernelFlops('Conv2DBackpropFilter', [[2, 8, 8, 4], [2, 8, 8, 16]], [[3, 3, 4, 16]])).toBe(fwd);
  });
  it('counts a batched matmul as 2·m·n·k per batch, whatever the transposes', () => {
    expect(kernelFlops('BatchMatMul', [[3, 5, 7], [3, 7, 11]], [[3, 5, 11]])).toBe(2 * 3 * 5 * 11 * 7);
    expect(kernelFlops('BatchMatMul', [[3, 7, 5], [3, 11, 7]], [[3, 5, 11]])).toBe(2 * 3 * 5 * 11 * 7);
    expect(kernelFlops('Add', [[3]], [[3]])).toBe(0);
  });
});
