import { describe, expect, it } from 'vitest';
import { PRESET_NAMES, presetConfig, type ExperimentConfig } from '../../core/config';
import type { ExpCheckpointRecord, ExpUpdateRecord } from '../../worker/protocol-experiment';
import { evalKey, type RunState } from '../playground/runState';
import { compareForStep, evaluateCondition, findArm, stepState, type Condition } from './conditions';
import { LESSONS, findLesson } from './lessons';
import { experimentSearch, lessonFromUrl, searchWithLesson } from './lessonUrl';

/** A run state by hand: records and checkpoints per arm. */
function runState(config: ExperimentConfig, p: { update?: number; status?: RunState['status']; records?: Record<string, Partial<ExpUpdateRecord>[]>; checkpoints?: Record<string, Partial<ExpCheckpointRecord>[]>; evals?: RunState['evals']; base?: RunState['base'] } = {}): RunState {
  const records: RunState['records'] = {};
  const checkpoints: RunState['checkpoints'] = {};
  for (const a of config.arms) {
    records[a.name] = (p.records?.[a.name] ?? []).map((r, i) => ({ arm: a.name, update: i + 1, loss: 0.7, implicitAcc: 0.5, aafRate: null, mW: 0.1, ...r }) as ExpUpdateRecord);
    checkpoints[a.name] = (p.checkpoints?.[a.name] ?? []) as ExpCheckpointRecord[];
  }
  return {
    run: 1, source: 'live', config, evalPrompts: [], base: p.base ?? null, baseEval: null, update: p.update ?? 0, status: p.status ?? 'running',
    records, checkpoints, evals: p.evals ?? {}, halted: {}, progress: null, message: null, resumedFrom: null, savedUpdate: null,
  };
}

const aaf = presetConfig('aaf-ablation');
const first = presetConfig('first-look');

