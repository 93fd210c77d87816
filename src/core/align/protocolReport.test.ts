import { describe, expect, it } from 'vitest';
import { PRESETS } from '../config';
import { comparePaired, fromColumns, pairedDelta } from '../eval/intervals';
import { aafSkillMarkdown, displacementMarkdown, finalEvalMarkdown, pooledComparison, separation, separationMarkdown, sweepMarkdown } from './protocolReport';
import { seedsSummaryMarkdown, summaryMarkdown, type ExperimentResults } from './report';
import type { FinalEvalRecord, RunResults } from './records';

// Four images; arm 'up' gains 0.1 on each from update 2 on, 'flat' stays within noise of the base.
const base = [0.4, 0.5, 0.6, 0.5];
const up2 = base.map((v) => v + 0.1);
const up1 = [0.41, 0.52, 0.58, 0.51];
const flat = [0.41, 0.49, 0.61, 0.5];
const cols = (u: number[]) => ({ trueUtility: u, pickScore: u.map((v) => 20 + 10 * v) });
const fe = (u: number[], vs: number[] | null): FinalEvalRecord => ({
  update: 2, prompts: 2, noises: 2, n: 4, split: 'tuning', mean: { trueUtility: u.reduce((a, b) => a + b) / 4, pickScore: 25 }, perImage: cols(u),
  vsBase: vs ? comparePaired(fromColumns(cols(u)), fromColumns(cols(vs)), ['trueUtility', 'pickScore']) : null, ms: 1,
});
const cp = (arm: string, update: number, u: number[], probe?: { winners: number; losers: number; flagged: boolean }) => ({
  arm, update, savedK: null, metrics: { trueUtility: 0, pickScore: 0 }, winRate: { trueUtility: 0.5, pickScore: 0.5 }, poolCheckpoints: 1, poolBytes: 0, ms: 0, perImage: cols(u), ...(probe ? { probe } : {}),
});
const arm = (name: string, checkpoints: ReturnType<typeof cp>[], fin: FinalEvalRecord) => ({
  name, config: { ...PRESETS.smoke.arms[0], name }, beta: 1000, lr: 1e-4, halted: null, updates: [], checkpoints, finalEval: fin,
});
function run(seed: number): ExperimentResults {
  return {
    config: { ...PRESETS.smoke, seed, evalSeed: 3, evalSplit: 'tuning', probePairs: 2, keepPerImage: true, finalEvalPrompts: 2, finalEvalNoises: 2 },
    updatesDone: 2,
    base: { metrics: { trueUtility: 0.5, pickScore: 25 }, perImage: cols(base), finalEval: fe(base, null) },
    arms: [
      { ...arm('SFT @ lr 1e-4', [cp('SFT @ lr 1e-4', 1, up1, { winners: 0.01, losers: 0.02, flagged: false }), cp('SFT @ lr 1e-4', 2, up2, { winners: 0.07, losers: 0.1, flagged: true })], fe(up2, base)), aafSkill: { goodAtLeast: 1, goodWorse: 3, loserAtLeast: 0, loserWorse: 4 } },
      arm('SFT @ lr 1e-5', [cp('SFT @ lr 1e-5', 1, flat), cp('SFT @ lr 1e-5', 2, flat)], fe(flat, base)),
    ],
    meta: { engine: 'node', backend: 'wasm', preset: 'lr-sweep', assets: 'test', startedAt: '', wallMs: 1 },
  };
}

