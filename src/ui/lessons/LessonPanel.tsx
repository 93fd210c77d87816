/**
 * The lesson panel (issue 16): the open lesson's step — what to watch, the live numbers its condition
 * reads (conditions.ts), and the recorded result, marked as such — with Back / Next, → / PageDown and
 * ← / PageUp, and presenter mode (large type, only the step's chart or control and the run's controls
 * shown). The step's target is highlighted by its data-testid. Without a lesson it lists the lessons.
 * No tensor maths and no lesson logic here: the words are lessons.ts's, the conditions conditions.ts's.
 */
import { useEffect, useRef, useState } from 'react';
import type { RunState } from '../playground/runState';
import { stepState, type StepState } from './conditions';
import { LESSONS, type Lesson } from './lessons';
import { searchWithLesson } from './lessonUrl';

export interface LessonPanelProps {
  lesson: Lesson | null;
  step: number;
  present: boolean;
  /** Seconds every gated step waits (the URL's lessonTimeout), or null for each step's own. */
  timeoutS: number | null;
  state: RunState | null;
  messages: string[];
  onStep: (step: number) => void;
  onPresent: (present: boolean) => void;
  /** Opens the lesson's recorded run in the gallery's view (null when the gallery has no such run). */
  onOpenRecorded: ((id: string) => void) | null;
}

const HIGHLIGHT = 'lesson-target';

/** Seconds the run has been training since `key` changed (counted only while it runs). */
function useTrainingSeconds(key: string, running: boolean): number {
  const [s, setS] = useState(0);
  const runningRef = useRef(running);
  runningRef.current = running;
  useEffect(() => {
    setS(0);
    const id = window.setInterval(() => {
      if (runningRef.current) setS((x) => x + 0.5);
    }, 500);
    return () => window.clearInterval(id);
  }, [key]);
  return s;
}

/** Adds the highlight class to the step's target (re-applied while it mounts later, e.g. a chart that appears). */
function useHighlight(target: string | null, present: boolean) {
  useEffect(() => {
    if (!target) return;
    let el: Element | null = null;
    let scrolled = false;
    const apply = () => {
      const now = document.querySelector(`[data-testid="${CSS.escape(target)}"]`);
      if (now !== el) {
        el?.classList.remove(HIGHLIGHT);
        el = now;
      }
      if (el && !el.classList.contains(HIGHLIGHT)) el.classList.add(HIGHLIGHT);
      if (el && !scrolled) {
        scrolled = true;
        el.scrollIntoView?.({ block: present ? 'start' : 'nearest', behavior: 'instant' as ScrollBehavior });
      }
    };
    apply();
    const id = window.setInterval(apply, 400);
    return () => {
      window.clearInterval(id);
      el?.classList.remove(HIGHLIGHT);
    };
  }, [target, present]);
}