describe('conditions on live data', () => {
  it('finds arms by what they are', () => {
    const s = runState(aaf);
    expect(findArm(s, { method: 'seppo', flip: 'off' })).toBe(2);
    expect(findArm(s, { flip: 'indicator' })).toBe(1);
    expect(findArm(s, { method: 'sft' })).toBe(-1);
  });
  it('update: met at N, quoting each arm\'s recent loss', () => {
    const recs = { 'AAF sign (SePPO)': Array.from({ length: 12 }, (_, i) => ({ loss: i < 2 ? 9 : 0.5 })) };
    const r = evaluateCondition({ kind: 'update', atLeast: 12, quote: 'loss' }, runState(aaf, { update: 12, records: recs }));
    expect(r).toEqual({ met: true, checkable: true, live: 'update 12 of 210; loss, mean of the last 10 updates: AAF sign (SePPO) 0.500, AAF indicator —, w/o AAF —' });
    expect(evaluateCondition({ kind: 'update', atLeast: 13 }, runState(aaf, { update: 12 })).met).toBe(false);
    expect(evaluateCondition({ kind: 'update', atLeast: 300 }, runState(aaf, { update: 12 })).checkable).toBe(false);
  });
  it('aafRate: the mean over the window, quoted with its update range', () => {
    const recs = { 'AAF sign (SePPO)': [0.25, 0.5, 0.75, 0.75].map((aafRate) => ({ aafRate })) };
    const c: Condition = { kind: 'aafRate', arm: { flip: 'sign' }, above: 0.6, window: 3 };
    const r = evaluateCondition(c, runState(aaf, { update: 4, records: recs }));
    expect(r.met).toBe(true);
    expect(r.live).toBe('AAF rate of AAF sign (SePPO), mean over updates 2–4: 0.67 (the step waits for > 0.6 over 3 updates)');
    expect(evaluateCondition({ ...c, above: 0.7 }, runState(aaf, { update: 4, records: recs })).met).toBe(false);
    // Fewer updates than the window: not yet, even above the threshold.
    expect(evaluateCondition({ ...c, window: 5 }, runState(aaf, { update: 4, records: recs })).met).toBe(false);
  });
  it('an arm the experiment lacks is said plainly and is not waited for', () => {
    const smoke = presetConfig('smoke');
    const r = evaluateCondition({ kind: 'aafRate', arm: { method: 'seppo', flip: 'off' }, above: 0.5, window: 3 }, runState(smoke));
    expect(r).toEqual({ met: false, checkable: false, live: 'this experiment has no arm with method seppo, flip off (its arms: SePPO, Diffusion-DPO), so this step cannot be checked on it' });
  });
  it('separated: the paired interval at a checkpoint, from the live evaluations', () => {
    const n = 8;
    const per = (f: (i: number) => number) => Array.from({ length: n }, (_, i) => ({ trueUtility: f(i) }));
    const evals = {
      [evalKey('SFTʷ', 15)]: { arm: 'SFTʷ', update: 15, images: [], perImage: per((i) => 0.6 + 0.01 * (i % 3)) },
      [evalKey('SFT on losers', 15)]: { arm: 'SFT on losers', update: 15, images: [], perImage: per((i) => 0.6 + 0.01 * ((i + 1) % 3)) },
      [evalKey('SFTʷ', 30)]: { arm: 'SFTʷ', update: 30, images: [], perImage: per((i) => 0.65 + 0.001 * i) },
      [evalKey('SFT on losers', 30)]: { arm: 'SFT on losers', update: 30, images: [], perImage: per((i) => 0.6 + 0.002 * i) },
    };
    const cps = (name: string, us: number[]) => us.map((update) => ({ arm: name, update, metrics: null, winRate: null }));
    const c: Condition = { kind: 'separated', a: { method: 'sft', data: 'winners' }, b: { method: 'sft', data: 'losers' }, metric: 'trueUtility' };
    const at15 = runState(first, { update: 15, evals, checkpoints: { 'SFTʷ': cps('SFTʷ', [15]), 'SFT on losers': cps('SFT on losers', [15]) } });
    const r15 = evaluateCondition(c, at15);
    expect(r15.met).toBe(false);
    expect(r15.live).toMatch(/^SFTʷ − SFT on losers on true preference at update 15: [+−]0\.\d{3} \[[+−]0\.\d{3}, [+−]0\.\d{3}\] over 8 paired images: the interval still includes 0$/);
    const at30 = runState(first, { update: 30, evals, checkpoints: { 'SFTʷ': cps('SFTʷ', [15, 30]), 'SFT on losers': cps('SFT on losers', [15, 30]) } });
    const r30 = evaluateCondition(c, at30);
    expect(r30.met).toBe(true);
    // Mean difference: 0.05 − 0.001·(mean i = 3.5) = +0.0465.
    expect(r30.live).toMatch(/^SFTʷ − SFT on losers on true preference at update 30: \+0\.047 \[\+0\.04\d, \+0\.04\d\] over 8 paired images: the interval excludes 0$/);
    expect(evaluateCondition(c, runState(first, { update: 3 })).live).toBe('no checkpoint with per-image evaluations of SFTʷ and SFT on losers yet (update 3; the first is at update 15)');
  });
  it('separated: an imported run\'s per-image columns', () => {
    const cp = (name: string, xs: number[]) => [{ arm: name, update: 30, metrics: null, winRate: null, perImage: { trueUtility: xs } }];
    const s = runState(aaf, { status: 'done', checkpoints: { 'AAF sign (SePPO)': cp('AAF sign (SePPO)', [0.6, 0.61, 0.62, 0.63]), 'w/o AAF': cp('w/o AAF', [0.4, 0.42, 0.41, 0.45]) } });
    const r = evaluateCondition({ kind: 'separated', a: { flip: 'sign' }, b: { flip: 'off' }, metric: 'trueUtility' }, s);
    expect(r.met).toBe(true);
    expect(r.live).toContain('AAF sign (SePPO) − w/o AAF on true preference at update 30: +0.195');
  });
  it('winRateBelow and lossNearLog2 quote the numbers they read', () => {
    const s = runState(aaf, { update: 30, checkpoints: { 'w/o AAF': [{ arm: 'w/o AAF', update: 30, metrics: {}, winRate: { trueUtility: 0.125 } }] }, base: { metrics: {}, perImage: [], images: [] } });
    expect(evaluateCondition({ kind: 'winRateBelow', arm: { flip: 'off' }, metric: 'trueUtility', below: 0.5 }, s)).toEqual({ met: true, checkable: true, live: 'w/o AAF wins 13 % of the prompts against the base by true preference at update 30' });
    const recs = { 'AAF sign (SePPO)': Array.from({ length: 20 }, () => ({ loss: 0.7 })) };
    const l = evaluateCondition({ kind: 'lossNearLog2', arm: { flip: 'sign' }, tol: 0.02, minUpdates: 20 }, runState(aaf, { update: 20, records: recs }));
    expect(l).toEqual({ met: true, checkable: true, live: 'loss of AAF sign (SePPO), mean of the last 10 updates (to update 20): 0.700, log 2 = 0.693' });
  });
  it('rewardHacked: reward up while true preference down, from the records', () => {
    const rh = presetConfig('reward-hacking');
    const name = rh.arms[0].name;
    const recs = { [name]: Array.from({ length: 4 }, (_, i) => ({ trainReward: i < 2 ? 5 : 7 })) };
    const cps = { [name]: [{ arm: name, update: 2, metrics: { trueUtility: 0.6 }, winRate: null }, { arm: name, update: 4, metrics: { trueUtility: 0.55 }, winRate: null }] };
    const r = evaluateCondition({ kind: 'rewardHacked', arm: { method: 'ddpo', reward: 'aesthetic' } }, runState(rh, { update: 4, records: recs, checkpoints: cps }));
    expect(r.met).toBe(true);
    expect(r.live).toBe(`${name} at update 4: training reward up, true preference down (u=2: reward 5.000, true pref. 0.600; u=4: reward 7.000, true pref. 0.550)`);
  });
});

