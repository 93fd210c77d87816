/**
 * The lessons (issue 16): each a preset of the playground plus a sequence of steps. A step highlights
 * one chart or control (by its data-testid) and says what to watch; a gated step waits for a condition
 * on the live run (conditions.ts) and quotes the live numbers; when the condition does not come in time
 * it says so and why that can happen. What the recorded full-size runs measured is quoted separately,
 * marked "Recorded", with the run it comes from (README "Latest measured figures",
 * src/core/align/README.md) — never as if it were this run's number. Pure data, no React.
 */
import type { PresetName } from '../../core/config';
import type { Condition, StepCompare } from './conditions';

export interface LessonStep {
  title: string;
  /** data-testid of the chart or control the step highlights. */
  target: string;
  /** What to look at and why (static words; live numbers come from the condition). */
  say: string;
  condition?: Condition;
  /** Seconds of training the step waits for its condition (the URL's lessonTimeout overrides every step's). */
  timeoutS?: number;
  /** When the condition has not come: why that can happen on a run (shown with the live numbers). */
  ifNotMet?: string;
  /** A measured result of the recorded runs, cited as such. */
  recorded?: string;
  /**
   * Opens the Compare samples card (target 'pg-compare') on these two arms, named by what they are, at
   * the latest checkpoint both have images for, in this mode; written to the URL as cmpA / cmpB / cmpMode.
   */
  compare?: StepCompare;
}

export interface Lesson {
  id: string;
  title: string;
  preset: PresetName;
  /** One line for the lesson list. */
  summary: string;
  /** A recorded run (gallery id) that shows the full-size version. */
  recordedRun?: string;
  steps: LessonStep[];
}

const PLAY = 'Press Play (or Space) to train. Every arm sees the same batches, the same timesteps and the same noise, so differences between the curves are the methods, not luck.';

