/**
 * The lesson in the URL (issue 16), in the style of urlState.ts: `?lesson=<id>&step=<1-based>&present=1`
 * (and, for tests and rehearsals, `lessonTimeout=<seconds>` for every gated step). Pure: search in,
 * typed state and messages out; bad values name the problem and fall back (no lesson, step 1, not
 * presenting) without touching anything else in the URL.
 */
import { LESSONS, findLesson, type Lesson } from './lessons';

export const LESSON_PARAM = 'lesson';
export const STEP_PARAM = 'step';
export const PRESENT_PARAM = 'present';
export const TIMEOUT_PARAM = 'lessonTimeout';

export interface LessonUrl {
  lesson: Lesson | null;
  /** 0-based step index (the URL's is 1-based, as a teacher counts). */
  step: number;
  present: boolean;
  /** Seconds every gated step waits, overriding the lesson's (null: the lesson's own). */
  timeoutS: number | null;
  /** One readable line per bad value: what was wrong and what is used instead. */
  messages: string[];
}

export function lessonFromUrl(search: string): LessonUrl {
  const p = new URLSearchParams(search);
  const messages: string[] = [];
  let lesson: Lesson | null = null;
  const id = p.get(LESSON_PARAM);
  if (id !== null) {
    lesson = findLesson(id) ?? null;
    if (!lesson) messages.push(`Unknown lesson '${id}' in the URL; the lessons are ${LESSONS.map((l) => l.id).join(', ')}. No lesson is open.`);
  }
  let step = 0;
  const s = p.get(STEP_PARAM);
  if (s !== null && lesson) {
    const n = Number(s);
    if (!/^\d+$/.test(s.trim()) || !Number.isInteger(n)) messages.push(`Step '${s}' in the URL is not a whole number; the lesson starts at step 1.`);
    else if (n < 1 || n > lesson.steps.length) messages.push(`Step ${n} is out of range: lesson '${lesson.id}' has steps 1–${lesson.steps.length}. It starts at step 1.`);
    else step = n - 1;
  } else if (s !== null && id === null) messages.push(`The URL names step '${s}' but no lesson; add lesson=<id> (${LESSONS.map((l) => l.id).join(', ')}).`);
  let present = false;
  const pr = p.get(PRESENT_PARAM);
  if (pr !== null) {
    if (pr === '1' || pr === 'true' || pr === '') present = true;
    else if (pr !== '0' && pr !== 'false') messages.push(`present='${pr}' in the URL: expected 1 or 0; presenter mode is off.`);
    if (present && !lesson) {
      present = false;
      if (id === null) messages.push('Presenter mode needs a lesson (lesson=<id>); it is off.');
    }
  }
  let timeoutS: number | null = null;
  const t = p.get(TIMEOUT_PARAM);
  if (t !== null) {
    const n = Number(t);
    if (t.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 3600) messages.push(`${TIMEOUT_PARAM}='${t}' in the URL: expected seconds between 0 and 3600; each step's own time is used.`);
    else timeoutS = n;
  }
  return { lesson, step, present, timeoutS, messages };
}

/** `search` with the lesson, step and presenter flag set (null lesson: all three removed); other parameters kept. */
export function searchWithLesson(search: string, lesson: string | null, step: number, present: boolean): string {
  const p = new URLSearchParams(search);
  if (!lesson) {
    p.delete(LESSON_PARAM);
    p.delete(STEP_PARAM);
    p.delete(PRESENT_PARAM);
  } else {
    p.set(LESSON_PARAM, lesson);
    p.set(STEP_PARAM, String(step + 1));
    if (present) p.set(PRESENT_PARAM, '1');
    else p.delete(PRESENT_PARAM);
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

/** The search the playground reads its experiment from: a lesson with no experiment in the URL brings its preset. */
export function experimentSearch(search: string, lesson: Lesson | null): string {
  const p = new URLSearchParams(search);
  if (lesson && !p.has('exp') && !p.has('preset')) p.set('preset', lesson.preset);
  return `?${p.toString()}`;
}
