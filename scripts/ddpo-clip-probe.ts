/**
 * DDPO's clip range on our log-densities (issue 15): how far the importance ratio ρ = p_θ / p_old of a
 * stochastic DDIM step moves after one Adam step, with log p summed over the latent's S·S·C dimensions
 * (stochasticDdim.ts), and the share of (trajectory, step) that each clip range δ would bind.
 *
 *   npx tsx scripts/ddpo-clip-probe.ts [--random-base] [--updates N] [--lr X] [--prompts P] [--samples R]
 *
 * Per update: a rollout (P prompts × R trajectories, 10 steps, guidance 5, η = 1, reward PickScore-mini),
 * inner epoch 1 (ρ = 1 exactly) applied with Adam, then at inner epoch 2 the ratios of every stochastic
 * step are read back (and that epoch applied too, so the next update starts where DDPO would).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../src/core/backend';
import { rewardFunctions } from '../src/core/eval/reward';
import { defaultScorerConfig, initScorer } from '../src/core/eval/scorer';
import { decodeLatents, encodeText, initReducedSD, tokensTensor, uncondContext, unetForward } from '../src/core/model/sd';
import { trajectoryLogProbs } from '../src/core/diffusion/stochasticDdim';
import { scheduleFor } from '../src/core/diffusion/schedule';
import { alignmentOnlyDataset, MAX_TOKENS, tokenize, VOCAB } from '../src/core/world';
import { ddpoInnerGrads, disposeRollout, rollout, stochasticSteps } from '../src/core/align/rewardArms';
import { TINY_SD } from '../src/runner/run';
import { loadBaseModel, loadScorers, setAssetFetch } from '../src/worker/assets';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name: string, d: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const randomBase = args.includes('--random-base');
const U = flag('--updates', 3);
const lr = flag('--lr', 1e-4);
const P = flag('--prompts', 4);
const R = flag('--samples', 4);
const DELTAS = [1e-4, 1e-3, 1e-2, 0.05, 0.1, 0.2, 0.5, 1];

await initNodeBackend('wasm');
setAssetFetch(async (url) => {
  const file = path.join(ROOT, 'public', url);
  if (!existsSync(file)) return new Response('not found', { status: 404 });
  return new Response(await readFile(file), { headers: { 'content-type': 'application/octet-stream' } });
});
const sd = randomBase ? initReducedSD('probe', TINY_SD, 0) : (await loadBaseModel(() => {})).model;
const sc = defaultScorerConfig(VOCAB.length, MAX_TOKENS);
const scorers = randomBase ? { pickScore: initScorer('pickscore-mini', 'p/pick', sc, 1), hps: initScorer('hps-mini', 'p/hps', sc, 2) } : await loadScorers(() => {});
const reward = rewardFunctions(scorers)['pickscore-mini'];
const ucfg = sd.config.unet;
const D = ucfg.latentSize * ucfg.latentSize * ucfg.latentChannels;
const policy = Object.fromEntries(Object.entries(sd.unet).map(([k, v]) => [`pol/${k}`, tf.variable(v, true, `pol/${k}`)]));
const vars = Object.values(policy) as tf.Variable[];
const opt: tf.Optimizer = tf.train.adam(lr);
const prompts = alignmentOnlyDataset(0, 64, 4).train.map((p) => p.prompt);
const uncond = uncondContext(sd.text, sd.config.text, 1);
const schedule = scheduleFor(ucfg);
console.log(`${randomBase ? 'tiny random model' : 'shipped base'}: latent D = ${D}, lr ${lr}, ${P} prompts × ${R} samples, 10 steps, ${U} updates`);
const devs: number[] = [];
for (let u = 0; u < U; u++) {
  const ps = prompts.slice(u * P, (u + 1) * P);
  const ctx = tf.tidy(() => encodeText(sd.text, sd.config.text, tokensTensor(ps.map((p) => tokenize(p)), MAX_TOKENS)));
  const ro = await rollout({ policy, ucfg, ctx, uncondCtx: uncond, guidance: 5, samplesPerPrompt: R, steps: 10, eta: 1, seed: 0, update: u, decode: (z) => decodeLatents(sd, z), reward: (im, promptOf) => reward(im, promptOf.map((i) => ps[i])), schedule });
  ctx.dispose();
  const ks = stochasticSteps(ro.tr);
  for (let e = 0; e < 2; e++) {
    if (e === 1) {
      const dev = tf.tidy(() => {
        const lp = trajectoryLogProbs({ eps: (z, t, c) => unetForward(policy, ucfg, z, t, c), ...ro.tc }, ro.tr, ks);
        const old = tf.gather(ro.tr.logProbs, tf.tensor1d(ks, 'int32'), 1);
        return tf.abs(tf.sub(tf.exp(tf.sub(lp, old)), 1));
      });
      const v = Array.from(await dev.data());
      dev.dispose();
      devs.push(...v);
      const q = [...v].sort((a, b) => a - b);
      console.log(`update ${u + 1}: reward ${(ro.rewards.reduce((a, b) => a + b, 0) / ro.rewards.length).toFixed(3)}; |ρ − 1| at inner epoch 2 over ${v.length} (trajectory, step): median ${q[q.length >> 1].toExponential(2)}, max ${q[q.length - 1].toExponential(2)}`);
    }
    const { grads, packed } = ddpoInnerGrads(policy, vars, ucfg, ro.tr, ro.tc, ro.advantages, 0.2);
    opt.applyGradients(grads);
    tf.dispose(grads);
    packed.dispose();
  }
  disposeRollout(ro);
}
const q = [...devs].sort((a, b) => a - b);
const at = (f: number) => q[Math.min(q.length - 1, Math.floor(f * q.length))];
console.log(`all: |ρ − 1| quantiles 10% ${at(0.1).toExponential(2)}, 50% ${at(0.5).toExponential(2)}, 90% ${at(0.9).toExponential(2)}, max ${q[q.length - 1].toExponential(2)}`);
console.log('share of (trajectory, step) the clip binds at inner epoch 2, by δ:');
for (const d of DELTAS) console.log(`  δ = ${d}: ${((100 * devs.filter((x) => x > d).length) / devs.length).toFixed(1)} %`);
console.log(`DDPO's 1e-4 on the per-dimension mean ≙ δ ≈ e^{${D}·1e-4} − 1 = ${(Math.exp(D * 1e-4) - 1).toExponential(2)} on our summed log-density`);
