/**
 * Worker messages for the playground's experiments (configure, play, pause, step, reset,
 * export, import). Owned by the playground; unioned into protocol.ts.
 */
export type ExperimentRequest = never;
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ExperimentReplyMap {}
export type ExperimentEvent = never;
