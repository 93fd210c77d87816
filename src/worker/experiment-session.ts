/**
 * The worker's experiment session: one `Experiment` (src/core/align/trainer.ts) at a time, driven
 * by the page's configure / play / pause / step / reset requests.
 *
 *  - Cancel token (style note 5): `playToken` is bumped by pause, step, reset and configure; a
 *    play loop whose token is stale exits before its next update. `run` is bumped by configure
 *    and reset, and every event carries it, so the page drops a stale run's events.
 *  - Every engine call is serialised through `queue`: an update is never interleaved with another
 *    update, a reset or a configure; pause waits for the update in flight and answers after its
 *    event was posted, so no update arrives after a pause's reply.
 *  - Records are posted once per update (one message for every arm); checkpoint evaluations with
 *    the sample images once per checkpoint, then the run is saved to IndexedDB.
 *  - Checkpoint records carry their own evaluations (per-image metrics and images); the session
 *    posts them as the checkpoint's ExpEvalImages and saves them with the run.
 *  - Resume after a reload: the engine is deterministic by seed, so the session rebuilds the run by
 *    replaying its updates (the saved evaluations, looked up by arm and update, are fed back
 *    instead of re-evaluating) and then loads each arm's saved policy weights, so the resumed
 *    policy is the saved checkpoint.
 */
import type { EvalResult, StepResult } from '../core/align/records';
import { Experiment, type Evaluator } from '../core/align/trainer';
import { sameConfig, type ExperimentConfig } from '../core/config';
import { loadIntoParams, saveSafetensors, type TensorEntry } from '../core/model/checkpoint';
import { commonPrefix } from '../core/model/layers';
import type { ReducedSD, Params } from '../core/model/sd';
import { promptText, type Pair, type Prompt } from '../core/world';
import type { WorkerEvent } from './protocol';
import type {
  ExpBaseEval,
  ExpBaseEvalInfo,
  ExpCheckpointRecord,
  ExpEvalImages,
  ExpSnapshot,
  ExpStatus,
  ExpStoredSummary,
  ExpUpdateRecord,
  Metrics,
} from './protocol-experiment';
import type { RunStore, StoredRun } from './experiment-store';
import { baseEvalKey, cachedBaseEval, EvaluationCutShort, type BaseEvalCacheStore } from '../core/eval/baseEvalCache';
import type { RewardFunctions } from '../core/eval/reward';

/** What the session needs from the rest of the worker: the shipped model, data and evaluator. */
export interface SessionAssets {
  base: ReducedSD;
  dataset: { train: Pair[]; validationUnique: Prompt[] };
  /** The evaluator; `onBatch` is awaited after every batch of images (progress; throwing stops it). */
  evaluate: (...a: [...Parameters<Evaluator>, onBatch?: (done: number, total: number) => void | Promise<void>]) => ReturnType<Evaluator>;
  /** The base model's and the scorers' identity (file hashes) for the base-evaluation cache; none: not cached. */
  identity?: { model: string; scorers: string };
  /** The reward functions of the reward-model arms (DDPO, D3PO), bound to the evaluation's scorers (core/eval/reward.ts). */
  rewards?: RewardFunctions;
}
export type AssetLoader = (config: ExperimentConfig, emit: (e: WorkerEvent) => void, progress: (stage: string, fraction: number) => void) => Promise<SessionAssets>;

export interface SessionOptions {
  loadAssets: AssetLoader;
  backend: () => string;
  /** Where runs are saved at every checkpoint (IndexedDB in the worker); none: nothing is saved. */
  store?: RunStore;
  /** Where the base model's evaluation is cached across configures and reloads (base-eval-store.ts). */
  baseCache?: BaseEvalCacheStore;
}

const clean = (m: Metrics | Record<string, number>): Metrics => ({ ...m });

export class ExperimentSession {
  private exp: Experiment | null = null;
  private config: ExperimentConfig | null = null;
  private run = 0;
  private playToken = 0;
  private status: ExpStatus = 'idle';
  private queue: Promise<unknown> = Promise.resolve();
  private records: ExpUpdateRecord[] = [];
  private checkpoints: ExpCheckpointRecord[] = [];
  private evals: ExpEvalImages[] = [];
  private halted: { arm: string; message: string }[] = [];
  private base: ExpBaseEval | null = null;
  private resumedFrom: number | null = null;
  /** Saved evaluations fed back while replaying a resumed run, by `evalKey` (base: arm null). */
  private replay = new Map<string, EvalResult>();
  /** What the page is told about the base's evaluation (computed, cached from a date, cut short). */
  private baseInfo: ExpBaseEvalInfo = { state: 'none' };
  /** The run whose base evaluation is in flight (Cut short applies to it), and the run asked to cut. */
  private baseRunning: number | null = null;
  private cutRun: number | null = null;