export function LessonPanel(p: LessonPanelProps) {
  const { lesson, step, present, state } = p;
  const cur = lesson?.steps[step] ?? null;
  const key = `${lesson?.id ?? ''}#${step}`;
  const seconds = useTrainingSeconds(key, state?.status === 'running');
  // The first time a step's condition holds, its numbers are kept: the step says what it fired on.
  const latched = useRef<Record<string, string>>({});
  useEffect(() => {
    latched.current = {};
  }, [lesson?.id, state?.run, state?.source]);
  const timeout = p.timeoutS ?? cur?.timeoutS ?? 300;
  const st: StepState = cur ? stepState(cur.condition, state, seconds, timeout, latched.current[key]) : { kind: 'free' };
  if (st.kind === 'met' && !latched.current[key]) latched.current[key] = st.live;

  useHighlight(cur?.target ?? null, present);

  useEffect(() => {
    document.body.classList.toggle('presenting', present && !!lesson);
    return () => document.body.classList.remove('presenting');
  }, [present, lesson]);

  // → / PageDown: next step; ← / PageUp: back (never while typing in a field).
  const stepRef = useRef({ step, n: lesson?.steps.length ?? 0, onStep: p.onStep });
  stepRef.current = { step, n: lesson?.steps.length ?? 0, onStep: p.onStep };
  useEffect(() => {
    if (!lesson) return;
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (e.ctrlKey || e.metaKey || e.altKey || (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable))) return;
      const { step: s, n, onStep } = stepRef.current;
      if (e.key === 'ArrowRight' || e.key === 'PageDown') {
        e.preventDefault();
        if (s < n - 1) onStep(s + 1);
      } else if (e.key === 'ArrowLeft' || e.key === 'PageUp') {
        e.preventDefault();
        if (s > 0) onStep(s - 1);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [lesson]);

  const messages = p.messages.length > 0 && (
    <div className="notice notice-warn" role="alert" data-testid="lesson-url-message">
      {p.messages.join(' ')}
    </div>
  );

  if (!lesson || !cur) return messages || null;
  const recordedView = state?.source === 'imported';
  return (
    <>
      {messages}
      <section className="lesson" aria-label={`Lesson: ${lesson.title}`} data-testid="lesson-panel" data-lesson={lesson.id} data-step={step + 1}>
        <div className="lesson-head">
          <span className="lesson-kicker">
            Lesson · {lesson.title} · step <span data-testid="lesson-step-number">{step + 1}</span> of {lesson.steps.length}
          </span>
          <span className="lesson-nav">
            <button type="button" className="pg-btn" onClick={() => p.onStep(step - 1)} disabled={step === 0} aria-keyshortcuts="ArrowLeft PageUp" data-testid="lesson-back">
              ← Back
            </button>
            <button type="button" className="pg-btn pg-primary" onClick={() => p.onStep(step + 1)} disabled={step >= lesson.steps.length - 1} aria-keyshortcuts="ArrowRight PageDown" data-testid="lesson-next">
              Next →
            </button>
            <button type="button" className="pg-btn" onClick={() => p.onPresent(!present)} data-testid="lesson-present" aria-pressed={present}>
              {present ? 'Leave presenter mode' : 'Presenter mode'}
            </button>
          </span>
        </div>
        <h2 className="lesson-title" data-testid="lesson-step-title">
          {cur.title}
        </h2>
        <p className="lesson-say">{cur.say}</p>
        <StepStatus st={st} recordedView={recordedView} ifNotMet={cur.ifNotMet} />
        {cur.recorded && (
          <p className="lesson-recorded" data-testid="lesson-recorded">
            <strong>Recorded, not this run:</strong> {cur.recorded.replace(/^Recorded\s*/, '')}
          </p>
        )}
        {lesson.recordedRun && p.onOpenRecorded && step === lesson.steps.length - 1 && (
          <p className="lesson-foot">
            <button type="button" className="pg-link" onClick={() => p.onOpenRecorded!(lesson.recordedRun!)} data-testid="lesson-open-recorded">
              Open the recorded full-size run ({lesson.recordedRun})
            </button>
          </p>
        )}
        <p className="lesson-keys pg-muted">→ or PageDown: next step · ← or PageUp: back · Space: play / pause</p>
      </section>
    </>
  );
}

function StepStatus({ st, recordedView, ifNotMet }: { st: StepState; recordedView: boolean; ifNotMet?: string }) {
  const where = recordedView ? 'On the recorded run shown' : 'On this run';
  switch (st.kind) {
    case 'free':
      return null;
    case 'waiting':
      return (
        <p className="lesson-status lesson-waiting" data-testid="lesson-status" data-state="waiting" role="status">
          <strong>Waiting for the live run</strong> ({Math.floor(st.elapsedS)} s of training of up to {st.timeoutS} s): <span data-testid="lesson-live">{st.live}</span>.
        </p>
      );
    case 'met':
      return (
        <p className="lesson-status lesson-met" data-testid="lesson-status" data-state="met" role="status">
          <strong>{where}, now:</strong> <span data-testid="lesson-live">{st.live}</span>.
        </p>
      );
    case 'not-met': {
      const head =
        st.why === 'timeout'
          ? `${where} the effect has not appeared yet (after ${Math.floor(Math.min(st.elapsedS, st.timeoutS))} s of training)`
          : st.why === 'run-ended'
            ? `${where} the effect did not appear before the run ended`
            : 'This experiment cannot show this step';
      return (
        <p className="lesson-status lesson-not-met" data-testid="lesson-status" data-state="not-met" data-why={st.why} role="status">
          <strong>{head}:</strong> <span data-testid="lesson-live">{st.live}</span>.{ifNotMet && st.why !== 'uncheckable' ? ` Why that can happen: ${ifNotMet}` : ''}
        </p>
      );
    }
  }
}

/** The lessons, each as a link that opens it (and one that opens it in presenter mode). */
export function LessonList() {
  const base = () => {
    const q = new URLSearchParams(window.location.search);
    const keep = new URLSearchParams();
    const b = q.get('backend');
    if (b) keep.set('backend', b);
    return `?${keep.toString()}`;
  };
  return (
    <section className="pg-card lesson-list" aria-labelledby="lesson-list-h" data-testid="lesson-list">
      <div className="pg-card-head">
        <h2 id="lesson-list-h">Lessons</h2>
        <span className="pg-muted">short guided stories on a live run; each step points at one chart and waits for the effect on this run's own numbers</span>
      </div>
      <ul>
        {LESSONS.map((l) => (
          <li key={l.id}>
            <a href={searchWithLesson(base(), l.id, 0, false)} data-testid={`lesson-link-${l.id}`}>
              {l.title}
            </a>{' '}
            (<a href={searchWithLesson(base(), l.id, 0, true)}>present</a>) — <span className="pg-muted">{l.summary}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
