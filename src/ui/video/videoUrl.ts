/**
 * The Video view's URL state: `?view=video&vpreset=table3|video-smoke`. A bad value gives a clear
 * message and the default preset. Pure (no DOM, no tfjs).
 */
import { VIDEO_PRESET_NAMES, type VideoPresetName } from '../../core/video/config';

export const DEFAULT_VIDEO_PRESET: VideoPresetName = 'table3';

export function isVideoPreset(x: string): x is VideoPresetName {
  return (VIDEO_PRESET_NAMES as readonly string[]).includes(x);
}

/** The preset named by `vpreset` (the default when absent), with a message when the value is not a preset. */
export function videoPresetFromUrl(search: string): { preset: VideoPresetName; message: string | null } {
  const v = new URLSearchParams(search).get('vpreset');
  if (v === null) return { preset: DEFAULT_VIDEO_PRESET, message: null };
  if (isVideoPreset(v)) return { preset: v, message: null };
  const names = VIDEO_PRESET_NAMES.map((p) => `'${p}'`).join(' or ');
  return { preset: DEFAULT_VIDEO_PRESET, message: `The URL's vpreset=${JSON.stringify(v).slice(0, 60)} is not a video preset (expected ${names}); showing '${DEFAULT_VIDEO_PRESET}'.` };
}

/** The URL with `vpreset` set to the chosen preset (dropped for the default). */
export function withVideoPreset(href: string, preset: VideoPresetName): string {
  const url = new URL(href);
  if (preset === DEFAULT_VIDEO_PRESET) url.searchParams.delete('vpreset');
  else url.searchParams.set('vpreset', preset);
  return url.toString();
}