describe('a step that opens the Compare samples card', () => {
  const rh = presetConfig('reward-hacking');
  const [aes, pick] = rh.arms.map((a) => a.name);
  const per = (xs: number[]) => xs.map((v, i) => ({ trueUtility: v, aesthetic: 5 + i, alignment: 0.5 }));
  const ev = (arm: string, update: number, xs: number[]) => ({ [evalKey(arm, update)]: { arm, update, images: xs.map(() => new Float32Array(3)), perImage: per(xs) } });
  const cps = (arm: string, us: number[]) => us.map((update) => ({ arm, update, metrics: null, winRate: null }));
  const step = findLesson('reward-hacking')!.steps.find((s) => s.compare)!;

  it('the reward-hacking lesson has one: it targets the card, names arms its preset has, and is gated on a common checkpoint', () => {
    expect(step).toBeTruthy();
    expect(step.target).toBe('pg-compare');
    expect(step.compare).toEqual({ a: { method: 'ddpo', reward: 'aesthetic' }, b: { method: 'ddpo', reward: 'pickscore-mini' }, mode: 'side' });
    expect(step.condition?.kind).toBe('checkpointPair');
    expect(step.ifNotMet).toMatch(/first is at update 30/);
    expect(rh.checkpointEvery).toBe(30);
    // Every step with a comparison targets the card, and its arms exist in its lesson's preset.
    for (const l of LESSONS) for (const st of l.steps) if (st.compare) {
      expect(st.target, `${l.id}: ${st.title}`).toBe('pg-compare');
      expect(compareForStep(st.compare, runState(presetConfig(l.preset))), `${l.id}: ${st.title}`).not.toBeNull();
    }
  });
  it('before any checkpoint: the first checkpoint, not ready, and the condition waits saying so', () => {
    const s = runState(rh, { update: 4 });
    expect(compareForStep(step.compare!, s)).toEqual({ a: { arm: aes, update: 30 }, b: { arm: pick, update: 30 }, mode: 'side', ready: false });
    expect(evaluateCondition(step.condition!, s)).toEqual({ met: false, checkable: true, live: `no checkpoint with per-image evaluations of both ${aes} and ${pick} yet (update 4; the first is at update 30)` });
  });
  it('one arm evaluated is not enough; both at two checkpoints: the latest, quoting the means there', () => {
    const one = runState(rh, { update: 30, evals: ev(aes, 30, [0.5, 0.6]), checkpoints: { [aes]: cps(aes, [30]) } });
    expect(compareForStep(step.compare!, one)?.ready).toBe(false);
    expect(evaluateCondition(step.condition!, one).met).toBe(false);
    const evals = { ...ev(aes, 30, [0.5, 0.6]), ...ev(pick, 30, [0.7, 0.7]), ...ev(aes, 60, [0.4, 0.5]), ...ev(pick, 60, [0.6, 0.8]) };
    const both = runState(rh, { update: 61, evals, checkpoints: { [aes]: cps(aes, [30, 60]), [pick]: cps(pick, [30, 60]) } });
    expect(compareForStep(step.compare!, both)).toEqual({ a: { arm: aes, update: 60 }, b: { arm: pick, update: 60 }, mode: 'side', ready: true });
    expect(evaluateCondition(step.condition!, both)).toEqual({
      met: true,
      checkable: true,
      live: `at update 60, mean over the same 2 prompts and noises: ${aes} true preference 0.450, Aesthetic 5.500, Alignment 0.500; ${pick} true preference 0.700, Aesthetic 5.500, Alignment 0.500`,
    });
  });
  it('the base as a side, and an experiment without the arm', () => {
    const base = { metrics: {}, perImage: per([0.55, 0.65]), images: [new Float32Array(3), new Float32Array(3)] };
    const s = runState(rh, { update: 30, base, evals: ev(aes, 30, [0.5, 0.6]), checkpoints: { [aes]: cps(aes, [30]) } });
    expect(compareForStep({ a: 'base', b: { reward: 'aesthetic' }, mode: 'flicker' }, s)).toEqual({ a: { arm: '', update: 0 }, b: { arm: aes, update: 30 }, mode: 'flicker', ready: true });
    const smoke = runState(presetConfig('smoke'));
    expect(compareForStep(step.compare!, smoke)).toBeNull();
    expect(evaluateCondition(step.condition!, smoke)).toMatchObject({ met: false, checkable: false, live: expect.stringMatching(/^this experiment has no arm with method ddpo, reward aesthetic/) });
  });
});

