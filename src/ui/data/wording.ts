/**
 * The Data view's wording for what the worker sends as plain data: the dataset splits' and rater
 * pools' labels, and a short description of each generator defect. Pure (no React, no tfjs).
 */
import type { Defect } from '../../core/world';

export const SPLIT_LABEL: Record<string, string> = {
  train: 'train (alignment)',
  scorerTrain: 'PickScore-mini train',
  scorerTest: 'PickScore-mini test',
  hpsTrain: 'HPS-mini train',
  hpsTest: 'HPS-mini test',
  oodRaters: 'OOD raters',
};

/** The label of a dataset split (the worker sends the dataset's split name). */
export function splitLabel(name: string): string {
  return SPLIT_LABEL[name] ?? name;
}

/** The label of a rater pool in the agreement table. */
export function poolLabel(pool: 'A' | 'B'): string {
  return pool === 'A' ? 'pool A (train, PickScore-mini)' : 'pool B (HPS-mini, OOD raters)';
}

/** A short human description of one generator defect (for the Data view's captions). */
export function defectText(d: Defect): string {
  switch (d.kind) {
    case 'hue':
      return `hue drift ${Math.round(100 * d.amount)}% towards ${d.towards}`;
    case 'wrongColour':
      return `wrong colour (${d.colour})`;
    case 'wrongShape':
      return `wrong shape (${d.shape})`;
    case 'offset':
      return `moved ${Math.hypot(d.dx, d.dy).toFixed(1)} px`;
    case 'size':
      return `size ×${d.scale.toFixed(2)}`;
    case 'blur':
      return `blur σ ${d.sigma.toFixed(1)} px`;
    case 'noise':
      return `pixel noise σ ${d.sigma.toFixed(2)}`;
    case 'lowContrast':
      return `contrast ×${d.factor.toFixed(2)}`;
    case 'clutter':
      return `${d.blobs.length} distractor blob${d.blobs.length === 1 ? '' : 's'}`;
  }
}
