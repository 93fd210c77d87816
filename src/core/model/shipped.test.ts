/**
 * The shipped base (public/models/base, made by `npm run pretrain`) reproduces the figures its
 * config.json records: the reconstruction table (the decoder's ceiling, issue "A decoder that
 * keeps quality") and the small base-quality check (8 prompts, DDIM 10), image by image.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../backend';
import { MAX_TOKENS, VOCAB, buildDataset } from '../world';
import { baseQualityCheck } from '../diffusion/pretraining';
import { loadReducedSD } from './checkpoint';
import { defaultSDConfig, disposeReducedSD, type ReducedSD } from './sd';
import { PART_KEYS, RECONSTRUCTION_TARGETS, aeRoundTrip, alignmentImageSets, measureReconstruction, reconstructionTargets, type ReconstructionRow } from './reconstruction';

const DIR = join(__dirname, '../../../public/models/base');
const config = JSON.parse(readFileSync(join(DIR, 'config.json'), 'utf8')) as {
  dataset: { seed: number };
  reconstruction: { dataSeed: number; pairs: number; rows: ReconstructionRow[] };
  baseQuality: { guidance: number; headroom: number; headroomInterval: { lo: number }; check: { seed: number; perImage: number[]; meanTrueUtility: number } };
  sd: { unet: { latentSize: number; latentChannels: number } };
};
let m: ReducedSD;
// The pretraining run's dataset exactly (its default split sizes: the prompt split depends on them).
let ds: ReturnType<typeof buildDataset> | null = null;
const dataset = () => (ds ??= buildDataset({ seed: config.dataset.seed }));
beforeAll(async () => {
  await initNodeBackend('wasm');
  m = loadReducedSD(new Uint8Array(readFileSync(join(DIR, 'model.safetensors'))), config as unknown as Record<string, unknown>, 'shipped');
});
afterAll(() => disposeReducedSD(m));

describe('the shipped base', () => {
  it('has the sizes defaultSDConfig describes (what npm run pretrain makes by default)', () => {
    expect(config.sd).toEqual(defaultSDConfig(VOCAB.length, MAX_TOKENS));
  });

  it("records a reconstruction table that meets the issue's targets, and a headroom ≥ 0.15 whose interval clears 0.15 too", () => {
    const checks = reconstructionTargets(config.reconstruction.rows);
    expect(checks.map((c) => c.what)).toContain('ideal: reconstructed utility');
    for (const c of checks) expect(c.met, `${c.what}: ${c.value}`).toBe(true);
    expect(RECONSTRUCTION_TARGETS.idealReconstructed).toBe(0.95);
    expect(config.baseQuality.headroom).toBeGreaterThanOrEqual(0.15);
    expect(config.baseQuality.headroomInterval.lo).toBeGreaterThanOrEqual(0.15);
  });

  it('reproduces its recorded reconstruction table on the same pairs', () => {
    const rec = config.reconstruction;
    expect(rec.dataSeed).toBe(config.dataset.seed);
    const ds = dataset();
    const rows = measureReconstruction(alignmentImageSets(ds.train.slice(0, rec.pairs)), (ims) => aeRoundTrip(m, ims));
    expect(rows.map((r) => r.set)).toEqual(rec.rows.map((r) => r.set));
    rows.forEach((r, i) => {
      const want = rec.rows[i];
      expect(r.images).toBe(want.images);
      expect(r.original.total).toBeCloseTo(want.original.total, 6);
      expect(r.reconstructed.total, r.set).toBeCloseTo(want.reconstructed.total, 4);
      for (const k of PART_KEYS) expect(r.reconstructed.parts[k], `${r.set} ${k}`).toBeCloseTo(want.reconstructed.parts[k], 4);
    });
  });

  it("reproduces its recorded base-quality check image by image (8 prompts, DDIM 10, the recorded guidance and noise)", () => {
    const ds = dataset();
    const check = baseQualityCheck(m, ds, config.baseQuality.guidance, config.baseQuality.check.seed);
    expect(check.perImage.length).toBe(config.baseQuality.check.perImage.length);
    check.perImage.forEach((u, i) => expect(u, `image ${i}`).toBeCloseTo(config.baseQuality.check.perImage[i], 3));
    expect(check.meanTrueUtility).toBeCloseTo(config.baseQuality.check.meanTrueUtility, 3);
  });
});