describe('step state', () => {
  const c: Condition = { kind: 'update', atLeast: 10 };
  it('waits, fires, latches, and says honestly when the time runs out or the run ends', () => {
    expect(stepState(undefined, null, 0, 5)).toEqual({ kind: 'free' });
    expect(stepState(c, runState(aaf, { update: 3 }), 2, 5)).toEqual({ kind: 'waiting', live: 'update 3 of 210', elapsedS: 2, timeoutS: 5 });
    expect(stepState(c, runState(aaf, { update: 3 }), 5, 5)).toEqual({ kind: 'not-met', live: 'update 3 of 210', why: 'timeout', elapsedS: 5, timeoutS: 5 });
    expect(stepState(c, runState(aaf, { update: 3, status: 'done' }), 1, 5)).toMatchObject({ kind: 'not-met', why: 'run-ended' });
    // A run that ended after the step's time ran out: the time ran out first, and the step keeps saying so.
    expect(stepState(c, runState(aaf, { update: 3, status: 'done' }), 7, 5)).toMatchObject({ kind: 'not-met', why: 'timeout' });
    expect(stepState(c, runState(aaf, { update: 10 }), 9, 5)).toEqual({ kind: 'met', live: 'update 10 of 210' });
    expect(stepState(c, runState(aaf, { update: 3 }), 0, 5, 'update 10 of 210')).toEqual({ kind: 'met', live: 'update 10 of 210' });
    expect(stepState({ kind: 'aafRate', arm: { method: 'sft' }, above: 0.5, window: 2 }, runState(aaf), 0, 5)).toMatchObject({ kind: 'not-met', why: 'uncheckable' });
  });
});

