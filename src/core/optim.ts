/**
 * Adam over one flat vector (issue 14, "Engine overhead and small kernels").
 *
 * tfjs's `tf.train.adam` updates each variable on its own: about 14 kernel calls per variable,
 * 1,418 a step for the UNet's 101 variables, most of them on tensors of a few hundred floats,
 * where tfjs's engine costs more than the kernel. `FlatAdam` keeps the first and second moments
 * of all variables in two flat vectors and runs Adam's element-wise maths once on the
 * concatenated gradient (Kingma & Ba 2015, Algorithm 1, in tfjs's exact formulation):
 *
 *   m ← β₁·m + (1 − β₁)·g        v ← β₂·v + (1 − β₂)·g²
 *   θ ← θ + (−lr)·( (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε) )
 *
 * Every operation is element-wise and performed in the same order, on the same float32 operands,
 * as tfjs's AdamOptimizer, so the weights it produces are **bit-identical** to tf.train.adam's
 * (tested on CPU and WASM). Only the step per variable (a slice of the flat step, added to the
 * variable) stays per variable.
 */
import * as tf from '@tensorflow/tfjs';

/** What the engine needs of an optimiser: one step from named gradients, a settable lr (warm-up), dispose. */
export interface StepOptimizer {
  learningRate: number;
  applyGradients(grads: tf.NamedTensorMap): void;
  dispose(): void;
}

export class FlatAdam implements StepOptimizer {
  learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  /** Variable names in the order of the first step; every later step must bring the same names. */
  private names: string[] | null = null;
  private sizes: number[] = [];
  private m: tf.Variable | null = null;
  private v: tf.Variable | null = null;
  private accBeta1: tf.Variable;
  private accBeta2: tf.Variable;

  constructor(learningRate: number, beta1 = 0.9, beta2 = 0.999, epsilon?: number) {
    if (!(learningRate >= 0) || !Number.isFinite(learningRate)) throw new Error(`FlatAdam: the learning rate must be a finite number ≥ 0, got ${learningRate}`);
    this.learningRate = learningRate;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.epsilon = epsilon ?? tf.backend().epsilon(); // tfjs's default, as tf.train.adam
    this.accBeta1 = tf.tidy(() => tf.scalar(beta1).variable(false));
    this.accBeta2 = tf.tidy(() => tf.scalar(beta2).variable(false));
  }

  /** The number of steps taken. */
  get iterations(): number {
    return Math.round(Math.log(this.accBeta1.dataSync()[0] / this.beta1) / Math.log(this.beta1));
  }

  applyGradients(grads: tf.NamedTensorMap): void {
    const names = Object.keys(grads);
    if (!this.names) {
      this.names = names;
      this.sizes = names.map((n) => this.variable(n).size);
      const total = this.sizes.reduce((a, b) => a + b, 0);
      this.m = tf.tidy(() => tf.zeros([total]).variable(false)); // tidy: .variable() leaves the zeros behind
      this.v = tf.tidy(() => tf.zeros([total]).variable(false));
    } else if (names.length !== this.names.length || names.some((n, i) => n !== this.names![i])) {
      throw new Error(`FlatAdam: a step must bring gradients for the same variables in the same order as the first (${this.names.length} variables, got ${names.length})`);
    }
    const m = this.m!, v = this.v!;
    tf.tidy(() => {
      const g = tf.concat(names.map((n) => tf.reshape(grads[n], [-1])));
      const oneMinusAccBeta1 = tf.sub(1, this.accBeta1);
      const oneMinusAccBeta2 = tf.sub(1, this.accBeta2);
      const newM = tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1));
      const newV = tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
      const mHat = tf.div(newM, oneMinusAccBeta1);
      const vHat = tf.div(newV, oneMinusAccBeta2);
      m.assign(newM);
      v.assign(newV);
      const step = tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), this.epsilon)), -this.learningRate);
      // One slice per variable. On WASM this needs backend.ts's Slice replacement: tfjs-wasm's own copies
      // the whole 455k-float step for every one of the 109 slices (213 ms of slices a step, measured; with
      // it the whole Adam step takes 27 ms against tf.train.adam's 51 ms, medians, 2-core machine at load 6).
      let offset = 0;
      names.forEach((n, i) => {
        const value = this.variable(n);
        value.assign(tf.add(tf.reshape(tf.slice(step, offset, this.sizes[i]), value.shape), value));
        offset += this.sizes[i];
      });
      this.accBeta1.assign(tf.mul(this.accBeta1, this.beta1));
      this.accBeta2.assign(tf.mul(this.accBeta2, this.beta2));
    });
  }

  dispose(): void {
    this.m?.dispose();
    this.v?.dispose();
    this.accBeta1.dispose();
    this.accBeta2.dispose();
    this.m = this.v = null;
  }

  private variable(name: string): tf.Variable {
    const value = tf.engine().registeredVariables[name];
    if (!value) throw new Error(`FlatAdam: no variable named '${name}'`);
    if (value.dtype !== 'float32') throw new Error(`FlatAdam: variable '${name}' is ${value.dtype}, only float32 is supported`);
    return value;
  }
}

let flatAdamOn = true;

/** `npm run bench -- --ab flat-adam` times steps with and without; the engine uses FlatAdam unless turned off. */
export function setFlatAdam(on: boolean): void {
  flatAdamOn = on;
}
export function flatAdamEnabled(): boolean {
  return flatAdamOn;
}

/** The engine's Adam: FlatAdam (bit-identical to tf.train.adam, fewer kernel calls) unless turned off. */
export function createAdam(learningRate: number): StepOptimizer {
  return flatAdamOn ? new FlatAdam(learningRate) : (tf.train.adam(learningRate) as unknown as StepOptimizer);
}
