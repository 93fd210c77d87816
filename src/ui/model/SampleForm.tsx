import { parsePrompt, PromptError } from '../../core/world/prompt';

export interface SampleSettings {
  prompt: string;
  seed: string;
  steps: string;
  guidance: string;
}

/** The form's problems, one message per field (empty when the form can be sent). */
export function checkSettings(s: SampleSettings): Partial<Record<keyof SampleSettings, string>> {
  const out: Partial<Record<keyof SampleSettings, string>> = {};
  try {
    parsePrompt(s.prompt);
  } catch (e) {
    out.prompt = e instanceof PromptError ? e.message : String(e);
  }
  const seed = Number(s.seed);
  if (s.seed.trim() === '' || !Number.isInteger(seed) || seed < 0 || seed > 2 ** 31 - 1) out.seed = `Seed must be a whole number from 0 to ${2 ** 31 - 1}.`;
  const steps = Number(s.steps);
  if (s.steps.trim() === '' || !Number.isInteger(steps) || steps < 1 || steps > 1000) out.steps = 'DDIM steps must be a whole number from 1 to 1000.';
  const g = Number(s.guidance);
  if (s.guidance.trim() === '' || !Number.isFinite(g) || g < 0 || g > 30) out.guidance = 'Guidance scale must be a number from 0 to 30.';
  return out;
}

/** Prompt, seed, DDIM steps and guidance, and the Sample button. Shows each field's problem. */
export function SampleForm({
  settings,
  onChange,
  onSample,
  busy,
  ready,
  problems,
  showPromptProblem,
}: {
  settings: SampleSettings;
  onChange: (s: SampleSettings) => void;
  onSample: () => void;
  busy: boolean;
  ready: boolean;
  problems: Partial<Record<keyof SampleSettings, string>>;
  showPromptProblem: boolean;
}) {
  const set = (k: keyof SampleSettings) => (e: React.ChangeEvent<HTMLInputElement>) => onChange({ ...settings, [k]: e.target.value });
  const numberProblems = (['seed', 'steps', 'guidance'] as const).map((k) => problems[k]).filter(Boolean);
  return (
    <form
      className="model-form"
      onSubmit={(e) => {
        e.preventDefault();
        onSample();
      }}
    >
      <label className="model-prompt-label">
        Prompt
        <input
          className="model-prompt"
          type="text"
          value={settings.prompt}
          onChange={set('prompt')}
          aria-invalid={!!problems.prompt && showPromptProblem}
          aria-describedby="model-prompt-help"
          spellCheck={false}
        />
      </label>
      <div className="model-knobs">
        <label>
          Seed
          <input type="number" min={0} step={1} value={settings.seed} onChange={set('seed')} aria-invalid={!!problems.seed} />
        </label>
        <label>
          DDIM steps
          <input type="number" min={1} max={1000} step={1} value={settings.steps} onChange={set('steps')} aria-invalid={!!problems.steps} />
        </label>
        <label>
          Guidance scale
          <input type="number" min={0} max={30} step={0.5} value={settings.guidance} onChange={set('guidance')} aria-invalid={!!problems.guidance} />
        </label>
        <button type="submit" className="model-sample-btn" disabled={busy || !ready}>
          {busy ? 'Sampling…' : 'Sample'}
        </button>
      </div>
      <p id="model-prompt-help" className="model-muted">
        Grammar: <code>a {'{small|medium|large}'} {'{colour}'} {'{shape}'} {'{on the left|on the right|in the center|at the top|at the bottom}'}, {'{dark|light}'} background</code>.
        Same seed, same settings → the same image. Steps and guidance start at the values the base model's quality was measured with;
        guidance 1 = no classifier-free guidance (the paper samples SD-1.5 at 7.5).
      </p>
      {problems.prompt && showPromptProblem && (
        <div className="notice notice-error" role="alert" data-testid="model-prompt-error">
          {problems.prompt}
        </div>
      )}
      {numberProblems.length > 0 && (
        <div className="notice notice-error" role="alert">
          {numberProblems.join(' ')}
        </div>
      )}
    </form>
  );
}