describe('the lessons', () => {
  it('4–5 lessons on existing presets; every gated step has a timeout and an honest reason; arms exist in the preset', () => {
    expect(LESSONS.length).toBeGreaterThanOrEqual(4);
    expect(LESSONS.length).toBeLessThanOrEqual(5);
    expect(new Set(LESSONS.map((l) => l.id)).size).toBe(LESSONS.length);
    for (const l of LESSONS) {
      expect(PRESET_NAMES).toContain(l.preset);
      expect(l.steps.length).toBeGreaterThanOrEqual(3);
      const s = runState(presetConfig(l.preset));
      for (const st of l.steps) {
        expect(st.target).toMatch(/^pg-[a-zA-Z-]+$/);
        if (!st.condition) continue;
        expect(st.timeoutS, `${l.id}: ${st.title}`).toBeGreaterThan(0);
        expect(st.ifNotMet, `${l.id}: ${st.title}`).toBeTruthy();
        // On its own preset every condition can be checked (the arms it names exist, the updates fit).
        expect(evaluateCondition(st.condition, s).checkable, `${l.id}: ${st.title}`).toBe(true);
      }
    }
  });
  it('recorded results are cited as recorded, with the run they come from', () => {
    for (const l of LESSONS) for (const st of l.steps) if (st.recorded) expect(st.recorded, `${l.id}: ${st.title}`).toMatch(/^Recorded .*runs\//);
    const words = JSON.stringify(findLesson('aaf'));
    for (const n of ['14.4 % [13.2, 15.7]', '56.9 % [55.1, 58.6]', '69.3 % [67.6, 70.9]']) expect(words).toContain(n);
    expect(JSON.stringify(findLesson('first-look'))).toContain('between update 15 and 60');
  });
});

describe('lesson URL', () => {
  it('reads lesson, 1-based step, presenter flag and a test timeout', () => {
    const r = lessonFromUrl('?lesson=aaf&step=3&present=1&lessonTimeout=2.5');
    expect(r.lesson?.id).toBe('aaf');
    expect(r).toMatchObject({ step: 2, present: true, timeoutS: 2.5, messages: [] });
    expect(lessonFromUrl('')).toEqual({ lesson: null, step: 0, present: false, timeoutS: null, messages: [] });
  });
  it('bad values name the problem and fall back without losing the rest', () => {
    expect(lessonFromUrl('?lesson=nope&step=2&present=1').messages).toEqual([`Unknown lesson 'nope' in the URL; the lessons are ${LESSONS.map((l) => l.id).join(', ')}. No lesson is open.`]);
    const far = lessonFromUrl('?lesson=aaf&step=99&present=1');
    expect(far).toMatchObject({ step: 0, present: true });
    expect(far.messages).toEqual([`Step 99 is out of range: lesson 'aaf' has steps 1–${findLesson('aaf')!.steps.length}. It starts at step 1.`]);
    expect(lessonFromUrl('?lesson=aaf&step=two').messages).toEqual(["Step 'two' in the URL is not a whole number; the lesson starts at step 1."]);
    expect(lessonFromUrl('?lesson=aaf&step=0').messages[0]).toMatch(/^Step 0 is out of range/);
    expect(lessonFromUrl('?lesson=aaf&present=yes')).toMatchObject({ present: false, messages: ["present='yes' in the URL: expected 1 or 0; presenter mode is off."] });
    expect(lessonFromUrl('?present=1')).toMatchObject({ present: false, messages: ['Presenter mode needs a lesson (lesson=<id>); it is off.'] });
    expect(lessonFromUrl('?lesson=aaf&lessonTimeout=-3').messages[0]).toMatch(/^lessonTimeout='-3' in the URL: expected seconds/);
    expect(lessonFromUrl('?step=2').messages[0]).toMatch(/names step '2' but no lesson/);
  });
  it('writes lesson and step, keeping the other parameters', () => {
    expect(searchWithLesson('?backend=wasm&exp=abc', 'aaf', 1, true)).toBe('?backend=wasm&exp=abc&lesson=aaf&step=2&present=1');
    expect(searchWithLesson('?backend=wasm&lesson=aaf&step=2&present=1', 'aaf', 2, false)).toBe('?backend=wasm&lesson=aaf&step=3');
    expect(searchWithLesson('?backend=wasm&lesson=aaf&step=2&present=1', null, 0, false)).toBe('?backend=wasm');
    const round = lessonFromUrl(searchWithLesson('', 'beta', 2, true));
    expect(round).toMatchObject({ step: 2, present: true });
    expect(round.lesson?.id).toBe('beta');
  });
  it("a lesson brings its preset unless the URL has an experiment", () => {
    expect(experimentSearch('?lesson=aaf', findLesson('aaf')!)).toBe('?lesson=aaf&preset=aaf-ablation');
    expect(experimentSearch('?lesson=aaf&exp=xyz', findLesson('aaf')!)).toBe('?lesson=aaf&exp=xyz');
    expect(experimentSearch('?backend=wasm', null)).toBe('?backend=wasm');
  });
});