describe('protocol reports', () => {
  it('time to visible separation: first checkpoint where the Δ intervals stop overlapping, and the paired difference', () => {
    const r = run(0);
    const s = separation(r, 'SFT @ lr 1e-4', 'base');
    // Update 1: Δ = (0.01, 0.02, −0.02, 0.01): its t-interval holds 0 = the base's [0, 0] → overlap.
    expect(s.rows[0].a).toEqual(pairedDelta(up1, base));
    expect(s.rows[0].overlap).toBe(true);
    // Update 2: Δ = 0.1 on every image (sd 0): apart.
    expect(s.rows[1].overlap).toBe(false);
    expect(s.firstNoOverlap).toBe(2);
    expect(s.rows.at(-1)!.kind).toBe('final');
    const t = separation(r, 'SFT @ lr 1e-4', 'SFT @ lr 1e-5');
    expect(t.rows[1].aMinusB).toEqual(pairedDelta(up2, flat));
    expect(separationMarkdown(t)).toContain('Time to visible separation: SFT @ lr 1e-4 vs SFT @ lr 1e-5');
    expect(() => separation(r, 'nope', 'base')).toThrow(/unknown arm 'nope'/);
  });

  it('final evaluation, displacement, AAF skill and sweep sections; pooled seeds from paired images', () => {
    const r = run(0);
    expect(finalEvalMarkdown(r)).toContain('4 paired images (2 tuning prompts × 2 noises');
    expect(finalEvalMarkdown(r)).toContain('100.0% [51.0%, 100.0%]'); // Wilson 4/4
    expect(finalEvalMarkdown(r, 'oodRaters')).toBeNull();
    r.base!.finalEvalOod = { oodRaters: { ...fe(base, null), split: 'oodRaters' } };
    r.arms[0].finalEvalOod = { oodRaters: { ...fe(up2, base), split: 'oodRaters' } };
    expect(finalEvalMarkdown(r, 'oodRaters')).toContain("## Final evaluation on oodRaters: 4 paired images (2 oodRaters prompts × 2 noises, update 2; out of distribution, the second rater pool's prompts (Table 2))");
    expect(summaryMarkdown(r)).toContain('Final evaluation on oodRaters');
    expect(displacementMarkdown(r)).toContain('+7.0 / +10.0 ⚠');
    expect(displacementMarkdown(r)).toContain('flagged: SFT @ lr 1e-4');
    // A reward arm's probe is drift on pairs it never trains on: shown with ∘, never flagged.
    const spo = run(0);
    spo.arms[0].config = { ...spo.arms[0].config, method: 'spo' };
    const md = displacementMarkdown(spo)!;
    expect(md).toContain('| SFT @ lr 1e-4 ∘ |');
    expect(md).toContain('+7.0 / +10.0 |');
    expect(md).not.toContain('⚠ |');
    expect(md).toContain('no arm flagged');
    expect(md).toContain('SFT @ lr 1e-4 learns from its own samples and never sees these pairs');
    expect(aafSkillMarkdown(r)).toContain('| 1 | 3 | 0 | 4 | 62.5% | 25.0% | 100.0% |');
    const sw = sweepMarkdown(r)!;
    expect(sw).toContain('Best lr by mean Δ: SFT: lr 1e-4.');
    expect(summaryMarkdown(r)).toContain('## lr sweep');
    // The main table's win rates carry their Wilson intervals when per-image metrics are kept (last checkpoint: 4 of 4 wins).
    expect(summaryMarkdown(r)).toContain('| 100% [51%, 100%] / 100% [51%, 100%] |');
    const p = pooledComparison([run(0), run(1)] as RunResults[], 'SFT @ lr 1e-4', null, ['trueUtility'])!;
    expect(p.n).toBe(8);
    expect(p.cmp.trueUtility.win.wins).toBe(8);
    expect(seedsSummaryMarkdown([run(0), run(1)])).toContain("Pooled over the seeds' paired images (8 per arm, final evaluations)");
    // Table 2 pooled over seeds: only where every run evaluated that out-of-distribution set.
    expect(seedsSummaryMarkdown([run(0), run(1)])).not.toContain('on oodRaters');
    const withOod = (seed: number) => {
      const x = run(seed);
      x.base!.finalEvalOod = { oodRaters: { ...x.base!.finalEval!, split: 'oodRaters' } };
      for (const a of x.arms) a.finalEvalOod = { oodRaters: { ...a.finalEval!, split: 'oodRaters' } };
      return x;
    };
    const po = pooledComparison([withOod(0), withOod(1)] as RunResults[], 'SFT @ lr 1e-4', null, ['trueUtility'], 'oodRaters')!;
    expect([po.n, po.cmp.trueUtility.win.wins]).toEqual([8, 8]);
    expect(pooledComparison([withOod(0), run(1)] as RunResults[], 'SFT @ lr 1e-4', null, ['trueUtility'], 'oodRaters')).toBeNull();
    expect(seedsSummaryMarkdown([withOod(0), withOod(1)])).toContain("## Pooled over the seeds' paired images on oodRaters (8 per arm, final evaluations; out of distribution, Table 2)");
  });
});

