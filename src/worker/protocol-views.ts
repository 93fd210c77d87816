/**
 * Worker messages for the Data and Model views (browse the dataset, load the base model, sample
 * it step by step, score images). Owned by the views; unioned into protocol.ts.
 */
export type ViewsRequest = never;
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ViewsReplyMap {}
export type ViewsEvent = never;

/** The `type` of every ViewsRequest (the worker routes by it). Keep in sync with ViewsRequest. */
export const VIEW_REQUEST_TYPES: readonly string[] = [];
