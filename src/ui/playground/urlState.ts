/**
 * The whole experiment in the URL (style note 4): `?exp=<base64url JSON>` through config.ts's
 * codec, or `?preset=<name>` as a short hand. Bad input → a message naming the problem and the
 * defaults; never a throw. Pure (no DOM): the view passes location.search in and gets a search out.
 */
import {
  PRESET_NAMES,
  URL_PARAM,
  configFromSearch,
  encodeConfig,
  isPresetName,
  presetConfig,
  sameConfig as sameConfigOf,
  type ExperimentConfig,
} from '../../core/config';
import type { BackendName } from '../../core/backendNames';
import { pageLimitErrors } from '../../worker/browser-dataset';

export const PRESET_PARAM = 'preset';

/**
 * The default experiment: the teaching preset first-look on every backend (issue 13 point 6: its arms
 * separate earliest on the fast path without a GPU, WASM; sized for it, so no backend needs a smaller
 * copy). `backend` stays in the signature: the page asks per backend.
 */
export function defaultConfig(_backend: BackendName): ExperimentConfig {
  return presetConfig(DEFAULT_PRESET);
}

/** The page's default preset. */
export const DEFAULT_PRESET = 'first-look' satisfies (typeof PRESET_NAMES)[number];

export interface UrlConfig {
  config: ExperimentConfig;
  /** Where the config came from. */
  source: 'url' | 'preset' | 'default';
  /** Set when the URL was malformed or out of range: what was wrong, and that defaults are used. */
  message: string | null;
  /** The preset name when `source` is 'preset'. */
  preset: string | null;
}

export function configFromUrl(search: string, backend: BackendName): UrlConfig {
  const params = new URLSearchParams(search);
  const fallback = defaultConfig(backend);
  if (params.has(URL_PARAM)) {
    const r = configFromSearch(search)!;
    // Limits of the page's dataset are checked here, before anything loads.
    const errors = r.ok ? pageLimitErrors(r.config) : r.errors;
    if (r.ok && errors.length === 0) return { config: r.config, source: 'url', message: null, preset: null };
    return {
      config: fallback,
      source: 'default',
      preset: null,
      message: `The experiment in the URL could not be used, so the defaults are shown instead. ${errors.slice(0, 6).join('; ')}${errors.length > 6 ? `; … and ${errors.length - 6} more` : ''}`,
    };
  }
  const p = params.get(PRESET_PARAM);
  if (p !== null) {
    if (isPresetName(p)) return { config: presetConfig(p), source: 'preset', message: null, preset: p };
    return {
      config: fallback,
      source: 'default',
      preset: null,
      message: `Unknown preset '${p}' in the URL; expected one of ${PRESET_NAMES.join(', ')}. The defaults are shown instead.`,
    };
  }
  return { config: fallback, source: 'default', message: null, preset: null };
}

/** `search` with the experiment set to `config` (other parameters such as backend and view kept). */
export function searchWithConfig(search: string, config: ExperimentConfig): string {
  const params = new URLSearchParams(search);
  params.delete(PRESET_PARAM);
  params.set(URL_PARAM, encodeConfig(config));
  return `?${params.toString()}`;
}

/** Equal configurations, key order independent: the config's one canonical form (core/config.ts). */
export { sameConfig } from '../../core/config';

/** The preset a config equals, or 'custom'. */
export function matchPreset(c: ExperimentConfig): string {
  for (const p of PRESET_NAMES) if (sameConfigOf(presetConfig(p), c)) return p;
  return 'custom';
}
