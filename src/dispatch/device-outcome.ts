/** What the dispatcher concluded for one device, after retries and duplicate suppression. */
export type DeviceResult =
  | 'delivered'
  | 'rejected'
  | 'dropped'
  /** Failed in a way a later retry may fix: the request answers 502. */
  | 'temporary'
  /** The push service refused for a reason that is not the device's: 502 and a loud log. */
  | 'permanent'
  /** The app's inflight_request_limit was reached: the request answers 503. */
  | 'overloaded'
  /** The provider threw something unexpected: a bug, answered 500. */
  | 'bug';

export interface DispatchSummary {
  /** Pushkeys the homeserver must delete. */
  rejected: string[];
  results: DeviceResult[];
}
