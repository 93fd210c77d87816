import type { ArmConfig } from '../../core/config';

/** The palette presets use (d3 category10): an arm keeps its colour in every chart, table and grid. */
export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

export function armColour(a: Pick<ArmConfig, 'colour'>, i: number): string {
  return a.colour ?? PALETTE[i % PALETTE.length];
}

export const BASE_COLOUR = '#5a6275';
