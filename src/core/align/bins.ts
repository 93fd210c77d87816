/**
 * The diagnostics' fixed bins, in a module without tfjs so the page can import them too.
 * diagnostics.ts fills them; the report and the page's charts label them.
 */

/** Fixed bin edges for the histogram of `inside`. |inside| ≥ 5 means σ is saturated (σ(5) = 0.993). */
export const INSIDE_HIST_EDGES: readonly number[] = [-6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6];
/** Timestep buckets for implicit accuracy: [0,250), [250,500), [500,750), [750,1000). */
export const T_BUCKETS: readonly number[] = [0, 250, 500, 750, 1000];