describe('gates', () => {
  it('verdicts on pooled paired images, by the rules of issue 13', async () => {
    const { gateVerdicts, gatesMarkdown } = await import('./protocolReport');
    const r = run(0);
    r.arms[0].name = 'SFTʷ';
    r.arms[1].name = 'base (fresh noise)';
    const v = gateVerdicts([r, r]);
    expect(v.map((g) => g.arm)).toEqual(['base (fresh noise)', 'SFTʷ']);
    // flat vs base: wins 2 (0.41 > 0.4, 0.61 > 0.6), ties 1 (0.5), losses 1 → (2 + ½)/4 = 62.5 % → outside 50 ± 3.
    expect(v[0].win!.rate).toBeCloseTo(0.625, 12);
    expect(v[0].pass).toBe(false);
    expect(v[1].win!.rate).toBe(1);
    expect(v[1].pass).toBe(true); // 8/8: Wilson lower end 67.6 % > 60 %
    expect(gatesMarkdown([r, r])).toContain('**pass**');
  });
});

describe('pooling over seeds', () => {
  it('warns when the runs share one evaluation seed (the base images would be pooled several times)', () => {
    expect(seedsSummaryMarkdown([run(0), run(1)])).toContain('Warning: every run evaluated with evalSeed 3');
    const b = run(1);
    b.config.evalSeed = 4;
    expect(seedsSummaryMarkdown([run(0), b])).not.toContain('Warning');
  });
});

describe('Fig. 3 left as a number', () => {
  it('correlates the AAF rate of each checkpoint window with PickScore-mini (≥ 3 checkpoints)', async () => {
    const { aafCorrelations } = await import('./protocolReport');
    const r = run(0);
    const up = (update: number, aafRate: number) => ({ arm: 'x', update, loss: 1, implicitAcc: 0.5, aafRate, mW: 0, mL: 0, rW: 0, rL: 0, rewardW: 0, rewardL: 0, margin: 0, insideHist: null, accByTBucket: null, flippedShare: 0, refK: 0, ms: 0, refMs: 0 });
    r.config.checkpointEvery = 2;
    const a = r.arms[1];
    a.updates = [up(1, 0.2), up(2, 0.4), up(3, 0.5), up(4, 0.5), up(5, 0.9), up(6, 0.7)]; // windows: 0.3, 0.5, 0.8
    a.checkpoints = [2, 4, 6].map((u, i) => ({ ...cp(a.name, u, flat), metrics: { trueUtility: 0, pickScore: [20, 21, 23][i] } }));
    const c = aafCorrelations(r);
    expect(c.map((x) => x.arm)).toEqual(['SFT @ lr 1e-5']);
    expect(c[0].spearman).toBeCloseTo(1, 12);
    // Pearson of (0.3, 0.5, 0.8) and (20, 21, 23): centred (−0.2333, −0.0333, 0.2667) and (−1.3333, −0.3333, 1.6667)
    expect(c[0].pearson).toBeCloseTo(0.7667 / Math.sqrt(0.12667 * 4.6667), 3);
  });
});