  private readonly store: RunStore | undefined;

  constructor(
    private readonly emit: (e: WorkerEvent) => void,
    private readonly opts: SessionOptions,
  ) {
    this.store = opts.store;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn, fn);
    this.queue = p.catch(() => undefined);
    return p;
  }

  private setStatus(status: ExpStatus, message?: string) {
    this.status = status;
    this.emit({ type: 'exp.status', run: this.run, status, update: this.exp?.updatesDone ?? 0, message });
  }

  private progress = (stage: string, fraction: number) => {
    this.emit({ type: 'exp.progress', run: this.run, stage, fraction });
  };

  /** Builds a fresh experiment (or resumes the saved one); answers everything the page shows. */
  configure(config: ExperimentConfig, resume = false): Promise<ExpSnapshot> {
    this.playToken++;
    const run = ++this.run;
    return this.serial(async () => {
      if (run !== this.run) throw new Error('superseded by a newer configuration');
      this.disposeExperiment();
      this.config = config;
      this.setStatus('loading');
      try {
        // Saved runs are kept per experiment (experiment-store.ts): opening this one never deletes another's.
        await this.store?.claim(config).catch(() => false);
        const saved = resume && this.store ? await this.store.loadRun(config).catch(() => null) : null;
        const stored = saved && sameConfig(saved.config, config) ? saved : null;
        await this.build(config, run, stored);
        if (run !== this.run) throw new Error('superseded by a newer configuration');
        this.setStatus(this.exp!.done ? 'done' : this.resumedFrom !== null ? 'paused' : 'ready');
        return this.snapshot();
      } catch (e) {
        if (run === this.run) this.setStatus('error', e instanceof Error ? e.message : String(e));
        throw e;
      }
    });
  }

  /** Same seed, same initial weights, same run again. */
  async reset(): Promise<ExpSnapshot> {
    if (!this.config) throw new Error('reset: no experiment is configured');
    await this.store?.deleteRun(this.config).catch(() => undefined);
    return this.configure(this.config, false);
  }

  /** Cuts the base model's evaluation in flight short: the run goes on without base figures. */
  cutBaseEval(): { cut: boolean } {
    if (this.baseRunning === null || this.baseRunning !== this.run) return { cut: false };
    this.cutRun = this.run;
    return { cut: true };
  }

  private makeEvaluator(assets: SessionAssets): Evaluator {
    const run = this.run;
    return async (model, prompts, o, subject) => {
      // A newer configure is waiting: stop before the (long) evaluation instead of finishing a dead run.
      if (run !== this.run && !this.exp) throw new Error('superseded by a newer configuration');
      const saved = this.replay.get(evalKey(subject));
      if (saved) {
        this.replay.delete(evalKey(subject));
        return saved;
      }
      const isBase = model.unet === assets.base.unet && !subject.final; // the final evaluation has its own prompts × noises
      if (!isBase) return assets.evaluate(model, prompts, o, subject);
      const id = assets.identity;
      const key = id ? baseEvalKey({ ...id, prompts: prompts.map((p) => promptText(p)), seed: o.seed, steps: o.steps, guidance: o.guidance, backend: this.opts.backend() }) : '';
      this.baseRunning = run;
      try {
        const { result, cachedAt } = await cachedBaseEval(id ? this.opts.baseCache : undefined, key, prompts.length, () =>
          Promise.resolve(assets.evaluate(model, prompts, o, subject, async (done, total) => {
            this.progress(`evaluating the base model: ${done} of ${total} images (Cut short to go on without it)`, done / total);
            await new Promise((r) => setTimeout(r, 0)); // lets a Cut short request in
            if (done < total && (this.cutRun === run || run !== this.run)) throw new EvaluationCutShort(done, total);
          })),
        );
        this.baseInfo = cachedAt !== null ? { state: 'cached', cachedAt } : { state: 'complete' };
        return result;
      } catch (e) {
        if (e instanceof EvaluationCutShort) this.baseInfo = { state: 'cut', done: e.done, total: e.total };
        throw e;
      } finally {
        this.baseRunning = null;
        if (this.cutRun === run) this.cutRun = null;
      }
    };
  }

  private async build(config: ExperimentConfig, run: number, stored: StoredRun | null) {
    this.records = [];
    this.checkpoints = [];
    this.evals = [];
    this.halted = [];
    this.base = null;
    this.baseInfo = { state: 'none' };
    this.replay = new Map();
    this.resumedFrom = null;
    const assets = await this.opts.loadAssets(config, this.emit, this.progress);
    if (run !== this.run) return;
    if (stored) {
      // The saved evaluations, by the model they are of: the base, then each arm at each checkpoint.
      const evals = new Map(stored.evals.map((e) => [evalKey(e), e]));
      if (stored.base) {
        this.replay.set(evalKey({ arm: null, update: 0 }), { mean: stored.base.metrics, perImage: stored.base.perImage, images: stored.base.images });
        this.baseInfo = { state: 'saved', savedAt: stored.savedAt };
      }
      for (const c of stored.checkpoints) {
        const e = evals.get(evalKey(c));
        if (e && c.metrics) this.replay.set(evalKey(c), { mean: c.metrics, perImage: e.perImage, images: e.images });
      }
    }
    const exp = await Experiment.create(config, assets.base, assets.dataset, {
      evaluate: this.makeEvaluator(assets),
      onProgress: this.progress,
      ...(assets.rewards ? { rewards: assets.rewards } : {}),
    });
    if (run !== this.run) {
      exp.dispose();
      return;
    }
    this.exp = exp;
    const b = exp.baseEval;
    if (b) this.base = { metrics: clean(b.mean), perImage: b.perImage.map(clean), images: b.images ?? [] };
    if (stored && stored.update > 0) {
      for (let u = 0; u < stored.update && !exp.done; u++) {
        this.progress(`resuming: replaying update ${u + 1} of ${stored.update} (same seed, same data, same noise)`, u / stored.update);
        const r = await exp.step();
        this.absorb(r, false);
        if (run !== this.run) return;
      }
      for (const arm of config.arms) {
        const bytes = stored.weights[arm.name];
        if (!bytes) continue;
        const params = exp.armParams(arm.name);
        loadIntoParams(params, bytes, commonPrefix(Object.keys(params)));
      }
      this.progress('resumed', 1);
      this.resumedFrom = exp.updatesDone;
    }
  }

  /** Takes in one step's result: records, halts, checkpoint evaluations (with their images). */
  private absorb(r: StepResult, post: boolean): { checkpoint: boolean } {
    const recs: ExpUpdateRecord[] = r.records.map((x) => ({ ...x }) as ExpUpdateRecord);
    this.records.push(...recs);
    if (post) this.emit({ type: 'exp.update', run: this.run, update: r.update, records: recs });
    for (const h of r.halted) {
      this.halted.push(h);
      if (post) this.emit({ type: 'exp.halted', run: this.run, arm: h.arm, message: h.message });
    }
    if (!r.checkpoints.length) return { checkpoint: false };
    const cps: ExpCheckpointRecord[] = [];
    const evs: ExpEvalImages[] = [];
    for (const c of r.checkpoints) {
      const { images, perImage, ...rest } = c;
      cps.push({ ...rest, metrics: c.metrics ? clean(c.metrics) : null, winRate: c.winRate ? clean(c.winRate) : null });
      evs.push({ arm: c.arm, update: c.update, images: images ?? [], perImage: perImage ? perImage.map(clean) : [] });
    }
    this.checkpoints.push(...cps);
    this.evals.push(...evs);
    if (post) this.emit({ type: 'exp.checkpoint', run: this.run, update: r.update, checkpoints: cps, evals: evs });
    return { checkpoint: true };
  }

  private async doStep(run: number): Promise<void> {
    const exp = this.exp;
    if (!exp || run !== this.run || exp.done) return;
    const u = exp.updatesDone + 1;
    const cfg = exp.config;
    const sampling = cfg.arms.some((a) => a.method === 'seppo');
    this.progress(`update ${u} of ${cfg.updates}: ${sampling ? `reference sampling (${cfg.refSteps} DDIM steps) and ` : ''}training, every arm`, 0);
    const r = await exp.step();
    if (run !== this.run) return;
    const { checkpoint } = this.absorb(r, true);
    this.progress(`update ${u}`, 1);
    if (checkpoint && this.store) {
      try {
        await this.save(exp, this.store);
        this.emit({ type: 'exp.saved', run, update: exp.updatesDone });
      } catch (e) {
        // A full disk or another tab writing this experiment: say so, and train on (the last save is intact).
        this.emit({ type: 'log', level: 'warn', message: e instanceof Error ? e.message : String(e) });
      }
    }
  }

  private async save(exp: Experiment, store: RunStore) {
    const weights: Record<string, Uint8Array> = {};
    for (const arm of exp.config.arms) {
      if (this.halted.some((h) => h.arm === arm.name)) continue;
      weights[arm.name] = await paramsToSafetensors(exp.armParams(arm.name), { arm: arm.name, update: String(exp.updatesDone) });
    }
    await store.saveRun({
      version: 1,
      config: exp.config,
      update: exp.updatesDone,
      base: this.base,
      records: this.records,
      checkpoints: this.checkpoints,
      evals: this.evals,
      halted: this.halted,
      weights,
      savedAt: Date.now(),
    });
  }

  play(): { status: ExpStatus; update: number } {
    if (!this.exp) throw new Error('play: the experiment is not ready yet');
    if (this.exp.done) return { status: 'done', update: this.exp.updatesDone };
    const token = ++this.playToken;
    const run = this.run;
    this.setStatus('running');
    void this.store?.savePlaying(this.exp.config, true).catch(() => undefined);
    void this.loop(token, run);
    return { status: 'running', update: this.exp.updatesDone };
  }

  private async loop(token: number, run: number) {
    try {
      while (token === this.playToken && run === this.run && this.exp && !this.exp.done) {
        await this.serial(() => (token === this.playToken ? this.doStep(run) : Promise.resolve()));
        // On WASM (and CPU) an update awaits only settled promises, so without this the worker's
        // message handler never runs between updates: Pause, Step and the page's other requests
        // would wait for the next checkpoint's IndexedDB write (issue 18).
        await new Promise((r) => setTimeout(r, 0));
      }
      if (token === this.playToken && run === this.run && this.exp?.done) {
        this.setStatus('done');
        void this.store?.savePlaying(this.exp.config, false).catch(() => undefined);
      }
    } catch (e) {
      if (run === this.run) this.setStatus('error', e instanceof Error ? e.message : String(e));
    }
  }

  async pause(): Promise<{ status: ExpStatus; update: number }> {
    this.playToken++;
    await this.serial(async () => undefined); // the update in flight has posted its records
    if (this.config) await this.store?.savePlaying(this.config, false).catch(() => undefined);
    if (this.exp && this.status === 'running') this.setStatus(this.exp.done ? 'done' : 'paused');
    return { status: this.status, update: this.exp?.updatesDone ?? 0 };
  }

  /** Exactly one update of every running arm (pauses a playing run first). */
  async step(): Promise<{ status: ExpStatus; update: number }> {
    if (!this.exp) throw new Error('step: the experiment is not ready yet');
    this.playToken++;
    const run = this.run;
    void this.store?.savePlaying(this.exp.config, false).catch(() => undefined);
    if (!this.exp.done) this.setStatus('running');
    await this.serial(() => this.doStep(run));
    if (run === this.run && this.exp) this.setStatus(this.exp.done ? 'done' : 'paused');
    return { status: this.status, update: this.exp?.updatesDone ?? 0 };
  }

  /** The arm's current policy UNet as .safetensors bytes. */
  async exportCheckpoint(arm: string): Promise<{ fileName: string; bytes: Uint8Array }> {
    const exp = this.exp;
    if (!exp) throw new Error('export: no experiment is running');
    const bytes = await this.serial(() => paramsToSafetensors(exp.armParams(arm), { arm, update: String(exp.updatesDone), format: 'reduced-sd unet' }));
    const safe = arm.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^_+|_+$/g, '') || 'arm';
    return { fileName: `${safe}-update${exp.updatesDone}.safetensors`, bytes };
  }

  /** The most recently saved run (the page resumes it when the URL names no experiment). */
  async stored(): Promise<ExpStoredSummary | null> {
    const r = this.store ? (await this.store.list().catch(() => []))[0] : undefined;
    if (!r) return null;
    return { config: r.config, update: r.update, playing: r.playing, savedAt: r.savedAt };
  }

  /** Deletes the saved run of the experiment configured now. */
  async forget(): Promise<{ ok: true }> {
    if (this.config) await this.store?.deleteRun(this.config);
    return { ok: true };
  }

  current(): ExpSnapshot | null {
    return this.config ? this.snapshot() : null;
  }

  snapshot(): ExpSnapshot {
    const exp = this.exp;
    return {
      run: this.run,
      config: this.config!,
      evalPrompts: exp ? exp.evalPrompts.map((p) => promptText(p)) : [],
      base: this.base,
      baseEval: this.baseInfo,
      update: exp?.updatesDone ?? 0,
      records: this.records,
      checkpoints: this.checkpoints,
      evals: this.evals,
      halted: this.halted,
      status: this.status,
      resumedFrom: this.resumedFrom,
    };
  }

  private disposeExperiment() {
    this.exp?.dispose();
    this.exp = null;
  }
}

/** The key of an evaluation: the base (arm null or '') or an arm at an update. */
function evalKey(s: { arm: string | null; update: number; final?: boolean; split?: string }): string {
  return (s.arm ? `${s.arm}@${s.update}` : 'base') + (s.final ? '/final' : '') + (s.split ? `/${s.split}` : '');
}

/** Reads every variable asynchronously (no dataSync on WebGPU) and packs safetensors bytes. */
export async function paramsToSafetensors(params: Params, meta: Record<string, string>): Promise<Uint8Array> {
  const names = Object.keys(params);
  const prefix = commonPrefix(names);
  const entries = new Map<string, TensorEntry>();
  for (const n of names) {
    const v = params[n];
    entries.set(n.slice(prefix.length + 1), { shape: v.shape.slice(), data: (await v.data()) as Float32Array });
  }
  return saveSafetensors(entries, meta);
}