export const LESSONS: readonly Lesson[] = [
  {
    id: 'first-look',
    title: 'A first look: what the preference data teach',
    preset: 'first-look',
    summary: 'SePPOʷ, SFT on the winners and SFT on the losers, side by side: which separates first, and when.',
    recordedRun: 'first-look-chromium-wasm',
    steps: [
      {
        title: 'Three arms, one world',
        target: 'pg-play',
        say: `${PLAY} SFTʷ fine-tunes on the winning images, "SFT on losers" on the losing ones, SePPOʷ learns from the winners and its own earlier checkpoints' samples.`,
      },
      {
        title: 'The losses move at once',
        target: 'pg-chart-loss',
        say: "Each arm's training loss per update. SFT's loss is its denoising error; SePPO's is −log σ(inside). A falling loss says the arm fits its own objective — not that its images got better.",
        condition: { kind: 'update', atLeast: 10, quote: 'loss' },
        timeoutS: 120,
        ifNotMet: 'the run is slow on this machine (reference sampling is most of a SePPO update) or was paused.',
      },
      {
        title: 'The losers arm falls behind',
        target: 'pg-chart-metric',
        say: 'PickScore-mini per checkpoint (pick "True preference" in the menu to see what the simulated humans want). The step waits until the paired 95 % interval of SFTʷ − SFT on losers, on the same 32 prompts and noise, excludes 0.',
        condition: { kind: 'separated', a: { method: 'sft', data: 'winners' }, b: { method: 'sft', data: 'losers' }, metric: 'trueUtility' },
        timeoutS: 300,
        ifNotMet: 'with 32 images per checkpoint an interval is about ± 0.03 wide, and the gap grows with the updates: on some seeds it takes until update 60, and a slow machine may not get there within the time.',
        recorded: 'Recorded (runs/first-look-chromium-wasm, seed 0, Chromium, WASM): the interval first excludes 0 at update 45, +0.030 [+0.002, +0.059], about 72 s after Play; seeds 1 and 2 (Node) at update 60 and 15. Over seeds 0–2 it separates between update 15 and 60.',
      },
      {
        title: 'Win rates against the base',
        target: 'pg-results',
        say: "The share of prompts on which each arm's image beats the base model's (same prompt, same noise), by true preference and by PickScore-mini.",
        condition: { kind: 'update', atLeast: 90 },
        timeoutS: 420,
        ifNotMet: 'the run has not reached its last checkpoint yet; the table shows the latest checkpoint of each arm.',
        recorded: 'Recorded (seed 0, 32 images): SFTʷ 63 %, SePPOʷ 56 %, SFT on losers 31 %; SFTʷ rises above the base resolved only at update 75, and SePPOʷ is not resolved from SFTʷ or from the base in 90 updates. Over 3 seeds and 3,072 images (runs/gates) SFT on losers wins 30.2 % [28.6, 31.9], SFTʷ 63.1 % [61.4, 64.8].',
      },
      {
        title: 'The full-size version',
        target: 'pg-recorded-gallery',
        say: 'Recorded runs open at once from this gallery, with every chart and table: the sanity gates ran 3 seeds × 210 updates with 1,024 paired images per arm and seed. Open one to compare with what this tab just trained.',
      },
    ],
  },
  {
    id: 'aaf',
    title: 'What the Anchor-based Adaptive Flipper does',
    preset: 'aaf-ablation',
    summary: 'AAF sign (the paper), indicator, and off: why treating every reference sample as a loser collapses.',
    recordedRun: 'aaf-ablation-v3-seed0',
    steps: [
      {
        title: 'Three flippers',
        target: 'pg-play',
        say: `${PLAY} All three arms are SePPO with a random earlier checkpoint as reference. The flipper decides per sample whether the reference's own image is learned as a loser (s = −1) or not: sign (s = +1 or −1), indicator (0 or −1), off (always −1, plain Diffusion-DPO against the reference sample).`,
      },
      {
        title: 'The AAF rate',
        target: 'pg-chart-aaf',
        say: 'Solid lines: the share of reference samples judged losers. "w/o AAF" sits at 1 by construction. For the sign flipper it rises when the model fits the winners better than its reference does.',
        condition: { kind: 'aafRate', arm: { method: 'seppo', flip: 'sign' }, above: 0.5, window: 10 },
        timeoutS: 240,
        ifNotMet: 'the rate hovers around 0.5 early on (the current model and its reference are still close), and it follows which checkpoint the random strategy drew.',
        recorded: 'Recorded (runs/aaf-ablation-v3-seed0): the sign arm\'s AAF rate was 0.50, 0.55, 0.62, 0.55, 0.51, 0.47, 0.50 over the 30-update windows to update 210.',
      },
      {
        title: 'A falling loss that means nothing good',
        target: 'pg-chart-loss',
        say: 'Watch "w/o AAF": its loss falls fastest. It is pushing its own reference samples down — and its images get worse. The displacement probe of the recorded run shows why: its error on the winners rises too.',
        condition: { kind: 'update', atLeast: 30, quote: 'loss' },
        timeoutS: 300,
        ifNotMet: 'the run has not done 30 updates yet.',
        recorded: "Recorded (seed 0): w/o AAF's loss fell from 0.48 (updates 1–10) to 0.14 (last 30) while its winners' error rose +6.8 % by update 30 and +34.2 % by update 210. Plain Diffusion-DPO on real losers (runs/gates) instead keeps its loss near log 2 (0.687 over updates 1–10, 0.613 over 51–100) while its winners' error grows +0.3 % → +4.2 %.",
      },
      {
        title: 'w/o AAF collapses',
        target: 'pg-chart-metric',
        say: 'PickScore-mini per checkpoint. The step waits until the paired interval of "AAF sign" − "w/o AAF" on true preference excludes 0.',
        condition: { kind: 'separated', a: { method: 'seppo', flip: 'sign' }, b: { method: 'seppo', flip: 'off' }, metric: 'trueUtility' },
        timeoutS: 420,
        ifNotMet: 'in the recorded runs the collapse is resolved between update 30 and 150; before that both arms are close to the base, and 32 images give wide intervals.',
        recorded: 'Recorded over 3 seeds (runs/aaf-ablation-v3-*, 3,072 paired images per arm): w/o AAF wins 14.4 % [13.2, 15.7] against the base, Δ true preference −0.164 [−0.170, −0.158] — the largest effect this world shows.',
      },
      {
        title: 'Sign or indicator?',
        target: 'pg-results',
        say: 'The results table: the indicator flipper never learns a reference sample as a winner (s = 0 instead of +1).',
        condition: { kind: 'winRateBelow', arm: { method: 'seppo', flip: 'off' }, metric: 'trueUtility', below: 0.5 },
        timeoutS: 420,
        ifNotMet: 'w/o AAF has not fallen below the base at its latest checkpoint yet (it wins about half the prompts early on).',
        recorded: 'Recorded over 3 seeds (runs/aaf-ablation-v3-*, 3,072 paired images per arm): sign 56.9 % [55.1, 58.6], indicator 69.3 % [67.6, 70.9] (indicator − sign +0.008 [+0.006, +0.009] on the same images). The paper finds indicator ≈ sign; here the indicator is ahead, because s = +1 falls on a reference sample worse than the winner 73–75 % of the time.',
      },
    ],
  },
  {
    id: 'reference',
    title: 'Which reference model?',
    preset: 'reference-strategies',
    summary: 'Reference = the initial model, the latest checkpoint, or a random earlier one (SePPO).',
    recordedRun: 'reference-strategies-v3-seed0',
    steps: [
      {
        title: 'Three references',
        target: 'pg-play',
        say: `${PLAY} Each arm samples its "losers" from a reference model: θ₀ (init, DITTO-like), the latest checkpoint θ_{k−1} (SPIN-like), or a random one of θ₀…θ_{k−1} (SePPO). A new checkpoint is saved every 30 updates.`,
      },
      {
        title: 'Before the first checkpoint all three are the same',
        target: 'pg-chart-aaf',
        say: 'Until update 30 there is only θ₀ to pick, so the three arms train identically; they part after the first checkpoint. Watch the AAF rates.',
        condition: { kind: 'update', atLeast: 40, quote: 'aafRate' },
        timeoutS: 300,
        ifNotMet: 'the run has not passed its first checkpoint yet.',
      },
      {
        title: 'Does the reference matter?',
        target: 'pg-results',
        say: 'Win rates against the base at the latest checkpoint. With 32 images per checkpoint, differences of a few points are noise.',
        condition: { kind: 'separated', a: { refStrategy: 'random' }, b: 'base', metric: 'trueUtility' },
        timeoutS: 420,
        ifNotMet: 'the gain of every strategy over the base is small (Δ about +0.005 in true preference): 32 images per checkpoint rarely resolve it; the recorded 5 seeds × 1,024 images do.',
        recorded: 'Recorded over 5 seeds (runs/reference-strategies-v3-*, 5,120 paired images per arm): init 59.2 % [57.9, 60.6], random 59.3 % [57.9, 60.6], latest 53.9 % [52.5, 55.2]; latest is resolved last by win rate, random above init only by Δ.',
      },
    ],
  },
  {
    id: 'beta',
    title: 'What β does',
    preset: 'beta-sweep',
    recordedRun: 'beta-sweep-v3-seed0',
    summary: 'SePPOʷ at five β: the sigmoid saturates, implicit accuracy jumps, the images barely care.',
    steps: [
      {
        title: 'Five β',
        target: 'pg-play',
        say: `${PLAY} β scales the difference of denoising errors inside the sigmoid: inside = −½ β ((m_w + s·m_l) − (r_w + s·r_l)). Under Adam, β sets where the sigmoid saturates; the learning rate sets how far the model moves.`,
      },
      {
        title: 'Implicit accuracy',
        target: 'pg-chart-implicitAcc',
        say: 'The share of pairs with inside > 0. Large β turns tiny error differences into confident calls.',
        condition: { kind: 'update', atLeast: 20, quote: 'implicitAcc' },
        timeoutS: 300,
        ifNotMet: 'the run has not done 20 updates yet.',
      },
      {
        title: 'The inside histogram',
        target: 'pg-diag-inside',
        say: 'Diagnostics: pick the largest β arm. Mass at the edges means the sigmoid is saturated: those samples give almost no gradient.',
        condition: { kind: 'update', atLeast: 30, quote: 'loss' },
        timeoutS: 300,
        ifNotMet: 'the run has not done 30 updates yet.',
        recorded: 'Recorded on the shipped base (runs/beta-sweep-v3-seed0, seed 0, lr 1e-4, 210 updates, 512 paired images per arm): from β = 100 to 10,000 the share of training samples with |inside| ≥ 5 grows from 0.0 % to 24 %, while every arm stays a little above the base (Δ true preference +0.005 to +0.012, win rates 54–67 %); one seed, so the order between β values is not resolved.',
      },
    ],
  },
  {
    id: 'reward-hacking',
    title: 'Reward hacking',
    preset: 'reward-hacking',
    recordedRun: 'reward-hacking-v3-seed0',
    summary: 'DDPO on a prompt-free reward climbs its reward while the true preference falls.',
    steps: [
      {
        title: 'Two reward models',
        target: 'pg-play',
        say: `${PLAY} Both arms are DDPO (policy gradient on their own samples). One is rewarded by Aesthetic, which ignores the prompt; the other by PickScore-mini. Neither ever sees the true preference: it is only measured.`,
      },
      {
        title: 'Reward up, truth down',
        target: 'pg-diag-reward-trace',
        say: 'Diagnostics, the DDPO (Aesthetic) arm: training reward beside the true preference per checkpoint; marked points are where the reward rose while the true preference fell.',
        condition: { kind: 'rewardHacked', arm: { method: 'ddpo', reward: 'aesthetic' } },
        timeoutS: 600,
        ifNotMet: 'the first checkpoints can move together by chance; the hack shows as the reward keeps rising over several checkpoints.',
        recorded: 'Recorded on the shipped base (runs/reward-hacking-v3-seed0, one seed, 90 updates, 256 paired images): DDPO on Aesthetic wins 75 % by its own reward but 15 % by the true preference (Δ −0.135 [−0.152, −0.118]), Alignment down; DDPO on PickScore-mini is level with the base by the truth (Δ −0.001 [−0.014, +0.013]) while its reward wins 79 %. Over 3 seeds × 210 updates (runs/table1-v3-extra-*) DDPO on PickScore-mini hacks it too: reward +0.64, true preference −0.032.',
      },
      {
        title: 'The same prompt and noise, two rewards',
        target: 'pg-compare',
        say: 'Compare samples: the two arms\' images of one checkpoint, made from the same prompt and the same starting noise, so only the reward each was trained on differs. A is DDPO (Aesthetic), B is DDPO (PickScore-mini); step through the prompts with ← →, or choose flicker to see only what changed. Under the images: the true preference (what the simulated humans want, which neither arm ever sees) and the learned metrics, with B − A. Look for images that score well on Aesthetic but no longer show what the prompt asks for.',
        condition: { kind: 'checkpointPair', a: { method: 'ddpo', reward: 'aesthetic' }, b: { method: 'ddpo', reward: 'pickscore-mini' }, metrics: ['trueUtility', 'aesthetic', 'alignment'] },
        compare: { a: { method: 'ddpo', reward: 'aesthetic' }, b: { method: 'ddpo', reward: 'pickscore-mini' }, mode: 'side' },
        timeoutS: 600,
        ifNotMet: 'the card shows images once both arms have been evaluated at a checkpoint (the first is at update 30 of this preset, and DDPO updates are slow: it samples its own images at every step); until then it says the checkpoint is not reached yet. Early checkpoints can look alike: both arms start from the same base.',
      },
      {
        title: 'What a learned metric would say',
        target: 'pg-results',
        say: 'Compare the Aesthetic column with the True pref. column for the two arms: only a world that knows the truth can show the gap.',
        condition: { kind: 'winRateBelow', arm: { method: 'ddpo', reward: 'aesthetic' }, metric: 'trueUtility', below: 0.5 },
        timeoutS: 600,
        ifNotMet: 'the Aesthetic arm still wins half the prompts at its latest checkpoint.',
      },
    ],
  },
];

export const LESSON_IDS = LESSONS.map((l) => l.id);

export function findLesson(id: string): Lesson | undefined {
  return LESSONS.find((l) => l.id === id);
}
