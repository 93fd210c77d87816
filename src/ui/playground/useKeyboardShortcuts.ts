/** The playground's keys: space play/pause, s step, r reset (never while typing in a field). */
import { useEffect } from 'react';

function isTyping(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  if (!el || !el.tagName) return false;
  const tag = el.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || el.isContentEditable;
}

export function useKeyboardShortcuts(onPlayPause: () => void, onStep: () => void, onReset: () => void): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey || isTyping(e.target)) return;
      if (e.key === ' ' || e.code === 'Space') {
        if ((e.target as HTMLElement | null)?.tagName === 'BUTTON') return; // the button's own click handles it
        e.preventDefault();
        onPlayPause();
      } else if (e.key === 's' || e.key === 'S') onStep();
      else if (e.key === 'r' || e.key === 'R') onReset();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onPlayPause, onStep, onReset]);
}
